/**
 * @file NTM location addressing (NTM paper §3.3.2, eqs. 7–9), one op:
 *   w_g = g·w_c + (1−g)·w_{t−1}   →   w~ = shift(w_g, s)   →   w = w~^γ / Σ w~^γ (exactly, sharpen.ts)
 * On float32 with the WASM kernels this is one fused kernel (forward and backward); otherwise,
 * and as the twin the kernel is tested against, it is interpolate, circularShift and sharpen.
 */
import { activeKernels } from '../kernels/wasm.js';
import { locationBackwardWasm, locationForwardWasm, type LocationSaved } from '../kernels/memory.js';
import { allocOverwritten, expectShape, Tensor, tapeFor } from '../tensor/tensor.js';
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
  const ins = [content, previous, gate, shift, gamma];
  const twin = (): Tensor => sharpen(circularShift(interpolate(content, previous, gate), shift), gamma);
  // the fused kernel needs float32 inputs and the WASM kernels; decide before allocating its buffers
  // the kernel pads a copy of w_g with (S − 1)/2 wrapped slots on each side: at most N of them
  if (S % 2 !== 1 || (S - 1) / 2 > N || activeKernels() !== 'wasm' || !ins.every((t) => t.data instanceof Float32Array)) return twin();
  type F = Float32Array;
  const [wc, wp, g, s, gm] = ins.map((t) => t.data as F) as [F, F, F, F, F];
  // all written in full by the kernel
  const saved: LocationSaved = {
    wg: allocOverwritten('f32', B * N) as F, wt: allocOverwritten('f32', B * N) as F, p: allocOverwritten('f32', B * N) as F, sums: allocOverwritten('f32', B) as F,
  };
  const w = allocOverwritten('f32', B * N) as F;
  if (!locationForwardWasm(wc, wp, g, s, gm, saved, w, B, N, S)) return twin();
  const tape = tapeFor(...ins);
  const out = new Tensor(w, [B, N], tape !== null);
  if (tape) {
    tape.push(() => {
      const gw = out.grad;
      if (gw === null) return;
      const grad = (t: Tensor): F | null => (t.requiresGrad ? (t.g() as F) : null);
      locationBackwardWasm(wc, wp, g, s, gm, saved, w, gw as F, grad(content), grad(previous), grad(gate), grad(shift), grad(gamma), B, N, S);
    });
  }
  return out;
}
