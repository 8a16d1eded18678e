/**
 * @file The memory-op WASM SIMD kernels (src/kernels/assembly/, one file per mechanism as in src/memory/), called with float32
 * buffers. Each runs on the heap it is given, the op's context's (OpContext.heap). Buffers on the
 * kernel heap (a pooled training step's, a model's) are used in place; others go through the
 * heap's temporary blocks (see KernelHeap.in/out). Each function returns false when given no heap
 * (the context runs the TypeScript twins), and the op then runs its twin.
 */
import type { KernelHeap } from './heap.js';

type F = Float32Array;

/**
 * The backward pass of an op whose forward pass ran on a kernel and saved what only the kernel
 * reads (location, links, linkage, allocation) runs on the kernel too: on its context's heap,
 * which the forward pass had.
 */
const BACKWARD_HEAP = 'a backward kernel ran without the kernel heap its forward pass used';

export interface ContentSaved<T = F> {
  sim: T; den: T; nm2: T; dot: T; nk2: T;
}

export function contentForwardWasm(h: KernelHeap | null, M: F, k: F, beta: F, w: F, s: ContentSaved, B: number, N: number, W: number): boolean {
  if (!h) return false;
  h.k.contentForward(h.in(M), h.in(k), h.in(beta), h.out(w), h.out(s.sim), h.out(s.den), h.out(s.nm2), h.out(s.dot), h.out(s.nk2), B, N, W);
  h.done();
  return true;
}

export function contentBackwardWasm(h: KernelHeap | null, M: F, k: F, beta: F, w: F, s: ContentSaved, gw: F, gM: F | null, gk: F | null, gbeta: F | null, B: number, N: number, W: number): boolean {
  if (!h) return false;
  h.k.contentBackward(
    h.in(M), h.in(k), h.in(beta), h.in(w), h.in(s.sim), h.in(s.den), h.in(s.nm2), h.in(s.dot), h.in(s.nk2), h.in(gw),
    h.grad(gM, M.length), h.grad(gk, k.length), h.grad(gbeta, B), h.tmp(2 * N), B, N, W,
  );
  h.done();
  return true;
}

export function readForwardWasm(h: KernelHeap | null, M: F, w: F, r: F, B: number, N: number, W: number): boolean {
  if (!h) return false;
  h.k.readForward(h.in(M), h.in(w), h.zeroed(r), B, N, W);
  h.done();
  return true;
}

export function readBackwardWasm(h: KernelHeap | null, M: F, w: F, gr: F, gM: F | null, gw: F | null, B: number, N: number, W: number): boolean {
  if (!h) return false;
  h.k.readBackward(h.in(M), h.in(w), h.in(gr), h.grad(gM, M.length), h.grad(gw, w.length), B, N, W);
  h.done();
  return true;
}

/**
 * @param w [H·B·N] @param e [H·B·W] @param a [H·B·W] packed head-major
 * @param keep where Π_h (1 − w_h e_hᵀ) goes for the backward pass; null with one head and W a
 * multiple of 4 (writeKeepsNoFactor), where the backward kernel recomputes it
 */
export function writeForwardWasm(h: KernelHeap | null, M: F, w: F, e: F, a: F, keep: F | null, out: F, H: number, B: number, N: number, W: number): boolean {
  if (!h) return false;
  h.k.writeForward(h.in(M), h.in(w), h.in(e), h.in(a), keep === null ? 0 : h.out(keep), h.out(out), H, B, N, W);
  h.done();
  return true;
}

/** True where the write kernels neither store nor need the erase factor `keep` (one head, W a multiple of 4). */
export function writeKeepsNoFactor(H: number, W: number): boolean {
  return H === 1 && W % 4 === 0;
}

/**
 * Gradients packed like the inputs, all added into (null: not wanted). keep: as writeForwardWasm
 * stored it (null where writeKeepsNoFactor). gMset: gM holds no gradient yet, not even zeros
 * (its first contribution): the kernel writes it.
 */
