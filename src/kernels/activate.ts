/**
 * @file splitActivate on the WASM SIMD kernels (src/kernels/assembly/activate.ts): every part's
 * activation of a [B, K] tensor in one call, forward and backward. The TypeScript twin is the
 * loop in splitActivate (src/nn/columns.ts); each runs on the heap it is given (the op's context's)
 * and returns false when given none.
 */
import type { PartActivation } from '../tensor/ops.js';
import { table } from './memory.js';
import { ACT_IDENTITY, ACT_ONEPLUS, ACT_SIGMOID, ACT_SOFTMAX, ACT_SOFTPLUS, ACT_TANH } from './constants.js';
import type { KernelHeap } from './heap.js';

type F = Float32Array;

/** The kernel's number for each activation. */
const CODES: Record<PartActivation, number> = {
  identity: ACT_IDENTITY, sigmoid: ACT_SIGMOID, tanh: ACT_TANH, softplus: ACT_SOFTPLUS, oneplus: ACT_ONEPLUS, softmax: ACT_SOFTMAX,
};

export interface Part {
  readonly size: number;
  readonly activation: PartActivation;
}

/** (kind, width) per part, made once per parts list (a model's head layout). */
const specs = new WeakMap<readonly Part[], number[]>();

function spec(parts: readonly Part[]): number[] {
  let s = specs.get(parts);
  if (s === undefined) {
    s = parts.flatMap((p) => [CODES[p.activation], p.size]);
    specs.set(parts, s);
  }
  return s;
}

/** outs[i] [B, parts[i].size] = activation of x's columns of part i; x [B, K]. */
export function activateForwardWasm(h: KernelHeap | null, x: F, K: number, B: number, parts: readonly Part[], outs: readonly F[]): boolean {
  if (!h) return false;
  const px = h.in(x);
  const po = outs.map((o) => h.out(o));
  h.k.activateForward(px, K, B, table(h, spec(parts)), parts.length, table(h, po));
  h.done();
  return true;
}

/** Adds into gx [B, K] the gradient through each part with an output gradient (null: none). */
export function activateBackwardWasm(h: KernelHeap | null, x: F, K: number, B: number, parts: readonly Part[], outs: readonly F[], gouts: readonly (F | null)[], gx: F): boolean {
  if (!h) return false;
  const px = h.in(x);
  const po = outs.map((o) => h.in(o));
  const pg = gouts.map((g) => (g === null ? 0 : h.in(g)));
  const pgx = h.inout(gx);
  h.k.activateBackward(px, K, B, table(h, spec(parts)), parts.length, table(h, po), table(h, pg), pgx);
  h.done();
  return true;
}
