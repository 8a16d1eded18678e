/**
 * @file DNC read weighting (DNC paper Methods "Read weighting"), one read head:
 *   w^r = π_c·c^r + Σ_h π_f,h·f_h + Σ_h π_b,h·b_h
 * The read mode π is a softmax over 2·Wh + 1 modes in DeepMind's order
 *   [backward × Wh, forward × Wh, content],
 * so π[h] weighs b_h, π[Wh + h] weighs f_h and π[2·Wh] weighs c^r.
 */
import { readWeightingBackwardWasm, readWeightingForwardWasm } from '../kernels/memory.js';
import { expectShape, type Tensor } from '../tensor/tensor.js';
import { op1 } from '../tensor/op.js';

/** Index of the content mode in π; backward modes are 0..Wh−1, forward modes Wh..2·Wh−1. */
export const contentModeIndex = (Wh: number): number => 2 * Wh;

/**
 * @param content c^r [B, N]
 * @param backward b_h per write head, each [B, N]
 * @param forward f_h per write head, each [B, N]
 * @param modes π [B, 2·Wh + 1], a softmax
 * @returns w^r [B, N]
 */
export function readWeighting(content: Tensor, backward: readonly Tensor[], forward: readonly Tensor[], modes: Tensor): Tensor {
  const [B, N] = content.shape as [number, number];
  const Wh = backward.length;
  if (forward.length !== Wh) throw new Error(`readWeighting: ${backward.length} backward and ${forward.length} forward weightings`);
  for (const t of [...backward, ...forward]) expectShape('readWeighting', 'directional weights', t, [B, N]);
  expectShape('readWeighting', 'read modes', modes, [B, 2 * Wh + 1]);
  const M = 2 * Wh + 1;
  // inputs: π, then the weightings in read-mode order, π[m] weighing source m
  return op1({
    inputs: [modes, ...backward, ...forward, content],
    outputs: [[B, N]],
    forward: ([pi, ...src], [out]) => {
      out!.fill(0);
      for (let m = 0; m < M; m++) {
        const sd = src[m]!;
        for (let b = 0; b < B; b++) {
          const p = pi![b * M + m]!;
          for (let n = 0; n < N; n++) out![b * N + n]! += p * sd[b * N + n]!;
        }
      }
    },
    backward: ([pi, ...src], _y, _s, [gy], [gpi, ...gsrc]) => {
      for (let m = 0; m < M; m++) {
        const sd = src[m]!, gs = gsrc[m]!;
        for (let b = 0; b < B; b++) {
          const p = pi![b * M + m]!;
          let dp = 0;
          for (let n = 0; n < N; n++) dp += gy![b * N + n]! * sd[b * N + n]!;
          if (gs) for (let n = 0; n < N; n++) gs[b * N + n]! += gy![b * N + n]! * p;
          if (gpi) gpi[b * M + m]! += dp;
        }
      }
    },
    kernel: {
      forward: ([pi, ...src], [out], _s, ctx) => readWeightingForwardWasm(ctx.heap, src, pi!, out!, B, N),
      backward: ([pi, ...src], _y, _s, [gy], [gpi, ...gsrc], _fresh, ctx) => readWeightingBackwardWasm(ctx.heap, src, pi!, gy!, gsrc, gpi!, B, N),
    },
  });
}
