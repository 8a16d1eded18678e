/**
 * @file Content-based addressing (NTM paper §3.3.1, DNC paper Methods "Content-based addressing").
 *   K[i] = k·M[i] / (√((|k|²+ε)(|M[i]|²+ε)) + ε)        cosine similarity
 *   w_c  = softmax_i(β·K)                                 content weighting
 */
import { contentBackwardWasm, contentForwardWasm, type ContentSaved } from '../kernels/memory.js';
import { expectShape, type Buf, type Tensor } from '../tensor/tensor.js';
import { op1 } from '../tensor/op.js';
import { COSINE_EPS } from '../kernels/constants.js';


/** ε in the cosine similarity (kernels/constants.ts), shared with the kernel. */
export { COSINE_EPS };

/**
 * @param memory [B, N, W]  @param key [B, W]  @param strength β [B, 1]
 * @returns w_c [B, N]
 */
export function contentWeights(memory: Tensor, key: Tensor, strength: Tensor): Tensor {
  const [B, N, W] = memory.shape as [number, number, number];
  expectShape('contentWeights', 'key', key, [B, W]);
  expectShape('contentWeights', 'strength', strength, [B, 1]);
  return op1<ContentSaved<Buf>>({
    inputs: [memory, key, strength],
    outputs: [[B, N]],
    save: (dt, _k, ctx) => ({
      sim: ctx.allocOverwritten(dt, B * N), // K[b, i]
      den: ctx.allocOverwritten(dt, B * N), // D = √((|k|²+ε)(|M_i|²+ε)) + ε
      nm2: ctx.allocOverwritten(dt, B * N), // |M_i|² + ε
      dot: ctx.allocOverwritten(dt, B * N), // k·M_i
      nk2: ctx.allocOverwritten(dt, B), // |k|² + ε
    }),
    forward: ([M, k, beta], [w], s) => contentForward(M!, k!, beta!, w!, s, B, N, W),
    backward: ([M, k, beta], [w], s, [gw], [gM, gk, gbeta]) => contentBackward(M!, k!, beta!, w!, s, gw!, gM!, gk!, gbeta!, B, N, W),
    kernel: {
      forward: ([M, k, beta], [w], s, ctx) => contentForwardWasm(ctx.heap, M!, k!, beta!, w!, s as ContentSaved, B, N, W),
      backward: ([M, k, beta], [w], s, [gw], [gM, gk, gbeta], _fresh, ctx) => contentBackwardWasm(ctx.heap, M!, k!, beta!, w!, s as ContentSaved, gw!, gM!, gk!, gbeta!, B, N, W),
    },
  });
}

/** w = softmax(β·K), K the cosine similarity of k with each row of M; the saved buffers written. */
function contentForward(M: Buf, k: Buf, beta: Buf, w: Buf, s: ContentSaved<Buf>, B: number, N: number, W: number): void {
  const { sim, den, nm2, dot, nk2 } = s;
  for (let b = 0; b < B; b++) {
    let kk = 0;
    for (let j = 0; j < W; j++) kk += k[b * W + j]! * k[b * W + j]!;
    kk += COSINE_EPS;
    nk2[b] = kk;
    let mx = -Infinity;
    for (let i = 0; i < N; i++) {
      const r = (b * N + i) * W;
      let d = 0, mm = 0;
      for (let j = 0; j < W; j++) {
        const m = M[r + j]!;
        d += k[b * W + j]! * m;
        mm += m * m;
      }
      mm += COSINE_EPS;
      const D = Math.sqrt(kk * mm) + COSINE_EPS;
      dot[b * N + i] = d;
      nm2[b * N + i] = mm;
      den[b * N + i] = D;
      const K = d / D;
      sim[b * N + i] = K;
      mx = Math.max(mx, beta[b]! * K);
    }
    let z = 0;
    for (let i = 0; i < N; i++) {
      const e = Math.exp(beta[b]! * sim[b * N + i]! - mx);
      w[b * N + i] = e;
      z += e;
    }
    for (let i = 0; i < N; i++) w[b * N + i]! /= z;
  }
}

/** Adds dL/dM, dL/dk, dL/dβ (null: not wanted) for dL/dw = gw. */
function contentBackward(
  M: Buf, k: Buf, beta: Buf, w: Buf, saved: ContentSaved<Buf>, gw: Buf, gM: Buf | null, gk: Buf | null, gbeta: Buf | null, B: number, N: number, W: number,
): void {
  const { sim, den, nm2, dot, nk2 } = saved;
  for (let b = 0; b < B; b++) {
    let wdw = 0;
    for (let i = 0; i < N; i++) wdw += w[b * N + i]! * gw[b * N + i]!;
    let dbeta = 0;
    let kScale = 0; // Σ_i dK_i · dot_i · nm2_i / (D_i² · s_i), the part of dk along k
    for (let i = 0; i < N; i++) {
      const bi = b * N + i;
      const dz = w[bi]! * (gw[bi]! - wdw); // through the softmax
      dbeta += dz * sim[bi]!;
      const dK = dz * beta[b]!;
      const D = den[bi]!, d = dot[bi]!;
      const s = D - COSINE_EPS; // √(nk2·nm2)
      const dDot = dK / D;
      const dS = (-dK * d) / (D * D); // dL/ds, s = √(nk2·nm2)
      // ds/dnk2 = nm2 / (2s), ds/dnm2 = nk2 / (2s); d|x|²/dx = 2x
      const r = bi * W;
      if (gM) {
        const mCoef = s > 0 ? (dS * nk2[b]!) / s : 0;
        for (let j = 0; j < W; j++) gM[r + j]! += dDot * k[b * W + j]! + mCoef * M[r + j]!;
      }
      if (gk) {
        kScale += s > 0 ? (dS * nm2[bi]!) / s : 0;
        for (let j = 0; j < W; j++) gk[b * W + j]! += dDot * M[r + j]!;
      }
    }
    if (gk) for (let j = 0; j < W; j++) gk[b * W + j]! += kScale * k[b * W + j]!;
    if (gbeta) gbeta[b]! += dbeta;
  }
}
