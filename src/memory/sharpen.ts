/**
 * @file Sharpening (NTM paper §3.3.2, eq. 9): w[i] = w~[i]^γ / Σ_k w~[k]^γ, normalised exactly
 * (each row sums to 1 however blurred w~ and however large γ), computed with the largest term
 * factored out so no power underflows to 0/0:
 *   m = max_k ln w~[k],   p[i] = e^(γ·(ln w~[i] − m)),   w[i] = p[i] / Σ_k p[k]
 * The largest p is 1, so the sum is at least 1. Only entries w~ > 0 take part; an entry ≤ 0
 * (round-off below 0 included) has p = 0, and a row with none above 0 gives w = 0 (no 0/0).
 */
import { expectShape, type Tensor } from '../tensor/tensor.js';
import { op1 } from '../tensor/op.js';
import { WEIGHT_FLOOR } from '../kernels/constants.js';

/** A sharpened weight below this (2^-64) is 0, and constant (why: kernels/constants.ts); shared with the kernel. */
export { WEIGHT_FLOOR };

/**
 * @param weights w~ [B, N], entries ≥ 0  @param gamma γ [B, 1], γ ≥ 1
 * @returns w [B, N]
 */
export function sharpen(weights: Tensor, gamma: Tensor): Tensor {
  const [B, N] = weights.shape as [number, number];
  expectShape('sharpen', 'gamma', gamma, [B, 1]);
  return op1({
    inputs: [weights, gamma],
    outputs: [[B, N]],
    save: (dt, _k, ctx) => ({
      p: ctx.allocOverwritten(dt, B * N), // (w~ / max w~)^γ
      sums: ctx.allocOverwritten(dt, B), // Σ p: 0 for a row with no w~ > 0, else ≥ 1
    }),
    forward: ([x, g], [y], { p, sums }) => {
      for (let b = 0; b < B; b++) {
        let mx = 0; // max w~ (a NaN w~ counts as 0, as below)
        for (let i = 0; i < N; i++) if (x![b * N + i]! > mx) mx = x![b * N + i]!;
        const m = Math.log(mx); // -Infinity for a row with no w~ > 0, and then unused
        let s = 0;
        for (let i = 0; i < N; i++) {
          const xv = x![b * N + i]!;
          const v = xv > 0 ? Math.exp(g![b]! * (Math.log(xv) - m)) : 0; // exp∘log is faster than Math.pow here
          p[b * N + i] = v;
          s += v;
        }
        sums[b] = s;
        for (let i = 0; i < N; i++) {
          const v = s === 0 ? 0 : p[b * N + i]! / s; // (a NaN sum stays NaN)
          y![b * N + i] = v < WEIGHT_FLOOR ? 0 : v; // (NaN stays NaN)
        }
      }
    },
    backward: ([x, g], [y], { p, sums }, [gy], [gx, gg]) => {
      for (let b = 0; b < B; b++) {
        let ydy = 0;
        for (let i = 0; i < N; i++) ydy += gy![b * N + i]! * y![b * N + i]!;
        let dgamma = 0;
        // y = p / Σp whatever factor p was scaled by, so with p and its sum saved together:
        //   dL/dw~_i = γ·y_i·(gy_i − Σ_k gy_k·y_k) / w~_i,   dL/dγ = Σ_i y_i·(gy_i − Σ_k gy_k·y_k)·ln w~_i
        // (the last unchanged by the shift m, as Σ_i y_i·(gy_i − Σ_k gy_k·y_k) = 0 when Σ y = 1). Only weights
        // y ≠ 0 take part, so a row whose sum is 0 (all y = 0) never divides by it.
        for (let i = 0; i < N; i++) {
          const bi = b * N + i;
          const dp = (gy![bi]! - ydy) / sums[b]!; // dL/dp
          const xv = x![bi]!;
          if (y![bi] !== 0) { // (so xv > 0 too, or a NaN, which propagates)
            if (gx) gx[bi]! += (dp * g![b]! * p[bi]!) / xv; // dp/dw~ = γ·p / w~, with p saved by the forward pass
            dgamma += dp * p[bi]! * Math.log(xv);
          }
          // at w~ = 0: d(w~^γ)/dγ = 0 (the limit of x^γ·ln x), and d/dw~ = 0 for γ > 1
        }
        if (gg) gg[b]! += dgamma;
      }
    },
  });
}
