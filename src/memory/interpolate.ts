/**
 * @file Interpolation gate (NTM paper §3.3.2, eq. 7): w_g = g·w_c + (1−g)·w_{t−1}.
 */
import { expectShape, type Tensor } from '../tensor/tensor.js';
import { op1 } from '../tensor/op.js';

/**
 * @param content w_c [B, N]  @param previous w_{t−1} [B, N]  @param gate g [B, 1]
 * @returns w_g [B, N]
 */
export function interpolate(content: Tensor, previous: Tensor, gate: Tensor): Tensor {
  const [B, N] = content.shape as [number, number];
  expectShape('interpolate', 'previous weights', previous, [B, N]);
  expectShape('interpolate', 'gate', gate, [B, 1]);
  return op1({
    inputs: [content, previous, gate],
    outputs: [[B, N]],
    forward: ([wc, wp, g], [y]) => {
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < N; i++) y![b * N + i] = g![b]! * wc![b * N + i]! + (1 - g![b]!) * wp![b * N + i]!;
      }
    },
    backward: ([wc, wp, g], _y, _s, [gy], [gc, gp, gg]) => {
      for (let b = 0; b < B; b++) {
        let dg = 0;
        for (let i = 0; i < N; i++) {
          const d = gy![b * N + i]!;
          if (gc) gc[b * N + i]! += d * g![b]!;
          if (gp) gp[b * N + i]! += d * (1 - g![b]!);
          dg += d * (wc![b * N + i]! - wp![b * N + i]!);
        }
        if (gg) gg[b]! += dg;
      }
    },
  });
}
