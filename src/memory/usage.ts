/**
 * @file Memory usage, the "freeness" of each slot (DNC paper Methods "Dynamic memory
 * allocation", eq. for u_t; DeepMind `Freeness`):
 *   u ← u_{t−1} + (1 − u_{t−1}) ∘ (1 − Π_h (1 − w^w_{t−1,h}))      usage after the last step's writes
 *   ψ = Π_i (1 − f_i · w^r_{t−1,i})                                  retention after freeing by read heads
 *   u_t = u ∘ ψ
 * With several write heads the product over h is DeepMind's rule (the paper has one write head).
 * On float32 with the WASM kernels the update runs as a kernel (src/kernels/assembly/memory.ts),
 * forward and backward; the loops here are its twin.
 */
import { usageBackwardWasm, usageForwardWasm } from '../kernels/memory.js';
import { allocOverwritten, expectShape, Tensor, tapeFor } from '../tensor/tensor.js';

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
  const tape = tapeFor(usage, ...freeGates, ...readWeights, ...(stop ? [] : writeWeights));
  const dt = usage.dtype;
  const u = usage.data;
  const size = B * N;
  // each overwritten entirely, by the kernel or by the loops below
  const notWritten = allocOverwritten(dt, size); // Π_h (1 − w^w_h)
  const afterWrite = allocOverwritten(dt, size); // u after the writes
  const psi = allocOverwritten(dt, size); // ψ
  const out = allocOverwritten(dt, size);
  // a gradient off the kernel heap is copied in and back out once per head: a tensor passed twice would lose one
  const ins = [usage, ...writeWeights, ...freeGates, ...readWeights];
  const f32 = new Set(ins).size === ins.length && ins.every((t) => t.data instanceof Float32Array);
  type F = Float32Array;
  const data = (ts: readonly Tensor[]): F[] => ts.map((t) => t.data as F);
  const [ww, fg, wr] = [data(writeWeights), data(freeGates), data(readWeights)];
  const saved = { notWritten: notWritten as F, afterWrite: afterWrite as F, psi: psi as F };
  if (!(f32 && usageForwardWasm(u as F, ww, fg, wr, saved, out as F, B, N))) {
    notWritten.fill(1);
    for (const w of writeWeights) for (let x = 0; x < size; x++) notWritten[x]! *= 1 - w.data[x]!;
    for (let x = 0; x < size; x++) afterWrite[x] = u[x]! + (1 - u[x]!) * (1 - notWritten[x]!);
    psi.fill(1);
    freeGates.forEach((f, i) => {
      const r = readWeights[i]!.data;
      for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) psi[b * N + n]! *= 1 - f.data[b]! * r[b * N + n]!;
    });
    for (let x = 0; x < size; x++) out[x] = afterWrite[x]! * psi[x]!;
  }

  const y = new Tensor(out, [B, N], tape !== null);
  if (tape) {
    tape.push(() => {
      const gy = y.grad;
      if (gy === null) return;
      const grads = (ts: readonly Tensor[]): (F | null)[] => ts.map((t) => (t.requiresGrad ? (t.g() as F) : null));
      const gu = usage.requiresGrad ? usage.g() : null;
      if (f32 && usageBackwardWasm(u as F, ww, fg, wr, saved, gy as F, gu as F | null, stop ? null : grads(writeWeights), grads(freeGates), grads(readWeights), B, N)) return;
      // u_t = (u + (1 − u)(1 − P)) ψ = (1 − (1 − u)P) ψ,  P = Π_h (1 − w_h)
      if (gu) for (let x = 0; x < size; x++) gu[x]! += gy[x]! * psi[x]! * notWritten[x]!;
      if (!stop) {
        writeWeights.forEach((w, h) => {
          if (!w.requiresGrad) return;
          const gw = w.g();
          for (let x = 0; x < size; x++) {
            let others = 1; // Π_{k≠h} (1 − w_k), without dividing by a factor that may be 0
            for (let k = 0; k < writeWeights.length; k++) if (k !== h) others *= 1 - writeWeights[k]!.data[x]!;
            gw[x]! += gy[x]! * psi[x]! * (1 - u[x]!) * others;
          }
        });
      }
      freeGates.forEach((f, i) => {
        const r = readWeights[i]!;
        const gf = f.requiresGrad ? f.g() : null;
        const gr = r.requiresGrad ? r.g() : null;
        for (let b = 0; b < B; b++) {
          let df = 0;
          for (let n = 0; n < N; n++) {
            const x = b * N + n;
            let others = 1; // Π_{k≠i} (1 − f_k w^r_k)
            for (let k = 0; k < freeGates.length; k++) {
              if (k !== i) others *= 1 - freeGates[k]!.data[b]! * readWeights[k]!.data[x]!;
            }
            const dFactor = gy[x]! * afterWrite[x]! * others; // dL/d(1 − f_i w^r_i[n])
            df -= dFactor * r.data[x]!;
            if (gr) gr[x]! -= dFactor * f.data[b]!;
          }
          if (gf) gf[b]! += df;
        }
      });
    });
  }
  return y;
}
