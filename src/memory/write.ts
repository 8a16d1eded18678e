/**
 * @file Memory write with erase and add (NTM paper §3.2, DNC paper Methods "Memory writing"),
 * all write heads at once:
 *   M_t = M_{t−1} ∘ Π_h (1 − w_h e_hᵀ) + Σ_h w_h a_hᵀ
 * Every head erases from M_{t−1} before any head adds, so the heads commute.
 */
import { writeBackwardWasm, writeForwardWasm, writeKeepsNoFactor } from '../kernels/memory.js';
import { dtypeOf, expectShape, type Buf, type Tensor } from '../tensor/tensor.js';
import type { OpContext } from '../tensor/context.js';
import { op1 } from '../tensor/op.js';

type F = Float32Array;

export interface WriteHeadInput {
  readonly weights: Tensor; // w_h [B, N]
  readonly erase: Tensor; // e_h [B, W], in [0, 1]
  readonly add: Tensor; // a_h (NTM) or v_h (DNC) [B, W]
}

/**
 * @param memory M_{t−1} [B, N, W]
 * @returns M_t [B, N, W]
 */
export function writeMemory(memory: Tensor, heads: readonly WriteHeadInput[]): Tensor {
  const [B, N, W] = memory.shape as [number, number, number];
  for (const h of heads) {
    expectShape('writeMemory', 'write weights', h.weights, [B, N]);
    expectShape('writeMemory', 'erase vector', h.erase, [B, W]);
    expectShape('writeMemory', 'add vector', h.add, [B, W]);
  }
  const H = heads.length;
  const size = B * N * W;
  /** the heads' buffers from the inputs M, w_0, e_0, a_0, w_1, … */
  const headsOf = <T>(x: readonly T[]): { w: T; e: T; a: T }[] =>
    Array.from({ length: H }, (_, h) => ({ w: x[1 + 3 * h]!, e: x[2 + 3 * h]!, a: x[3 + 3 * h]! }));
  return op1<WriteSaved>({
    inputs: [memory, ...heads.flatMap((h) => [h.weights, h.erase, h.add])],
    outputs: [[B, N, W]],
    // P = Π_h (1 − w_h e_hᵀ), kept for the backward pass unless the kernels recompute it
    save: (dt, onKernel, ctx) => ({ keep: onKernel && writeKeepsNoFactor(H, W) ? null : ctx.allocOverwritten(dt, size), packed: null }),
    forward: (x, [out], saved, ctx) => {
      const M = x[0]!;
      saved.keep ??= ctx.allocOverwritten(dtypeOf(M), size); // (the kernel was to run, and did not)
      writeForwardTs(M, headsOf(x), saved.keep, out!, B, N, W);
    },
    backward: (x, _y, saved, [gy], gx, ctx) => {
      const M = x[0], gM = gx[0];
      const hs = headsOf(x), gs = headsOf(gx);
      if (saved.keep === null) {
        // the forward kernel did not store it and the TypeScript backward needs it
        saved.keep = ctx.allocOverwritten(dtypeOf(M!), size);
        writeForwardTs(M!, hs, saved.keep, ctx.allocOverwritten(dtypeOf(M!), size), B, N, W);
      }
      const keep = saved.keep;
      if (gM) for (let x = 0; x < size; x++) gM[x]! += gy![x]! * keep[x]!;
      for (let h = 0; h < H; h++) {
        const { w, e, a } = hs[h]!, { w: gw, e: ge, a: ga } = gs[h]!;
        for (let b = 0; b < B; b++) {
          for (let i = 0; i < N; i++) {
            const wi = w![b * N + i]!;
            const m = (b * N + i) * W;
            let dw = 0;
            for (let j = 0; j < W; j++) {
              const g = gy![m + j]!;
              const ej = e![b * W + j]!;
              // the product over the other heads, computed directly (no division by a factor that may be 0)
              let others = 1;
              if (H > 1) {
                for (let k = 0; k < H; k++) {
                  if (k !== h) others *= 1 - hs[k]!.w![b * N + i]! * hs[k]!.e![b * W + j]!;
                }
              }
              const dFactor = g * M![m + j]! * others; // dL/d(1 − w_i e_j)
              dw += -dFactor * ej + g * a![b * W + j]!;
              if (ge) ge[b * W + j]! += -dFactor * wi;
              if (ga) ga[b * W + j]! += g * wi;
            }
            if (gw) gw[b * N + i]! += dw;
          }
        }
      }
    },
    kernel: {
      // M_{t−1}'s gradient: this is usually its first contribution (the write is the last op to
      // read it), which the kernel writes into a buffer nobody zeroed
      writesFreshGradient: true,
      accepts: (ctx) => ctx.heap !== null, // (packing the heads is for the kernel only)
      forward: (x, [out], saved, ctx) => {
        // the kernel takes the heads packed head-major: w [H, B, N], e and a [H, B, W]
        const M = x[0], hs = headsOf(x);
        const packed = { w: pack(ctx, hs.map((h) => h.w!)), e: pack(ctx, hs.map((h) => h.e!)), a: pack(ctx, hs.map((h) => h.a!)) };
        saved.packed = packed;
        return writeForwardWasm(ctx.heap, M!, packed.w, packed.e, packed.a, saved.keep as F | null, out!, H, B, N, W);
      },
      backward: ([M], _y, { keep, packed }, [gy], gx, fresh, ctx) => {
        const [gM, ...ghx] = gx;
        const p = packed!;
        // one head: its own gradients are added into; several: packed ones, then added to each head's
        if (H === 1) return writeBackwardWasm(ctx.heap, M!, p.w, p.e, p.a, keep as F | null, gy!, gM!, ghx[0]!, ghx[1]!, ghx[2]!, H, B, N, W, fresh);
        const gw = ctx.alloc('f32', H * B * N) as F, ge = ctx.alloc('f32', H * B * W) as F, ga = ctx.alloc('f32', H * B * W) as F;
        if (!writeBackwardWasm(ctx.heap, M!, p.w, p.e, p.a, keep as F | null, gy!, gM!, gw, ge, ga, H, B, N, W, fresh)) return false;
        headsOf(gx).forEach((g, i) => {
          addSlice(ctx, g.w, gw, i * B * N);
          addSlice(ctx, g.e, ge, i * B * W);
          addSlice(ctx, g.a, ga, i * B * W);
        });
        return true;
      },
    },
  });
}