export function writeBackwardWasm(h: KernelHeap | null, M: F, w: F, e: F, a: F, keep: F | null, gy: F, gM: F | null, gw: F | null, ge: F | null, ga: F | null,
  H: number, B: number, N: number, W: number, gMset = false): boolean {
  if (!h) return false;
  const pgM = gM === null ? h.grad(null, M.length) : gMset ? h.out(gM) : h.inout(gM);
  h.k.writeBackward(
    h.in(M), h.in(w), h.in(e), h.in(a), keep === null ? 0 : h.in(keep), h.in(gy), pgM, h.grad(gw, H * B * N), h.grad(ge, H * B * W), h.grad(ga, H * B * W), H, B, N, W,
    gMset ? 1 : 0,
  );
  h.done();
  return true;
}

/** What locationForwardWasm saves for the backward pass: w_g, w~, w~^γ [B, N] and the sums [B]. */
export interface LocationSaved {
  wg: F; wt: F; p: F; sums: F;
}

/** NTM interpolate → shift → sharpen in one kernel. @param s [B, S] */
export function locationForwardWasm(h: KernelHeap | null, wc: F, wp: F, g: F, s: F, gamma: F, saved: LocationSaved, w: F, B: number, N: number, S: number): boolean {
  if (!h) return false;
  h.k.locationForward(h.in(wc), h.in(wp), h.in(g), h.in(s), h.in(gamma), h.out(saved.wg), h.out(saved.wt), h.out(saved.p), h.out(saved.sums), h.out(w), h.tmp(N + S), B, N, S);
  h.done();
  return true;
}

/** Gradients of locationForwardWasm, added to those given (null: not wanted). */
export function locationBackwardWasm(h: KernelHeap | null, wc: F, wp: F, g: F, s: F, gamma: F, saved: LocationSaved, w: F, gw: F,
  gwc: F | null, gwp: F | null, gg: F | null, gs: F | null, ggamma: F | null, B: number, N: number, S: number,
): boolean {
  if (!h) throw new Error(BACKWARD_HEAP);
  const BN = B * N;
  h.k.locationBackward(
    h.in(wc), h.in(wp), h.in(g), h.in(s), h.in(gamma), h.in(saved.wg), h.in(saved.wt), h.in(saved.p), h.in(saved.sums), h.in(w), h.in(gw),
    h.grad(gwc, BN), h.grad(gwp, BN), h.grad(gg, B), h.grad(gs, B * S), h.grad(ggamma, B), h.tmp(BN), h.tmp(N + S), h.tmp(N + S), B, N, S,
  );
  h.done();
  return true;
}

// --- the DNC kernels: per-head buffers go through pointer tables (see `at` in the kernels) ---

/**
 * A table of byte offsets (one per head) in a temporary block of this call, for kernels that
 * take a variable number of head buffers without packing them by copying. Call it after the
 * offsets are known: taking them (h.in, h.out, ...) may grow the memory.
 */
export function table(h: KernelHeap, offsets: readonly number[]): number {
  const t = h.tmp(Math.max(offsets.length, 1));
  const write = (): void => {
    const v = h.i32, at = t >>> 2;
    for (let i = 0; i < offsets.length; i++) v[at + i] = offsets[i]!; // a loop: TypedArray.set is slow on shared memory
  };
  write();
  h.replayScratch(write); // a recorded step's scratch is shared with other recorded steps: written again after another ran
  return t;
}

/**
 * DNC temporal reads of R read heads from one link matrix, L read once (twin: followLinksBoth
 * per head). @param L [B, N, N]  @param w, fw, bk R buffers each [B, N]; fw and bk are overwritten
 */
export function linksForwardWasm(h: KernelHeap | null, L: F, w: readonly F[], fw: readonly F[], bk: readonly F[], B: number, N: number): boolean {
  if (!h) return false;
  const pL = h.in(L);
  const pw = w.map((x) => h.in(x)), pf = fw.map((x) => h.out(x)), pb = bk.map((x) => h.zeroed(x));
  h.k.linksForward(pL, table(h, pw), table(h, pf), table(h, pb), w.length, B, N);
  h.done();
  return true;
}

/**
 * Gradients of linksForwardWasm, added to gL and each gw[r] (null: not wanted). An absent
 * output gradient (that direction or head unused) reads as zeros.
 */
