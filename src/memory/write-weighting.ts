/**
 * @file DNC write weighting (DNC paper Methods "Write weighting"):
 *   w^w = g_w · (g_a · a + (1 − g_a) · c^w)
 * g_a chooses between allocating fresh slots (a) and writing by content (c^w, on M_{t−1});
 * g_w scales the whole write, so g_w = 0 writes nothing.
 */
import { writeWeightingBackwardWasm, writeWeightingForwardWasm } from '../kernels/memory.js';
import { expectShape, type Tensor } from '../tensor/tensor.js';
import { op1 } from '../tensor/op.js';

/**
 * @param allocation a [B, N]  @param content c^w [B, N]
 * @param allocGate g_a [B, 1]  @param writeGate g_w [B, 1]
 * @returns w^w [B, N], entries ≥ 0 summing to ≤ 1 when a and c^w do
 */
export function writeWeighting(allocation: Tensor, content: Tensor, allocGate: Tensor, writeGate: Tensor): Tensor {
  const [B, N] = allocation.shape as [number, number];
  expectShape('writeWeighting', 'allocation', allocation, [B, N]);
  expectShape('writeWeighting', 'content weights', content, [B, N]);
  expectShape('writeWeighting', 'allocation gate', allocGate, [B, 1]);
  expectShape('writeWeighting', 'write gate', writeGate, [B, 1]);
  return op1({
    inputs: [allocation, content, allocGate, writeGate],
    outputs: [[B, N]],
    forward: ([a, c, ga, gw], [out]) => {
      for (let b = 0; b < B; b++) {
        for (let n = 0; n < N; n++) {
          const x = b * N + n;
          out![x] = gw![b]! * (ga![b]! * a![x]! + (1 - ga![b]!) * c![x]!);
        }
      }
    },
    backward: ([a, c, ga, gw], _y, _s, [gy], [da, dc, dga, dgw]) => {
      for (let b = 0; b < B; b++) {
        let sga = 0, sgw = 0;
        for (let n = 0; n < N; n++) {
          const x = b * N + n;
          const d = gy![x]!;
          if (da) da[x]! += d * gw![b]! * ga![b]!;
          if (dc) dc[x]! += d * gw![b]! * (1 - ga![b]!);
          sga += d * gw![b]! * (a![x]! - c![x]!);
          sgw += d * (ga![b]! * a![x]! + (1 - ga![b]!) * c![x]!);
        }
        if (dga) dga[b]! += sga;
        if (dgw) dgw[b]! += sgw;
      }
    },
    kernel: {
      forward: ([a, c, ga, gw], [out], _s, ctx) => writeWeightingForwardWasm(ctx.heap, a!, c!, ga!, gw!, out!, B, N),
      backward: ([a, c, ga, gw], _y, _s, [gy], [da, dc, dga, dgw], _fresh, ctx) => writeWeightingBackwardWasm(ctx.heap, a!, c!, ga!, gw!, gy!, da!, dc!, dga!, dgw!, B, N),
    },
  });
}