/** What the forward pass keeps: P (null where the kernels recompute it) and, on the kernel, the heads packed. */
interface WriteSaved {
  keep: Buf | null;
  packed: { w: F; e: F; a: F } | null;
}

/** The TypeScript twin of the forward kernel: keep = Π_h (1 − w_h e_hᵀ), out = M∘keep + Σ_h w_h a_hᵀ. */
function writeForwardTs(M: Buf, heads: readonly { w: Buf; e: Buf; a: Buf }[], keep: Buf, out: Buf, B: number, N: number, W: number): void {
  const size = B * N * W;
  keep.fill(1);
  for (const { w, e } of heads) {
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < N; i++) {
        const wi = w[b * N + i]!;
        const m = (b * N + i) * W;
        for (let j = 0; j < W; j++) keep[m + j]! *= 1 - wi * e[b * W + j]!;
      }
    }
  }
  for (let x = 0; x < size; x++) out[x] = M[x]! * keep[x]!;
  for (const { w, a } of heads) {
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < N; i++) {
        const wi = w[b * N + i]!;
        const m = (b * N + i) * W;
        for (let j = 0; j < W; j++) out[m + j]! += wi * a[b * W + j]!;
      }
    }
  }
}

/** The heads' buffers one after another (one head: its own buffer, no copy), in ctx's pool. */
function pack(ctx: OpContext, parts: readonly Buf[]): Float32Array {
  if (parts.length === 1) return parts[0] as Float32Array;
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = ctx.alloc('f32', n) as Float32Array;
  const copy = (): void => {
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
  };
  copy();
  ctx.replayJs(copy);
  return out;
}

/** g += src[offset, offset + g.length) (g null: not wanted). */
function addSlice(ctx: OpContext, g: F | null, src: F, offset: number): void {
  if (g === null) return;
  const add = (): void => {
    for (let i = 0; i < g.length; i++) g[i]! += src[offset + i]!;
  };
  add();
  ctx.replayJs(add);
}
