/**
 * @file Following the temporal links from the previous read position (DNC paper Methods
 * "Temporal memory linkage", f_t^i and b_t^i; DeepMind `directional_read_weights`; SPEC §4
 * step 6):
 *   forward  f[i] = Σ_j L[i,j]·w[j]     f = L·w^r_{t−1}    (the slots written after the ones read)
 *   backward b[j] = Σ_i L[i,j]·w[i]     b = Lᵀ·w^r_{t−1}   (the slots written before)
 */
import { alloc, expectShape, Tensor, tapeFor } from '../tensor/tensor.js';

export type LinkDirection = 'forward' | 'backward';

/**
 * @param link L_t of one write head [B, N, N]
 * @param weights w^r_{t−1} of one read head [B, N]
 * @returns f or b [B, N]
 */
export function followLinks(link: Tensor, weights: Tensor, direction: LinkDirection): Tensor {
  const [B, N] = weights.shape as [number, number];
  expectShape('followLinks', 'link', link, [B, N, N]);
  const tape = tapeFor(link, weights);
  const L = link.data, w = weights.data;
  const fwd = direction === 'forward';
  const out = alloc(link.dtype, B * N);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < N; i++) {
      const row = (b * N + i) * N;
      if (fwd) {
        let s = 0;
        for (let j = 0; j < N; j++) s += L[row + j]! * w[b * N + j]!;
        out[b * N + i] = s;
      } else {
        const wi = w[b * N + i]!;
        for (let j = 0; j < N; j++) out[b * N + j]! += L[row + j]! * wi;
      }
    }
  }
  const y = new Tensor(out, [B, N], tape !== null);
  if (tape) {
    tape.push(() => {
      const gy = y.grad;
      if (gy === null) return;
      const gL = link.requiresGrad ? link.g() : null;
      const gw = weights.requiresGrad ? weights.g() : null;
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < N; i++) {
          const row = (b * N + i) * N;
          for (let j = 0; j < N; j++) {
            // forward: y[i] += L[i,j] w[j];  backward: y[j] += L[i,j] w[i]
            const d = fwd ? gy[b * N + i]! : gy[b * N + j]!;
            const wk = fwd ? w[b * N + j]! : w[b * N + i]!;
            if (gL) gL[row + j]! += d * wk;
            if (gw) gw[b * N + (fwd ? j : i)]! += d * L[row + j]!;
          }
        }
      }
    });
  }
  return y;
}
