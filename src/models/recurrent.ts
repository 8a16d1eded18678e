/**
 * @file What the NTM and the DNC share: the initial controller and access state (docs/model.md)
 * and the loop that runs a step function over a padded batch.
 */
import type { ModelConfig } from '../config/schema.js';
import { firstRows } from '../tensor/ops.js';
import { Tensor, type DType } from '../tensor/tensor.js';
import type { OpContext } from '../tensor/context.js';
import type { StepObserver } from './model.js';

/** Initial memory and read vectors: a small constant, the start Collier & Beel found to train fastest. */
export const MEMORY_INIT = 1e-6;

/** The state both models start every sequence from. */
export interface AccessState {
  readonly h: Tensor; // [B, H]
  readonly c: Tensor; // [B, H]
  readonly memory: Tensor; // M [B, N, W]
  readonly reads: readonly Tensor[]; // r per read head [B, W]
  readonly readWeights: readonly Tensor[]; // w^r_{t−1} per read head [B, N]
  readonly writeWeights: readonly Tensor[]; // w^w_{t−1} per write head [B, N]
}

/** h, c = 0; M = 1e-6; r = 1e-6; every previous weighting one-hot on slot 0; made in `ctx`. */
export function initialAccessState(ctx: OpContext, cfg: ModelConfig, B: number, dt: DType): AccessState {
  const { hiddenSize: H, memorySlots: N, wordSize: W, readHeads: R, writeHeads: Wh } = cfg;
  const oneHot = (): Tensor => {
    const w = Tensor.zeros([B, N], dt, false, ctx);
    const set = (): void => {
      for (let b = 0; b < B; b++) w.data[b * N] = 1;
    };
    set();
    ctx.replayJs(set);
    return w;
  };
  return {
    h: Tensor.zeros([B, H], dt, false, ctx),
    c: Tensor.zeros([B, H], dt, false, ctx),
    memory: Tensor.full([B, N, W], MEMORY_INIT, dt, ctx),
    reads: Array.from({ length: R }, () => Tensor.full([B, W], MEMORY_INIT, dt, ctx)),
    readWeights: Array.from({ length: R }, oneHot),
    writeWeights: Array.from({ length: Wh }, oneHot),
  };
}

/**
 * Every tensor of `state` (a field, or in an array field) cut to its first n rows (firstRows:
 * views, no copies); other fields as they are.
 */
export function keepRows<S extends object>(state: S, n: number): S {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(state)) {
    out[k] = v instanceof Tensor ? firstRows(v, n) : Array.isArray(v) ? v.map((e: unknown) => (e instanceof Tensor ? firstRows(e, n) : e)) : v;
  }
  return out as S;
}

/**
 * Checks a `rows` schedule for runSequence: T whole numbers from 1 to B, none above the one before.
 * @throws naming the first entry that is not
 */
export function checkRows(name: string, rows: ArrayLike<number>, T: number, B: number): void {
  if (rows.length < T) throw new Error(`${name}.forward: rows has ${rows.length} entries for T=${T} time steps`);
  for (let t = 0; t < T; t++) {
    const n = rows[t]!, prev = t === 0 ? B : rows[t - 1]!;
    if (!(Number.isInteger(n) && n >= 1 && n <= prev)) {
      throw new Error(`${name}.forward: rows[${t}] = ${n}; each must be a whole number from 1 to the one before (and to B=${B})`);
    }
  }
}

/**
 * Runs `step` over every time step of x [T, B, X] from `state`, in `dt`, each x_t made in `ctx`.
 * @param rows when given, the batch drops its finished samples as it goes: step t runs only the
 * first rows[t] samples (nonincreasing, ≤ B; see checkRows), the state cut to them (keepRows)
 * @returns the logits of every step, T tensors of [B, Y] ([rows[t], Y] with rows)
 */
export function runSequence<S extends object>(
  name: string,
  step: (state: S, x: Tensor, t: number, observer?: StepObserver) => { state: S; logits: Tensor },
  state: S, ctx: OpContext, input: Float32Array | Float64Array, T: number, B: number, X: number, dt: DType, observer?: StepObserver,
  rows?: ArrayLike<number>,
): Tensor[] {
  if (input.length !== T * B * X) throw new Error(`${name}.forward: input has ${input.length} values, expected T·B·X = ${T}·${B}·${X}`);
  if (rows !== undefined) checkRows(name, rows, T, B);
  const out: Tensor[] = [];
  let n = B;
  for (let t = 0; t < T; t++) {
    if (rows !== undefined && rows[t]! < n) state = keepRows(state, (n = rows[t]!));
    const m = n, o = t * B * X; // x_t's first m rows (m, not n, for the closure)
    const xd = ctx.alloc(dt, m * X);
    xd.set(input.subarray(o, o + m * X));
    ctx.replayJs((batch) => {
      const src = batch.input; // a loop, not subarray: a replayed step makes no objects
      for (let i = 0; i < m * X; i++) xd[i] = src[o + i]!;
    });
    const r = step(state, new Tensor(xd, [m, X], false, ctx), t, observer);
    state = r.state;
    out.push(r.logits);
  }
  return out;
}
