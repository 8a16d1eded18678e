/**
 * @file Sharpening (NTM paper §3.3.2, eq. 9): w[i] = w~[i]^γ / (Σ_k w~[k]^γ + ε).
 */
import { alloc, expectShape, Tensor, tapeFor } from '../tensor/tensor.js';

/** ε in the denominator: guards a zero sum when every w~ underflows to 0. */
export const SHARPEN_EPS = 1e-6;

/**
 * A sharpened weight below this (2^-64) is 0, and constant (no gradient). Such a weight cannot
 * change any float32 sum it joins (a head's weights sum to ~1), but its products with other
 * small numbers (gradients ~1e-8 and below) fall below float32's smallest normal number, where
 * the CPU slows down many times over: late in training, when the heads have sharpened, the
 * memory's backward pass took 9 times as long before this floor.
 */
export const WEIGHT_FLOOR = 2 ** -64;

/**
 * @param weights w~ [B, N], entries ≥ 0  @param gamma γ [B, 1], γ ≥ 1
 * @returns w [B, N]
 */
export function sharpen(weights: Tensor, gamma: Tensor): Tensor {
  const [B, N] = weights.shape as [number, number];
  expectShape('sharpen', 'gamma', gamma, [B, 1]);
  const tape = tapeFor(weights, gamma);
  const x = weights.data, g = gamma.data;
  const p = alloc(weights.dtype, B * N); // w~^γ
  const sums = alloc(weights.dtype, B);
  const y = alloc(weights.dtype, B * N);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let i = 0; i < N; i++) {
      const xv = x[b * N + i]!;
      const v = xv > 0 ? Math.exp(g[b]! * Math.log(xv)) : 0; // w~^γ; exp∘log is faster than Math.pow here
      p[b * N + i] = v;
      s += v;
    }
    s += SHARPEN_EPS;
    sums[b] = s;
    for (let i = 0; i < N; i++) {
      const v = p[b * N + i]! / s;
      y[b * N + i] = v < WEIGHT_FLOOR ? 0 : v; // (NaN stays NaN)
    }
  }
  const out = new Tensor(y, [B, N], tape !== null);
  if (tape) {
    tape.push(() => {
      const gy = out.grad;
      if (gy === null) return;
      const gx = weights.requiresGrad ? weights.g() : null;
      const gg = gamma.requiresGrad ? gamma.g() : null;
      for (let b = 0; b < B; b++) {
        let ydy = 0;
        for (let i = 0; i < N; i++) ydy += gy[b * N + i]! * y[b * N + i]!;
        let dgamma = 0;
        for (let i = 0; i < N; i++) {
          const bi = b * N + i;
          const dp = (gy[bi]! - ydy) / sums[b]!; // dL/d(w~^γ)
          const xv = x[bi]!;
          if (y[bi] !== 0) { // (so xv > 0 too, or a NaN, which propagates)
            if (gx) gx[bi]! += (dp * g[b]! * p[bi]!) / xv; // γ·w~^(γ−1) = γ·p / w~, with p saved by the forward pass
            dgamma += dp * p[bi]! * Math.log(xv);
          }
          // at w~ = 0: d(w~^γ)/dγ = 0 (the limit of x^γ·ln x), and d/dw~ = 0 for γ > 1
        }
        if (gg) gg[b]! += dgamma;
      }
    });
  }
  return out;
}
