/**
 * @file Memory read (NTM paper §3.1, DNC paper eq. "r = Mᵀw"): r[j] = Σ_i w[i] · M[i, j].
 */
import { readBackwardWasm, readForwardWasm } from '../kernels/memory.js';
import { expectShape, type Tensor } from '../tensor/tensor.js';
import { op1 } from '../tensor/op.js';

/**
 * @param memory M_t [B, N, W]  @param weights w [B, N]
 * @returns r [B, W]
 */
export function readMemory(memory: Tensor, weights: Tensor): Tensor {
  const [B, N, W] = memory.shape as [number, number, number];
  expectShape('readMemory', 'weights', weights, [B, N]);
  return op1({
    inputs: [memory, weights],
    outputs: [[B, W]],
    forward: ([M, w], [r]) => {
      r!.fill(0);
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < N; i++) {
          const wi = w![b * N + i]!;
          const m = (b * N + i) * W;
          for (let j = 0; j < W; j++) r![b * W + j]! += wi * M![m + j]!;
        }
      }
    },
    backward: ([M, w], _y, _s, [gr], [gM, gw]) => {
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < N; i++) {
          const m = (b * N + i) * W;
          let dw = 0;
          for (let j = 0; j < W; j++) {
            const d = gr![b * W + j]!;
            dw += d * M![m + j]!;
            if (gM) gM[m + j]! += d * w![b * N + i]!;
          }
          if (gw) gw[b * N + i]! += dw;
        }
      }
    },
    kernel: {
      forward: ([M, w], [r], _s, ctx) => readForwardWasm(ctx.heap, M!, w!, r!, B, N, W),
      backward: ([M, w], _y, _s, [gr], [gM, gw], _fresh, ctx) => readBackwardWasm(ctx.heap, M!, w!, gr!, gM!, gw!, B, N, W),
    },
  });
}
