/**
 * @file NTM location addressing (NTM paper §3.3.2, eqs. 7–9), one op:
 *   w_g = g·w_c + (1−g)·w_{t−1}   →   w~ = shift(w_g, s)   →   w = w~^γ / Σ w~^γ (exactly, sharpen.ts)
 * On float32 with the WASM kernels this is one fused kernel (forward and backward); otherwise,
 * and as the twin the kernel is tested against, it is interpolate, circularShift and sharpen.
 */
import { locationBackwardWasm, locationForwardWasm, type LocationSaved } from '../kernels/memory.js';
import { expectShape, type Tensor } from '../tensor/tensor.js';
import { op1 } from '../tensor/op.js';

type F = Float32Array;
import { interpolate } from './interpolate.js';
import { sharpen } from './sharpen.js';
import { circularShift } from './shift.js';

/**
 * @param content w_c [B, N]  @param previous w_{t−1} [B, N]  @param gate g [B, 1]
 * @param shift s [B, S]  @param gamma γ [B, 1]
 * @returns w [B, N]
 */
export function locationWeights(content: Tensor, previous: Tensor, gate: Tensor, shift: Tensor, gamma: Tensor): Tensor {
  const [B, N] = content.shape as [number, number];
  const S = shift.shape[1]!;
  expectShape('locationWeights', 'previous weights', previous, [B, N]);
  expectShape('locationWeights', 'gate', gate, [B, 1]);
  expectShape('locationWeights', 'shift', shift, [B, S]);
  expectShape('locationWeights', 'gamma', gamma, [B, 1]);
  return op1<LocationSaved | null>({
    inputs: [content, previous, gate, shift, gamma],
    outputs: [[B, N]],
    // what the kernel saves, all written in full by it; the twin saves its own, op by op
    save: (_dt, onKernel, ctx) => onKernel
      ? { wg: ctx.allocOverwritten('f32', B * N) as F, wt: ctx.allocOverwritten('f32', B * N) as F, p: ctx.allocOverwritten('f32', B * N) as F, sums: ctx.allocOverwritten('f32', B) as F }
      : null,
    composite: () => [sharpen(circularShift(interpolate(content, previous, gate), shift), gamma)],
    kernel: {
      // the kernel pads a copy of w_g with (S − 1)/2 wrapped slots on each side: at most N of them
      accepts: (ctx) => S % 2 === 1 && (S - 1) / 2 <= N && ctx.heap !== null,
      forward: ([wc, wp, g, s, gm], [w], saved, ctx) => locationForwardWasm(ctx.heap, wc!, wp!, g!, s!, gm!, saved!, w!, B, N, S),
      backward: ([wc, wp, g, s, gm], [w], saved, [gw], [gwc, gwp, gg, gs, ggm], _fresh, ctx) =>
        locationBackwardWasm(ctx.heap, wc!, wp!, g!, s!, gm!, saved!, w!, gw!, gwc!, gwp!, gg!, gs!, ggm!, B, N, S),
    },
  });
}
