/**
 * @file Circular convolutional shift (NTM paper §3.3.2, eq. 8):
 *   w~[i] = Σ_j s[j] · w_g[(i − o_j) mod N]
 *
 * Offset order: s[j] is the weight of offset o_j = j − shiftRange, so for shiftRange 1
 * the order is [−1, 0, +1] (the reference writes [+1, 0, −1]; we keep ascending offsets,
 * and the dashboard labels them). A positive offset moves the focus to higher slots.
 */
import { expectShape, type Tensor } from '../tensor/tensor.js';
import { op1 } from '../tensor/op.js';

/**
 * @param weights w_g [B, N]  @param shift s [B, S], S = 2·shiftRange + 1
 * @returns w~ [B, N]
 */
export function circularShift(weights: Tensor, shift: Tensor): Tensor {
  const [B, N] = weights.shape as [number, number];
  const S = shift.shape[1]!;
  expectShape('circularShift', 'shift', shift, [B, S]);
  if (S % 2 !== 1) throw new Error(`circularShift: shift width must be odd (2·shiftRange+1), got ${S}`);
  const range = (S - 1) / 2;
  return op1({
    inputs: [weights, shift],
    outputs: [[B, N]],
    forward: ([w, s], [y]) => {
      y!.fill(0);
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < S; j++) {
          const sj = s![b * S + j]!;
          const o = j - range;
          // src = (i − o) mod N, walked without a modulo per element
          let src = mod(-o, N);
          for (let i = 0; i < N; i++) {
            y![b * N + i]! += sj * w![b * N + src]!;
            if (++src === N) src = 0;
          }
        }
      }
    },
    backward: ([w, s], _y, _s, [gy], [gw, gs]) => {
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < S; j++) {
          const sj = s![b * S + j]!;
          const o = j - range;
          let ds = 0;
          let src = mod(-o, N);
          for (let i = 0; i < N; i++) {
            const d = gy![b * N + i]!;
            ds += d * w![b * N + src]!;
            if (gw) gw[b * N + src]! += d * sj;
            if (++src === N) src = 0;
          }
          if (gs) gs[b * S + j]! += ds;
        }
      }
    },
  });
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}
