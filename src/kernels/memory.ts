/**
 * @file The memory-op WASM SIMD kernels (src/kernels/assembly/memory.ts), called with float32
 * buffers. Buffers on the kernel heap (a pooled training step's, a model's) are used in place;
 * others go through the heap's temporary blocks (see KernelHeap.in/out). Each function returns
 * false when the kernels are off (setKernels('ts')) or unavailable, and the op then runs its
 * TypeScript twin.
 */
import { activeHeap } from './wasm.js';

type F = Float32Array;

export interface ContentSaved {
  sim: F; den: F; nm2: F; dot: F; nk2: F;
}

export function contentForwardWasm(M: F, k: F, beta: F, w: F, s: ContentSaved, B: number, N: number, W: number): boolean {
  const h = activeHeap();
  if (!h) return false;
  h.k.contentForward(h.in(M), h.in(k), h.in(beta), h.out(w), h.out(s.sim), h.out(s.den), h.out(s.nm2), h.out(s.dot), h.out(s.nk2), B, N, W);
  h.done();
  return true;
}

export function contentBackwardWasm(M: F, k: F, beta: F, w: F, s: ContentSaved, gw: F, gM: F | null, gk: F | null, gbeta: F | null, B: number, N: number, W: number): boolean {
  const h = activeHeap();
  if (!h) return false;
  h.k.contentBackward(
    h.in(M), h.in(k), h.in(beta), h.in(w), h.in(s.sim), h.in(s.den), h.in(s.nm2), h.in(s.dot), h.in(s.nk2), h.in(gw),
    h.grad(gM, M.length), h.grad(gk, k.length), h.grad(gbeta, B), B, N, W,
  );
  h.done();
  return true;
}

export function readForwardWasm(M: F, w: F, r: F, B: number, N: number, W: number): boolean {
  const h = activeHeap();
  if (!h) return false;
  h.k.readForward(h.in(M), h.in(w), h.zeroed(r), B, N, W);
  h.done();
  return true;
}

export function readBackwardWasm(M: F, w: F, gr: F, gM: F | null, gw: F | null, B: number, N: number, W: number): boolean {
  const h = activeHeap();
  if (!h) return false;
  h.k.readBackward(h.in(M), h.in(w), h.in(gr), h.grad(gM, M.length), h.grad(gw, w.length), B, N, W);
  h.done();
  return true;
}

/** @param w [H·B·N] @param e [H·B·W] @param a [H·B·W] packed head-major */
export function writeForwardWasm(M: F, w: F, e: F, a: F, keep: F, out: F, H: number, B: number, N: number, W: number): boolean {
  const h = activeHeap();
  if (!h) return false;
  h.k.writeForward(h.in(M), h.in(w), h.in(e), h.in(a), h.out(keep), h.out(out), H, B, N, W);
  h.done();
  return true;
}

/** Gradients packed like the inputs; written (not added) into gw, ge, ga; gM is added into. */
export function writeBackwardWasm(M: F, w: F, e: F, a: F, keep: F, gy: F, gM: F | null, gw: F, ge: F, ga: F, H: number, B: number, N: number, W: number): boolean {
  const h = activeHeap();
  if (!h) return false;
  h.k.writeBackward(
    h.in(M), h.in(w), h.in(e), h.in(a), h.in(keep), h.in(gy), h.grad(gM, M.length), h.out(gw), h.zeroed(ge), h.zeroed(ga), H, B, N, W,
  );
  h.done();
  return true;
}

/** What locationForwardWasm saves for the backward pass: w_g, w~, w~^γ [B, N] and the sums [B]. */
export interface LocationSaved {
  wg: F; wt: F; p: F; sums: F;
}

/** NTM interpolate → shift → sharpen in one kernel. @param s [B, S] */
export function locationForwardWasm(wc: F, wp: F, g: F, s: F, gamma: F, saved: LocationSaved, w: F, B: number, N: number, S: number): boolean {
  const h = activeHeap();
  if (!h) return false;
  h.k.locationForward(h.in(wc), h.in(wp), h.in(g), h.in(s), h.in(gamma), h.out(saved.wg), h.out(saved.wt), h.out(saved.p), h.out(saved.sums), h.out(w), h.tmp(N + S), B, N, S);
  h.done();
  return true;
}

/** Gradients of locationForwardWasm, added to those given (null: not wanted). */
export function locationBackwardWasm(
  wc: F, wp: F, g: F, s: F, gamma: F, saved: LocationSaved, w: F, gw: F,
  gwc: F | null, gwp: F | null, gg: F | null, gs: F | null, ggamma: F | null, B: number, N: number, S: number,
): boolean {
  const h = activeHeap();
  if (!h) return false;
  const BN = B * N;
  h.k.locationBackward(
    h.in(wc), h.in(wp), h.in(g), h.in(s), h.in(gamma), h.in(saved.wg), h.in(saved.wt), h.in(saved.p), h.in(saved.sums), h.in(w), h.in(gw),
    h.grad(gwc, BN), h.grad(gwp, BN), h.grad(gg, B), h.grad(gs, B * S), h.grad(ggamma, B), h.tmp(BN), h.tmp(N + S), h.tmp(N + S), B, N, S,
  );
  h.done();
  return true;
}
