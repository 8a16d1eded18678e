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

/** The kernel's table of (kind, width) per part, written straight into a temporary block of this call (as memory.ts `table`). */
function spec(h: KernelHeap, parts: readonly Part[]): number {
  const t = h.tmp(Math.max(2 * parts.length, 1));
  const write = (): void => {
    const v = h.i32, at = t >>> 2;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      v[at + 2 * i] = CODES[p.activation];
      v[at + 2 * i + 1] = p.size;
    }
  };
  write();
  h.replayScratch(write); // (as table's)
  return t;
}

/** outs[i] [B, parts[i].size] = activation of x's columns of part i; x [B, K]. */
export function activateForwardWasm(h: KernelHeap | null, x: F, K: number, B: number, parts: readonly Part[], outs: readonly F[]): boolean {
  if (!h) return false;
  const px = h.in(x);
  const po = outs.map((o) => h.out(o));
  h.k.activateForward(px, K, B, spec(h, parts), parts.length, table(h, po));
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
  h.k.activateBackward(px, K, B, spec(h, parts), parts.length, table(h, po), table(h, pg), pgx);
  h.done();
  return true;
}
