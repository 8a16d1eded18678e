/**
 * @file Following the temporal links from the previous read position (DNC paper Methods
 * "Temporal memory linkage", f_t^i and b_t^i; DeepMind `directional_read_weights`
 * step 6):
 *   forward  f[i] = Σ_j L[i,j]·w[j]     f = L·w^r_{t−1}    (the slots written after the ones read)
 *   backward b[j] = Σ_i L[i,j]·w[i]     b = Lᵀ·w^r_{t−1}   (the slots written before)
 * followLinksHeads does this for every read head from one link: on float32 with the WASM
 * kernels as one kernel that reads L once for all heads (forward and backward); otherwise,
 * and as the twin the kernel is tested against, it is followLinksBoth once per head.
 */
import { activeKernels } from '../kernels/wasm.js';
import { linksBackwardWasm, linksForwardWasm } from '../kernels/memory.js';
import { alloc, allocOverwritten, expectShape, Tensor, tapeFor } from '../tensor/tensor.js';

export type LinkDirection = 'forward' | 'backward';

/**
 * @param link L_t of one write head [B, N, N]
 * @param weights w^r_{t−1} of one read head [B, N]
 * @returns f or b [B, N]
 */
export function followLinks(link: Tensor, weights: Tensor, direction: LinkDirection): Tensor {
  // one direction is the other's twin with half the result unused: one implementation serves both
  return followLinksBoth(link, weights)[direction];
}

/**
 * Both directions in one pass over L (what the DNC step uses: half the reads of L).
 * @param link L_t of one write head [B, N, N]  @param weights w^r_{t−1} [B, N]
 * @returns f = L·w and b = Lᵀ·w, each [B, N]
 */
export function followLinksBoth(link: Tensor, weights: Tensor): { forward: Tensor; backward: Tensor } {
  const [B, N] = weights.shape as [number, number];
  expectShape('followLinksBoth', 'link', link, [B, N, N]);
  const tape = tapeFor(link, weights);
  const L = link.data, w = weights.data;
  const f = alloc(link.dtype, B * N), bw = alloc(link.dtype, B * N);
  for (let b = 0; b < B; b++) {
    const o = b * N;
    for (let i = 0; i < N; i++) {
      const row = (o + i) * N;
      const wi = w[o + i]!;
      let s = 0;
      for (let j = 0; j < N; j++) {
        const l = L[row + j]!;
        s += l * w[o + j]!; // f[i] = Σ_j L[i,j]·w[j]
        bw[o + j]! += l * wi; // b[j] = Σ_i L[i,j]·w[i]
      }
      f[o + i] = s;
    }
  }
  const forward = new Tensor(f, [B, N], tape !== null);
  const backward = new Tensor(bw, [B, N], tape !== null);
  if (tape) {
    tape.push(() => {
      const gf0 = forward.grad, gb0 = backward.grad;
      if (gf0 === null && gb0 === null) return;
      // absent gradients read as zeros and unwanted ones go to scratch, so the loop has no branches
      const gf = gf0 ?? alloc(link.dtype, B * N), gb = gb0 ?? alloc(link.dtype, B * N);
      const gL = link.requiresGrad ? link.g() : alloc(link.dtype, B * N * N);
      const gw = weights.requiresGrad ? weights.g() : alloc(link.dtype, B * N);
      for (let b = 0; b < B; b++) {
        const o = b * N;
        for (let i = 0; i < N; i++) {
          const row = (o + i) * N;
          const df = gf[o + i]!;
          const wi = w[o + i]!;
          let dwi = 0;
          for (let j = 0; j < N; j++) {
            const l = L[row + j]!, dbj = gb[o + j]!;
            gL[row + j]! += df * w[o + j]! + dbj * wi;
            gw[o + j]! += df * l;
            dwi += dbj * l;
          }
          gw[o + i]! += dwi;
        }
      }
    });
  }
  return { forward, backward };
}

/**
 * Both directions for R read heads from one link matrix (what the DNC step uses per write head).
 * @param link L_t of one write head [B, N, N]  @param weights w^r_{t−1,i} per read head, each [B, N]
 * @returns forward[i] = L·w_i and backward[i] = Lᵀ·w_i, each [B, N]
 */
export function followLinksHeads(link: Tensor, weights: readonly Tensor[]): { forward: Tensor[]; backward: Tensor[] } {
  const [B, N] = link.shape as [number, number];
  expectShape('followLinksHeads', 'link', link, [B, N, N]);
  for (const w of weights) expectShape('followLinksHeads', 'read weights', w, [B, N]);
  const twin = (): { forward: Tensor[]; backward: Tensor[] } => {
    const both = weights.map((w) => followLinksBoth(link, w));
    return { forward: both.map((d) => d.forward), backward: both.map((d) => d.backward) };
  };
  // a gradient off the kernel heap is copied in and back out once per head: a tensor passed twice would lose one
  const distinct = new Set(weights).size === weights.length;
  const ins = [link, ...weights];
  if (weights.length === 0 || !distinct || activeKernels() !== 'wasm' || !ins.every((t) => t.data instanceof Float32Array)) return twin();
  type F = Float32Array;
  const L = link.data as F, ws = weights.map((w) => w.data as F);
  // overwritten by the kernel (the backward ones zeroed by it before it adds into them)
  const fs = weights.map(() => allocOverwritten('f32', B * N) as F), bs = weights.map(() => allocOverwritten('f32', B * N) as F);
  if (!linksForwardWasm(L, ws, fs, bs, B, N)) return twin();
  const tape = tapeFor(...ins);
  const forward = fs.map((f) => new Tensor(f, [B, N], tape !== null));
  const backward = bs.map((b) => new Tensor(b, [B, N], tape !== null));
  if (tape) {
    tape.push(() => {
      const gf = forward.map((t) => t.grad as F | null), gb = backward.map((t) => t.grad as F | null);
      if (gf.every((g) => g === null) && gb.every((g) => g === null)) return;
      const gL = link.requiresGrad ? (link.g() as F) : null;
      const gw = weights.map((w) => (w.requiresGrad ? (w.g() as F) : null));
      linksBackwardWasm(L, ws, gf, gb, gL, gw, B, N);
    });
  }
  return { forward, backward };
}
