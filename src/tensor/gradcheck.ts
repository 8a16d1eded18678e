/**
 * @file Finite-difference gradient check: central differences in float64 against the
 * tape's analytic gradients. Every op and model test uses it.
 */
import { Rng } from './random.js';
import { Tensor } from './tensor.js';
import { OpContext } from './context.js';
import { onTape, Tape } from './tape.js';

export interface GradcheckOptions {
  /** Central-difference step. */
  eps?: number;
  /** Pass when |analytic − numeric| ≤ atol + rtol·|numeric|. */
  atol?: number;
  rtol?: number;
  /** Check at most this many randomly chosen elements per input (all when omitted). */
  maxPerInput?: number;
  seed?: number;
}

export interface GradcheckResult {
  ok: boolean;
  checked: number;
  maxAbsErr: number;
  /** The worst element, for the failure message. */
  worst: string;
}

/**
 * @param f builds a scalar loss from `inputs` in the context it is given (for a model's forward
 * pass): called once in one with a tape (onTape, the inputs in it too) and twice per checked
 * element in the plain one
 * @param inputs float64 tensors that require gradients
 */
export function gradcheck(f: (ctx: OpContext) => Tensor, inputs: readonly Tensor[], opts: GradcheckOptions = {}): GradcheckResult {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-7;
  const rtol = opts.rtol ?? 1e-5;
  for (const x of inputs) {
    if (x.dtype !== 'f64') throw new Error('gradcheck: inputs must be float64 tensors');
    if (!x.requiresGrad) throw new Error('gradcheck: inputs must require gradients');
    x.grad = null;
  }
  const tape = new Tape();
  const loss = onTape(tape, inputs, f);
  tape.backward(loss);
  const analytic = inputs.map((x) => Float64Array.from(x.grad ?? new Float64Array(x.size)));

  const rng = new Rng(opts.seed ?? 7, 'gradcheck');
  let checked = 0;
  let maxAbsErr = 0;
  let worstScore = -Infinity;
  let worst = '';
  let ok = true;
  inputs.forEach((x, xi) => {
    const idx = pickIndices(x.size, opts.maxPerInput, rng);
    for (const i of idx) {
      const orig = x.data[i]!;
      x.data[i] = orig + eps;
      const up = f(OpContext.plain).data[0]!;
      x.data[i] = orig - eps;
      const down = f(OpContext.plain).data[0]!;
      x.data[i] = orig;
      const numeric = (up - down) / (2 * eps);
      const a = analytic[xi]![i]!;
      const err = Math.abs(a - numeric);
      const tol = atol + rtol * Math.abs(numeric);
      checked++;
      maxAbsErr = Math.max(maxAbsErr, err);
      if (!(err <= tol)) ok = false;
      const score = err - tol;
      if (score > worstScore || Number.isNaN(err)) {
        worstScore = Number.isNaN(err) ? Infinity : score;
        worst = `input ${xi} [${x.shape.join(', ')}] element ${i}: analytic ${a}, numeric ${numeric}`;
      }
    }
  });
  return { ok, checked, maxAbsErr, worst };
}

function pickIndices(n: number, max: number | undefined, rng: Rng): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  if (max === undefined || max >= n) return all;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, max);
}

/** A float64 tensor of standard-normal values scaled by `scale`, requiring gradients. */
export function randomParam(shape: readonly number[], rng: Rng, scale = 1): Tensor {
  const t = Tensor.zeros(shape, 'f64', true);
  for (let i = 0; i < t.size; i++) t.data[i] = scale * rng.normal();
  return t;
}

/** Random probe weights for `weightedSum`, so every output element matters to the loss. */
export function probeWeights(n: number, rng: Rng): Float64Array {
  const c = new Float64Array(n);
  for (let i = 0; i < n; i++) c[i] = rng.normal();
  return c;
}
