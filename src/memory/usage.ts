/**
 * @file Memory usage, the "freeness" of each slot (DNC paper Methods "Dynamic memory
 * allocation", eq. for u_t; DeepMind `Freeness`):
 *   u ← u_{t−1} + (1 − u_{t−1}) ∘ (1 − Π_h (1 − w^w_{t−1,h}))      usage after the last step's writes
 *   ψ = Π_i (1 − f_i · w^r_{t−1,i})                                  retention after freeing by read heads
 *   u_t = u ∘ ψ
 * With several write heads the product over h is DeepMind's rule (the paper has one write head).
 * On float32 with the WASM kernels the update runs as a kernel (src/kernels/assembly/usage.ts),
 * forward and backward; the loops here are its twin.
 */
import { usageBackwardWasm, usageForwardWasm, type UsageSaved } from '../kernels/memory.js';
import { expectShape, type Buf, type Tensor } from '../tensor/tensor.js';
import { op1 } from '../tensor/op.js';

/**
 * The previous write weights enter usage with their gradient stopped, as DeepMind does
 * (`tf.stop_gradient(write_weights)` in `Freeness`): usage only feeds the allocation sort,
 * which is not differentiable with respect to the order it produces, and the write
 * weights already receive their gradient through the memory they wrote and the link.
 * Pass `{ stopWriteGradient: false }` for the true derivative (finite-difference checks).
 */
export const USAGE_STOPS_WRITE_GRADIENT = true;

export interface UsageOptions {
  readonly stopWriteGradient?: boolean;
}

/**
 * @param usage u_{t−1} [B, N], entries in [0, 1]
 * @param writeWeights w^w_{t−1,h} per write head, each [B, N]
 * @param freeGates f_i per read head, each [B, 1], in [0, 1]
 * @param readWeights w^r_{t−1,i} per read head, each [B, N]
 * @returns u_t [B, N], entries in [0, 1]
 */
export function updateUsage(
  usage: Tensor,
  writeWeights: readonly Tensor[],
  freeGates: readonly Tensor[],
  readWeights: readonly Tensor[],
  opts: UsageOptions = {},
): Tensor {
  const [B, N] = usage.shape as [number, number];
  expectShape('updateUsage', 'usage', usage, [B, N]);
  for (const w of writeWeights) expectShape('updateUsage', 'write weights', w, [B, N]);
  for (const w of readWeights) expectShape('updateUsage', 'read weights', w, [B, N]);
  for (const f of freeGates) expectShape('updateUsage', 'free gate', f, [B, 1]);
  if (freeGates.length !== readWeights.length) {
    throw new Error(`updateUsage: ${freeGates.length} free gates for ${readWeights.length} read heads`);
  }
  const stop = opts.stopWriteGradient ?? USAGE_STOPS_WRITE_GRADIENT;
  const H = writeWeights.length, R = readWeights.length;
  const size = B * N;
  const inputs = [usage, ...writeWeights, ...freeGates, ...readWeights];
  /** u, then w^w per write head, f and w^r per read head */
  const split = <T>(x: readonly T[]): [T, T[], T[], T[]] => [x[0]!, x.slice(1, 1 + H), x.slice(1 + H, 1 + H + R), x.slice(1 + H + R)];
  return op1<UsageSaved<Buf>>({
    inputs,
    outputs: [[B, N]],
    grads: inputs.map((_, i) => !(stop && i >= 1 && i <= H)),
    save: (dt, _k, ctx) => ({
      notWritten: ctx.allocOverwritten(dt, size), // Π_h (1 − w^w_h)
      afterWrite: ctx.allocOverwritten(dt, size), // u after the writes
      psi: ctx.allocOverwritten(dt, size), // ψ
    }),
    forward: (x, [out], { notWritten, afterWrite, psi }) => {
      const [u, ww, fg, wr] = split(x);
      notWritten.fill(1);
      for (const w of ww) for (let i = 0; i < size; i++) notWritten[i]! *= 1 - w[i]!;
      for (let i = 0; i < size; i++) afterWrite[i] = u[i]! + (1 - u[i]!) * (1 - notWritten[i]!);
      psi.fill(1);
      fg.forEach((f, r) => {
        const w = wr[r]!;
        for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) psi[b * N + n]! *= 1 - f[b]! * w[b * N + n]!;
      });
      for (let i = 0; i < size; i++) out![i] = afterWrite[i]! * psi[i]!;
    },
    backward: (x, _y, { notWritten, afterWrite, psi }, [gy], gx) => {
      const [u, ww, fg, wr] = split(x);
      const [gu, gww, gfg, gwr] = split(gx);
      // u_t = (u + (1 − u)(1 − P)) ψ = (1 − (1 − u)P) ψ,  P = Π_h (1 − w_h)
      if (gu) for (let i = 0; i < size; i++) gu[i]! += gy![i]! * psi[i]! * notWritten[i]!;
      gww.forEach((gw, h) => { // (all null when the gradient is stopped)
        if (!gw) return;
        for (let i = 0; i < size; i++) {
          let others = 1; // Π_{k≠h} (1 − w_k), without dividing by a factor that may be 0
          for (let k = 0; k < H; k++) if (k !== h) others *= 1 - ww[k]![i]!;
          gw[i]! += gy![i]! * psi[i]! * (1 - u[i]!) * others;
        }
      });
      fg.forEach((f, r) => {
        const w = wr[r]!, gf = gfg[r]!, gw = gwr[r]!;
        for (let b = 0; b < B; b++) {
          let df = 0;
          for (let n = 0; n < N; n++) {
            const i = b * N + n;
            let others = 1; // Π_{k≠r} (1 − f_k w^r_k)
            for (let k = 0; k < R; k++) if (k !== r) others *= 1 - fg[k]![b]! * wr[k]![i]!;
            const dFactor = gy![i]! * afterWrite[i]! * others; // dL/d(1 − f_r w^r_r[n])
            df -= dFactor * w[i]!;
            if (gw) gw[i]! -= dFactor * f[b]!;
          }
          if (gf) gf[b]! += df;
        }
      });
    },
    kernel: {
      // a gradient off the kernel heap is copied in and back out once per head: a tensor passed twice would lose one
      accepts: () => new Set(inputs).size === inputs.length,
      forward: (x, [out], saved, ctx) => {
        const [u, ww, fg, wr] = split(x);
        return usageForwardWasm(ctx.heap, u, ww, fg, wr, saved as UsageSaved, out!, B, N);
      },
      backward: (x, _y, saved, [gy], gx, _fresh, ctx) => {
        const [u, ww, fg, wr] = split(x);
        const [gu, gww, gfg, gwr] = split(gx);
        return usageBackwardWasm(ctx.heap, u, ww, fg, wr, saved as UsageSaved, gy!, gu, stop ? null : gww, gfg, gwr, B, N);
      },
    },
  });
}
