/**
 * @file DNC read weighting (DNC paper Methods "Read weighting"), one read head:
 *   w^r = π_c·c^r + Σ_h π_f,h·f_h + Σ_h π_b,h·b_h
 * The read mode π is a softmax over 2·Wh + 1 modes in DeepMind's order
 *   [backward × Wh, forward × Wh, content],
 * so π[h] weighs b_h, π[Wh + h] weighs f_h and π[2·Wh] weighs c^r.
 */
import { readWeightingBackwardWasm, readWeightingForwardWasm } from '../kernels/memory.js';
import { alloc, allocOverwritten, expectShape, Tensor, tapeFor } from '../tensor/tensor.js';

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
  // the weightings in read-mode order: π[m] weighs sources[m]
  const sources = [...backward, ...forward, content];
  const tape = tapeFor(modes, ...sources);
  const pi = modes.data;
  const f32 = pi instanceof Float32Array && sources.every((s) => s.data instanceof Float32Array);
  const out = f32 ? allocOverwritten(content.dtype, B * N) : alloc(content.dtype, B * N);
  if (!(f32 && readWeightingForwardWasm(sources.map((s) => s.data as Float32Array), pi, out as Float32Array, B, N))) {
    out.fill(0);
    for (let m = 0; m < M; m++) {
      const sd = sources[m]!.data;
      for (let b = 0; b < B; b++) {
        const p = pi[b * M + m]!;
        for (let n = 0; n < N; n++) out[b * N + n]! += p * sd[b * N + n]!;
      }
    }
  }
  const y = new Tensor(out, [B, N], tape !== null);
  if (tape) {
    tape.push(() => {
      const gy = y.grad;
      if (gy === null) return;
      const gpi = modes.requiresGrad ? modes.g() : null;
      if (f32 && readWeightingBackwardWasm(
        sources.map((s) => s.data as Float32Array), pi as Float32Array, gy as Float32Array,
        sources.map((s) => (s.requiresGrad ? (s.g() as Float32Array) : null)), gpi as Float32Array | null, B, N,
      )) return;
      for (let m = 0; m < M; m++) {
        const s = sources[m]!;
        const sd = s.data;
        const gs = s.requiresGrad ? s.g() : null;
        for (let b = 0; b < B; b++) {
          const p = pi[b * M + m]!;
          let dp = 0;
          for (let n = 0; n < N; n++) dp += gy[b * N + n]! * sd[b * N + n]!;
          if (gs) for (let n = 0; n < N; n++) gs[b * N + n]! += gy[b * N + n]! * p;
          if (gpi) gpi[b * M + m]! += dp;
        }
      }
    });
  }
  return y;
}
