/**
 * @file Memory read (NTM paper §3.1, DNC paper eq. "r = Mᵀw"): r[j] = Σ_i w[i] · M[i, j].
 */
import { readBackwardWasm, readForwardWasm } from '../kernels/memory.js';
import { allocOverwritten, expectShape, Tensor, tapeFor } from '../tensor/tensor.js';

/**
 * @param memory M_t [B, N, W]  @param weights w [B, N]
 * @returns r [B, W]
 */
export function readMemory(memory: Tensor, weights: Tensor): Tensor {
  const [B, N, W] = memory.shape as [number, number, number];
  expectShape('readMemory', 'weights', weights, [B, N]);
  const tape = tapeFor(memory, weights);
  const M = memory.data, w = weights.data;
  // zeroed once: by the kernel's call (it sums into r), or below for the loops
  const r = allocOverwritten(memory.dtype, B * W);
  const f32 = M instanceof Float32Array && w instanceof Float32Array;
  if (!(f32 && readForwardWasm(M, w, r as Float32Array, B, N, W))) {
    r.fill(0);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < N; i++) {
        const wi = w[b * N + i]!;
        const m = (b * N + i) * W;
        for (let j = 0; j < W; j++) r[b * W + j]! += wi * M[m + j]!;
      }
    }
  }
  const out = new Tensor(r, [B, W], tape !== null);
  if (tape) {
    tape.push(() => {
      const gr = out.grad;
      if (gr === null) return;
      const gM = memory.requiresGrad ? memory.g() : null;
      const gw = weights.requiresGrad ? weights.g() : null;
      if (f32 && readBackwardWasm(M, w, gr as Float32Array, gM as Float32Array | null, gw as Float32Array | null, B, N, W)) return;
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < N; i++) {
          const m = (b * N + i) * W;
          let dw = 0;
          for (let j = 0; j < W; j++) {
            const d = gr[b * W + j]!;
            dw += d * M[m + j]!;
            if (gM) gM[m + j]! += d * w[b * N + i]!;
          }
          if (gw) gw[b * N + i]! += dw;
        }
      }
    });
  }
  return out;
}
