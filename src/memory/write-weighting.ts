/**
 * @file DNC write weighting (DNC paper Methods "Write weighting"):
 *   w^w = g_w · (g_a · a + (1 − g_a) · c^w)
 * g_a chooses between allocating fresh slots (a) and writing by content (c^w, on M_{t−1});
 * g_w scales the whole write, so g_w = 0 writes nothing.
 */
import { writeWeightingBackwardWasm, writeWeightingForwardWasm } from '../kernels/memory.js';
import { alloc, expectShape, replayJs, Tensor, tapeFor } from '../tensor/tensor.js';

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
  const tape = tapeFor(allocation, content, allocGate, writeGate);
  const a = allocation.data, c = content.data, ga = allocGate.data, gw = writeGate.data;
  const out = alloc(allocation.dtype, B * N);
  type F = Float32Array;
  // the WASM kernel (float32 arithmetic) when every buffer is float32, else the TypeScript twin
  const f32 = [a, c, ga, gw].every((d) => d instanceof Float32Array);
  const forward = (): void => {
    for (let b = 0; b < B; b++) {
      for (let n = 0; n < N; n++) {
        const x = b * N + n;
        out[x] = gw[b]! * (ga[b]! * a[x]! + (1 - ga[b]!) * c[x]!);
      }
    }
  };
  if (!(f32 && writeWeightingForwardWasm(a as F, c as F, ga as F, gw as F, out as F, B, N))) {
    forward();
    replayJs(forward);
  }
  const y = new Tensor(out, [B, N], tape !== null);
  if (tape) {
    tape.push(() => {
      const gy = y.grad;
      if (gy === null) return;
      const da = allocation.requiresGrad ? allocation.g() : null;
      const dc = content.requiresGrad ? content.g() : null;
      const dga = allocGate.requiresGrad ? allocGate.g() : null;
      const dgw = writeGate.requiresGrad ? writeGate.g() : null;
      if (f32 && writeWeightingBackwardWasm(a as F, c as F, ga as F, gw as F, gy as F, da as F | null, dc as F | null, dga as F | null, dgw as F | null, B, N)) return;
      const backward = (): void => {
        for (let b = 0; b < B; b++) {
          let sga = 0, sgw = 0;
          for (let n = 0; n < N; n++) {
            const x = b * N + n;
            const d = gy[x]!;
            if (da) da[x]! += d * gw[b]! * ga[b]!;
            if (dc) dc[x]! += d * gw[b]! * (1 - ga[b]!);
            sga += d * gw[b]! * (a[x]! - c[x]!);
            sgw += d * (ga[b]! * a[x]! + (1 - ga[b]!) * c[x]!);
          }
          if (dga) dga[b]! += sga;
          if (dgw) dgw[b]! += sgw;
        }
      };
      backward();
      replayJs(backward);
    });
  }
  return y;
}