export function linksBackwardWasm(h: KernelHeap | null, L: F, w: readonly F[], gf: readonly (F | null)[], gb: readonly (F | null)[], gL: F | null, gw: readonly (F | null)[], B: number, N: number,
): boolean {
  if (!h) throw new Error(BACKWARD_HEAP);
  const BN = B * N;
  const wantW = gw.some((g) => g !== null);
  const grad = (g: F | null): number => (g ? h.in(g) : h.grad(null, BN));
  const pL = h.in(L), pgL = gL ? h.inout(gL) : 0;
  const pw = w.map((x) => h.in(x)), pgf = gf.map(grad), pgb = gb.map(grad);
  const pgw = wantW ? gw.map((g) => h.grad(g, BN)) : [];
  h.k.linksBackward(pL, table(h, pw), table(h, pgf), table(h, pgb), pgL, table(h, pgw), gL ? 1 : 0, wantW ? 1 : 0, w.length, B, N);
  h.done();
  return true;
}

/** DNC link and precedence update of one write head; Lo, po and keep (1 − Σ w [B]) are overwritten. */
export function linkageForwardWasm(h: KernelHeap | null, L: F, p: F, w: F, Lo: F, po: F, keep: F, B: number, N: number): boolean {
  if (!h) return false;
  h.k.linkageForward(h.in(L), h.in(p), h.in(w), h.out(Lo), h.out(po), h.out(keep), B, N);
  h.done();
  return true;
}

/** Gradients of linkageForwardWasm, added to gL, gp, gw (null: not wanted); absent gLo, gpo read as zeros. */
export function linkageBackwardWasm(h: KernelHeap | null, L: F, p: F, w: F, keep: F, gLo: F | null, gpo: F | null, gL: F | null, gp: F | null, gw: F | null, B: number, N: number,
): boolean {
  if (!h) throw new Error(BACKWARD_HEAP);
  const BN = B * N;
  h.k.linkageBackward(
    h.in(L), h.in(p), h.in(w), h.in(keep), gLo ? h.in(gLo) : h.grad(null, L.length), gpo ? h.in(gpo) : h.grad(null, BN),
    gL ? h.inout(gL) : 0, h.grad(gp, BN), h.grad(gw, BN), h.tmp(N), gL ? 1 : 0, B, N,
  );
  h.done();
  return true;
}

/** What usageForwardWasm saves for the backward pass: Π_h (1 − w^w_h), the usage after the writes, ψ [B, N]. */
export interface UsageSaved<T = F> {
  notWritten: T; afterWrite: T; psi: T;
}

/**
 * DNC usage update; the saved buffers and out are overwritten.
 * @param ww per write head [B, N]  @param fg free gates per read head [B]  @param wr per read head [B, N]
 */
export function usageForwardWasm(h: KernelHeap | null, u: F, ww: readonly F[], fg: readonly F[], wr: readonly F[], saved: UsageSaved, out: F, B: number, N: number): boolean {
  if (!h) return false;
  const pu = h.in(u), pww = ww.map((x) => h.in(x)), pfg = fg.map((x) => h.in(x)), pwr = wr.map((x) => h.in(x));
  h.k.usageForward(
    pu, table(h, pww), table(h, pfg), table(h, pwr), h.out(saved.notWritten), h.out(saved.afterWrite), h.out(saved.psi), h.out(out),
    ww.length, wr.length, B, N,
  );
  h.done();
  return true;
}

/**
 * Gradients of usageForwardWasm, added to those given (null: not wanted). gww is null when the
 * write weights' gradient is stopped, else one entry (or null) per write head.
 */
export function usageBackwardWasm(h: KernelHeap | null, u: F, ww: readonly F[], fg: readonly F[], wr: readonly F[], saved: UsageSaved, gy: F,
  gu: F | null, gww: readonly (F | null)[] | null, gfg: readonly (F | null)[], gwr: readonly (F | null)[], B: number, N: number,
): boolean {
  if (!h) return false;
  const BN = B * N;
  const pu = h.in(u), pww = ww.map((x) => h.in(x)), pfg = fg.map((x) => h.in(x)), pwr = wr.map((x) => h.in(x));
  const pP = h.in(saved.notWritten), pA = h.in(saved.afterWrite), ppsi = h.in(saved.psi), pgy = h.in(gy);
  const pgu = gu ? h.inout(gu) : 0;
  const pgww = gww ? gww.map((g) => h.grad(g, BN)) : [];
  const pgfg = gfg.map((g) => h.grad(g, B)), pgwr = gwr.map((g) => h.grad(g, BN));
  h.k.usageBackward(
    pu, table(h, pww), table(h, pfg), table(h, pwr), pP, pA, ppsi, pgy,
    pgu, table(h, pgww), table(h, pgfg), table(h, pgwr), gu ? 1 : 0, gww ? 1 : 0, ww.length, wr.length, B, N,
  );
  h.done();
  return true;
}

