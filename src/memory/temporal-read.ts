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
import { linksBackwardWasm, linksForwardWasm } from '../kernels/memory.js';
import { expectShape, type Tensor } from '../tensor/tensor.js';
import { op, scratchLike } from '../tensor/op.js';

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
  const [forward, backward] = op({
    inputs: [link, weights],
    outputs: [[B, N], [B, N]],
    forward: ([L, w], [f, bw]) => {
      bw!.fill(0);
      for (let b = 0; b < B; b++) {
        const o = b * N;
        for (let i = 0; i < N; i++) {
          const row = (o + i) * N;
          const wi = w![o + i]!;
          let s = 0;
          for (let j = 0; j < N; j++) {
            const l = L![row + j]!;
            s += l * w![o + j]!; // f[i] = Σ_j L[i,j]·w[j]
            bw![o + j]! += l * wi; // b[j] = Σ_i L[i,j]·w[i]
          }
          f![o + i] = s;
        }
      }
    },
    backward: ([L, w], _y, _s, [gf0, gb0], [gL0, gw0], ctx) => {
      // absent gradients read as zeros and unwanted ones go to scratch, so the loop has no branches
      const gf = gf0 ?? scratchLike(ctx, L!, B * N), gb = gb0 ?? scratchLike(ctx, L!, B * N);
      const gL = gL0 ?? scratchLike(ctx, L!, B * N * N), gw = gw0 ?? scratchLike(ctx, L!, B * N);
      for (let b = 0; b < B; b++) {
        const o = b * N;
        for (let i = 0; i < N; i++) {
          const row = (o + i) * N;
          const df = gf[o + i]!;
          const wi = w![o + i]!;
          let dwi = 0;
          for (let j = 0; j < N; j++) {
            const l = L![row + j]!, dbj = gb[o + j]!;
            gL[row + j]! += df * w![o + j]! + dbj * wi;
            gw[o + j]! += df * l;
            dwi += dbj * l;
          }
          gw[o + i]! += dwi;
        }
      }
    },
  });
  return { forward: forward!, backward: backward! };
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
  const R = weights.length;
  // outputs: f per read head, then b per read head
  const out = op({
    inputs: [link, ...weights],
    outputs: Array.from({ length: 2 * R }, () => [B, N]),
    composite: () => {
      const both = weights.map((w) => followLinksBoth(link, w));
      return [...both.map((d) => d.forward), ...both.map((d) => d.backward)];
    },
    kernel: {
      // a gradient off the kernel heap is copied in and back out once per head: a tensor passed twice would lose one
      accepts: (ctx) => R > 0 && new Set(weights).size === R && ctx.heap !== null,
      forward: ([L, ...ws], y, _s, ctx) => linksForwardWasm(ctx.heap, L!, ws, y.slice(0, R), y.slice(R), B, N),
      backward: ([L, ...ws], _y, _s, gy, [gL, ...gw], _fresh, ctx) => linksBackwardWasm(ctx.heap, L!, ws, gy.slice(0, R), gy.slice(R), gL!, gw, B, N),
    },
  });
  return { forward: out.slice(0, R), backward: out.slice(R) };
}
