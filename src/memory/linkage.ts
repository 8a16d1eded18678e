/**
 * @file Temporal link matrix and precedence weighting (DNC paper Methods "Temporal memory
 * linkage"; DeepMind `TemporalLinkage`), one write head at a time:
 *   L_t[i,j] = (1 − w[i] − w[j])·L_{t−1}[i,j] + w[i]·p_{t−1}[j]    i ≠ j;  L_t[i,i] = 0
 *   p_t      = (1 − Σ_i w[i])·p_{t−1} + w
 * L[i,j] ≈ "slot i was written right after slot j". The link uses the previous precedence,
 * so update the link before the precedence.
 *
 * Layout: one link [B, N, N] and one precedence [B, N] per write head (arrays in the model
 * state), like the per-head weight arrays; DeepMind stacks them as [B, Wh, N, N] and
 * [B, Wh, N], which is the layout the model shows observers.
 *
 * updateLinkage does both: on float32 with the WASM kernels as one fused kernel (forward and
 * backward); otherwise, and as the twin the kernel is tested against, updateLink then
 * updatePrecedence.
 */
import { activeKernels } from '../kernels/wasm.js';
import { linkageBackwardWasm, linkageForwardWasm } from '../kernels/memory.js';
import { alloc, allocOverwritten, expectShape, Tensor, tapeFor } from '../tensor/tensor.js';

/**
 * L_t and p_t of one write head, both from p_{t−1} (the order the model needs).
 * @param link L_{t−1} [B, N, N]  @param precedence p_{t−1} [B, N]  @param weights w^w_t [B, N]
 * @returns L_t [B, N, N] and p_t [B, N]
 */
export function updateLinkage(link: Tensor, precedence: Tensor, weights: Tensor): { link: Tensor; precedence: Tensor } {
  const [B, N] = weights.shape as [number, number];
  expectShape('updateLinkage', 'link', link, [B, N, N]);
  expectShape('updateLinkage', 'precedence', precedence, [B, N]);
  const ins = [link, precedence, weights];
  const twin = (): { link: Tensor; precedence: Tensor } => ({ link: updateLink(link, precedence, weights), precedence: updatePrecedence(precedence, weights) });
  // the fused kernel needs float32 inputs and the WASM kernels; decide before allocating its buffers.
  // A gradient off the kernel heap is copied in and back out: one tensor as precedence and weights would lose one.
  const kernel = activeKernels() === 'wasm' && precedence !== weights && ins.every((t) => t.data instanceof Float32Array);
  if (!kernel) return twin();
  type F = Float32Array;
  const [L, p, w] = ins.map((t) => t.data as F) as [F, F, F];
  // all overwritten by the kernel
  const Lo = allocOverwritten('f32', B * N * N) as F, po = allocOverwritten('f32', B * N) as F;
  const keep = allocOverwritten('f32', B) as F; // 1 − Σ_i w[i]
  if (!linkageForwardWasm(L, p, w, Lo, po, keep, B, N)) return twin();
  const tape = tapeFor(...ins);
  const yL = new Tensor(Lo, [B, N, N], tape !== null), yp = new Tensor(po, [B, N], tape !== null);
  if (tape) {
    tape.push(() => {
      const gLo = yL.grad as F | null, gpo = yp.grad as F | null;
      if (gLo === null && gpo === null) return;
      const grad = (t: Tensor): F | null => (t.requiresGrad ? (t.g() as F) : null);
      linkageBackwardWasm(L, p, w, keep, gLo, gpo, grad(link), grad(precedence), grad(weights), B, N);
    });
  }
  return { link: yL, precedence: yp };
}

/**
 * @param link L_{t−1} [B, N, N], entries in [0, 1], zero diagonal
 * @param precedence p_{t−1} [B, N]
 * @param weights w^w_t of the same write head [B, N], entries ≥ 0 summing to ≤ 1
 * @returns L_t [B, N, N]
 */
export function updateLink(link: Tensor, precedence: Tensor, weights: Tensor): Tensor {
  const [B, N] = weights.shape as [number, number];
  expectShape('updateLink', 'link', link, [B, N, N]);
  expectShape('updateLink', 'precedence', precedence, [B, N]);
  const tape = tapeFor(link, precedence, weights);
  const L = link.data, p = precedence.data, w = weights.data;
  const out = alloc(link.dtype, B * N * N);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < N; i++) {
      const wi = w[b * N + i]!;
      const row = (b * N + i) * N;
      for (let j = 0; j < N; j++) {
        if (i === j) continue; // no self-links: the diagonal stays 0
        out[row + j] = (1 - wi - w[b * N + j]!) * L[row + j]! + wi * p[b * N + j]!;
      }
    }
  }
  const y = new Tensor(out, [B, N, N], tape !== null);
  if (tape) {
    tape.push(() => {
      const gy = y.grad;
      if (gy === null) return;
      const gL = link.requiresGrad ? link.g() : null;
      const gp = precedence.requiresGrad ? precedence.g() : null;
      const gw = weights.requiresGrad ? weights.g() : null;
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < N; i++) {
          const wi = w[b * N + i]!;
          const row = (b * N + i) * N;
          for (let j = 0; j < N; j++) {
            if (i === j) continue;
            const d = gy[row + j]!;
            const l = L[row + j]!;
            if (gL) gL[row + j]! += d * (1 - wi - w[b * N + j]!);
            if (gp) gp[b * N + j]! += d * wi;
            if (gw) {
              gw[b * N + i]! += d * (p[b * N + j]! - l);
              gw[b * N + j]! -= d * l;
            }
          }
        }
      }
    });
  }
  return y;
}

/**
 * @param precedence p_{t−1} [B, N]  @param weights w^w_t [B, N]
 * @returns p_t [B, N], summing to ≤ 1 when p_{t−1} and w do
 */
export function updatePrecedence(precedence: Tensor, weights: Tensor): Tensor {
  const [B, N] = weights.shape as [number, number];
  expectShape('updatePrecedence', 'precedence', precedence, [B, N]);
  const tape = tapeFor(precedence, weights);
  const p = precedence.data, w = weights.data;
  const keep = alloc(weights.dtype, B); // 1 − Σ_i w[i]
  const out = alloc(weights.dtype, B * N);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let n = 0; n < N; n++) s += w[b * N + n]!;
    keep[b] = 1 - s;
    for (let n = 0; n < N; n++) out[b * N + n] = (1 - s) * p[b * N + n]! + w[b * N + n]!;
  }
  const y = new Tensor(out, [B, N], tape !== null);
  if (tape) {
    tape.push(() => {
      const gy = y.grad;
      if (gy === null) return;
      const gp = precedence.requiresGrad ? precedence.g() : null;
      const gw = weights.requiresGrad ? weights.g() : null;
      for (let b = 0; b < B; b++) {
        let gyp = 0; // Σ_n dL/dp_t[n] · p_{t−1}[n]
        for (let n = 0; n < N; n++) {
          gyp += gy[b * N + n]! * p[b * N + n]!;
          if (gp) gp[b * N + n]! += gy[b * N + n]! * keep[b]!;
        }
        if (gw) for (let n = 0; n < N; n++) gw[b * N + n]! += gy[b * N + n]! - gyp;
      }
    });
  }
  return y;
}