/**
 * What allocationForwardWasm saves for the backward pass, each [B, N]: û, φ per row (int32
 * slot indices in a float32 buffer, read only by the kernels) and the prefix products.
 */
export interface AllocationSaved {
  hat: F; order: F; prefix: F;
}

/** Allocation weights of one write head from usage u [B, N]; a and the saved buffers are overwritten. */
export function allocationForwardWasm(h: KernelHeap | null, u: F, saved: AllocationSaved, a: F, B: number, N: number): boolean {
  if (!h) return false;
  h.k.allocationForward(h.in(u), h.out(saved.hat), h.out(saved.order), h.out(saved.prefix), h.out(a), B, N);
  h.done();
  return true;
}

/** Gradient of allocationForwardWasm for ga, added to gu. */
export function allocationBackwardWasm(h: KernelHeap | null, saved: AllocationSaved, ga: F, gu: F, B: number, N: number): boolean {
  if (!h) throw new Error(BACKWARD_HEAP);
  h.k.allocationBackward(h.in(saved.hat), h.in(saved.order), h.in(saved.prefix), h.in(ga), h.inout(gu), B, N);
  h.done();
  return true;
}

/** DNC read weighting, one read head: out [B,N] = Σ_m π[b,m]·src_m (out overwritten). */
export function readWeightingForwardWasm(h: KernelHeap | null, src: readonly F[], pi: F, out: F, B: number, N: number): boolean {
  if (!h) return false;
  const ps = src.map((s) => h.in(s));
  const ppi = h.in(pi), po = h.out(out);
  h.k.readWeightingForward(table(h, ps), src.length, ppi, po, B, N);
  h.done();
  return true;
}

/** Its gradients, added into gsrc[m] (null: not wanted) and gpi (null: not wanted). */
export function readWeightingBackwardWasm(h: KernelHeap | null, src: readonly F[], pi: F, gy: F, gsrc: readonly (F | null)[], gpi: F | null, B: number, N: number): boolean {
  if (!h) return false;
  const ps = src.map((s) => h.in(s));
  const pg = gsrc.map((g) => (g === null ? 0 : h.inout(g)));
  const ppi = h.in(pi), pgy = h.in(gy), pgpi = gpi === null ? 0 : h.inout(gpi);
  h.k.readWeightingBackward(table(h, ps), src.length, ppi, pgy, table(h, pg), pgpi, B, N);
  h.done();
  return true;
}

/** DNC write weighting (memory/write-weighting.ts) into out. */
export function writeWeightingForwardWasm(h: KernelHeap | null, a: F, c: F, ga: F, gw: F, out: F, B: number, N: number): boolean {
  if (!h) return false;
  const pa = h.in(a), pc = h.in(c), pga = h.in(ga), pgw = h.in(gw), po = h.out(out);
  h.k.writeWeightingForward(pa, pc, pga, pgw, po, B, N);
  h.done();
  return true;
}

/** Its gradients, added into da, dc, dga, dgw (null: not wanted). */
export function writeWeightingBackwardWasm(h: KernelHeap | null, a: F, c: F, ga: F, gw: F, gy: F, da: F | null, dc: F | null, dga: F | null, dgw: F | null, B: number, N: number): boolean {
  if (!h) return false;
  const pa = h.in(a), pc = h.in(c), pga = h.in(ga), pgw = h.in(gw), pgy = h.in(gy);
  const at = (g: F | null): number => (g === null ? 0 : h.inout(g));
  const pda = at(da), pdc = at(dc), pdga = at(dga), pdgw = at(dgw);
  h.k.writeWeightingBackward(pa, pc, pga, pgw, pgy, pda, pdc, pdga, pdgw, B, N);
  h.done();
  return true;
}
