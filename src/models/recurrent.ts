/**
 * @file What the NTM and the DNC share: the initial controller and access state of SPEC §2
 * and the loop that runs a step function over a padded batch.
 */
import type { ModelConfig } from '../config/schema.js';
import { alloc, replayJs, Tensor, type DType } from '../tensor/tensor.js';
import type { StepObserver } from './model.js';

/** Initial memory and read vectors (SPEC §2): a small constant, the start Collier & Beel found to train fastest. */
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

/** h, c = 0; M = 1e-6; r = 1e-6; every previous weighting one-hot on slot 0. */
export function initialAccessState(cfg: ModelConfig, B: number, dt: DType): AccessState {
  const { hiddenSize: H, memorySlots: N, wordSize: W, readHeads: R, writeHeads: Wh } = cfg;
  const oneHot = (): Tensor => {
    const w = Tensor.zeros([B, N], dt);
    const set = (): void => {
      for (let b = 0; b < B; b++) w.data[b * N] = 1;
    };
    set();
    replayJs(set);
    return w;
  };
  return {
    h: Tensor.zeros([B, H], dt),
    c: Tensor.zeros([B, H], dt),
    memory: Tensor.full([B, N, W], MEMORY_INIT, dt),
    reads: Array.from({ length: R }, () => Tensor.full([B, W], MEMORY_INIT, dt)),
    readWeights: Array.from({ length: R }, oneHot),
    writeWeights: Array.from({ length: Wh }, oneHot),
  };
}

/**
 * Runs `step` over every time step of x [T, B, X] from `state`, in `dt`.
 * @returns the logits of every step, T tensors of [B, Y]
 */
export function runSequence<S>(
  name: string,
  step: (state: S, x: Tensor, t: number, observer?: StepObserver) => { state: S; logits: Tensor },
  state: S, input: Float32Array | Float64Array, T: number, B: number, X: number, dt: DType, observer?: StepObserver,
): Tensor[] {
  if (input.length !== T * B * X) throw new Error(`${name}.forward: input has ${input.length} values, expected T·B·X = ${T}·${B}·${X}`);
  const out: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    const xd = alloc(dt, B * X);
    xd.set(input.subarray(t * B * X, (t + 1) * B * X));
    replayJs((batch) => {
      const src = batch.input, o = t * B * X; // a loop, not subarray: a replayed step makes no objects
      for (let i = 0; i < B * X; i++) xd[i] = src[o + i]!;
    });
    const r = step(state, new Tensor(xd, [B, X]), t, observer);
    state = r.state;
    out.push(r.logits);
  }
  return out;
}
