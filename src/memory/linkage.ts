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
import { linkageBackwardWasm, linkageForwardWasm } from '../kernels/memory.js';
import { expectShape, type Tensor } from '../tensor/tensor.js';
import { op, op1 } from '../tensor/op.js';

type F = Float32Array;

/**
 * L_t and p_t of one write head, both from p_{t−1} (the order the model needs).
 * @param link L_{t−1} [B, N, N]  @param precedence p_{t−1} [B, N]  @param weights w^w_t [B, N]
 * @returns L_t [B, N, N] and p_t [B, N]
 */
export function updateLinkage(link: Tensor, precedence: Tensor, weights: Tensor): { link: Tensor; precedence: Tensor } {
  const [B, N] = weights.shape as [number, number];
  expectShape('updateLinkage', 'link', link, [B, N, N]);
  expectShape('updateLinkage', 'precedence', precedence, [B, N]);
  const [Lt, pt] = op<F | null>({
    inputs: [link, precedence, weights],
    outputs: [[B, N, N], [B, N]],
    save: (_dt, onKernel, ctx) => (onKernel ? ctx.allocOverwritten('f32', B) as F : null), // the kernel's 1 − Σ_i w[i]
    composite: () => [updateLink(link, precedence, weights), updatePrecedence(precedence, weights)],
    kernel: {
      // a gradient off the kernel heap is copied in and back out: one tensor as precedence and weights would lose one
      accepts: (ctx) => ctx.heap !== null && precedence !== weights,
      forward: ([L, p, w], [Lo, po], keep, ctx) => linkageForwardWasm(ctx.heap, L!, p!, w!, Lo!, po!, keep!, B, N),
      backward: ([L, p, w], _y, keep, [gLo, gpo], [gL, gp, gw], _fresh, ctx) => linkageBackwardWasm(ctx.heap, L!, p!, w!, keep!, gLo!, gpo!, gL!, gp!, gw!, B, N),
    },
  });
  return { link: Lt!, precedence: pt! };
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
  return op1({
    inputs: [link, precedence, weights],
    outputs: [[B, N, N]],
    forward: ([L, p, w], [out]) => {
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < N; i++) {
          const wi = w![b * N + i]!;
          const row = (b * N + i) * N;
          for (let j = 0; j < N; j++) {
            // no self-links: the diagonal stays 0
            out![row + j] = i === j ? 0 : (1 - wi - w![b * N + j]!) * L![row + j]! + wi * p![b * N + j]!;
          }
        }
      }
    },
    backward: ([L, p, w], _y, _s, [gy], [gL, gp, gw]) => {
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < N; i++) {
          const wi = w![b * N + i]!;
          const row = (b * N + i) * N;
          for (let j = 0; j < N; j++) {
            if (i === j) continue;
            const d = gy![row + j]!;
            const l = L![row + j]!;
            if (gL) gL[row + j]! += d * (1 - wi - w![b * N + j]!);
            if (gp) gp[b * N + j]! += d * wi;
            if (gw) {
              gw[b * N + i]! += d * (p![b * N + j]! - l);
              gw[b * N + j]! -= d * l;
            }
          }
        }
      }
    },
  });
}

/**
 * @param precedence p_{t−1} [B, N]  @param weights w^w_t [B, N]
 * @returns p_t [B, N], summing to ≤ 1 when p_{t−1} and w do
 */
export function updatePrecedence(precedence: Tensor, weights: Tensor): Tensor {
  const [B, N] = weights.shape as [number, number];
  expectShape('updatePrecedence', 'precedence', precedence, [B, N]);
  return op1({
    inputs: [precedence, weights],
    outputs: [[B, N]],
    save: (dt, _k, ctx) => ctx.allocOverwritten(dt, B), // 1 − Σ_i w[i]
    forward: ([p, w], [out], keep) => {
      for (let b = 0; b < B; b++) {
        let s = 0;
        for (let n = 0; n < N; n++) s += w![b * N + n]!;
        keep[b] = 1 - s;
        for (let n = 0; n < N; n++) out![b * N + n] = (1 - s) * p![b * N + n]! + w![b * N + n]!;
      }
    },
    backward: ([p], _y, keep, [gy], [gp, gw]) => {
      for (let b = 0; b < B; b++) {
        let gyp = 0; // Σ_n dL/dp_t[n] · p_{t−1}[n]
        for (let n = 0; n < N; n++) {
          gyp += gy![b * N + n]! * p![b * N + n]!;
          if (gp) gp[b * N + n]! += gy![b * N + n]! * keep[b]!;
        }
        if (gw) for (let n = 0; n < N; n++) gw[b * N + n]! += gy![b * N + n]! - gyp;
      }
    },
  });
}
