/**
 * @file Memory write with erase and add (NTM paper §3.2, DNC paper Methods "Memory writing"),
 * all write heads at once:
 *   M_t = M_{t−1} ∘ Π_h (1 − w_h e_hᵀ) + Σ_h w_h a_hᵀ
 * Every head erases from M_{t−1} before any head adds, so the heads commute.
 */
import { writeBackwardWasm, writeForwardWasm, writeKeepsNoFactor } from '../kernels/memory.js';
import { alloc, allocOverwritten, expectShape, replayJs, Tensor, tapeFor, type Buf } from '../tensor/tensor.js';

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
  const tape = tapeFor(memory, ...heads.flatMap((h) => [h.weights, h.erase, h.add]));
  const M = memory.data;
  const size = B * N * W;
  const out = allocOverwritten(memory.dtype, size); // overwritten entirely, by the kernel or by writeForwardTs
  const f32 = M instanceof Float32Array && heads.every((h) => h.weights.data instanceof Float32Array && h.erase.data instanceof Float32Array && h.add.data instanceof Float32Array);
  // the WASM kernel takes the heads packed head-major: w [H, B, N], e and a [H, B, W]
  const packed = f32 ? { w: pack(heads.map((h) => h.weights.data)), e: pack(heads.map((h) => h.erase.data)), a: pack(heads.map((h) => h.add.data)) } : null;
  // P = Π_h (1 − w_h e_hᵀ), kept for the backward pass unless the kernels recompute it
  let keep: Buf | null = packed && writeKeepsNoFactor(H, W) ? null : allocOverwritten(memory.dtype, size);
  if (!(packed && writeForwardWasm(M as Float32Array, packed.w, packed.e, packed.a, keep as Float32Array | null, out as Float32Array, H, B, N, W))) {
    keep ??= allocOverwritten(memory.dtype, size);
    writeForwardTs(M, heads, keep, out, B, N, W);
  }
  const y = new Tensor(out, [B, N, W], tape !== null);
  if (tape) {
    tape.push(() => {
      const gy = y.grad;
      if (gy === null) return;
      // M_{t−1}'s gradient: this is usually its first contribution (the write is the last op to
      // read it), which the kernel writes into a buffer nobody zeroed
      let gMfresh = false;
      if (memory.requiresGrad && memory.grad === null) {
        memory.grad = allocOverwritten(memory.dtype, size);
        gMfresh = true;
      }
      if (packed) {
        const gM = memory.grad as Float32Array | null;
        // one head: its own gradients are added into; several: packed ones, then added to each head's
        const one = H === 1;
        const grad = (t: Tensor): Float32Array | null => (t.requiresGrad ? (t.g() as Float32Array) : null);
        const gw = one ? grad(heads[0]!.weights) : (alloc('f32', H * B * N) as Float32Array);
        const ge = one ? grad(heads[0]!.erase) : (alloc('f32', H * B * W) as Float32Array);
        const ga = one ? grad(heads[0]!.add) : (alloc('f32', H * B * W) as Float32Array);
        let done: boolean;
        try {
          done = writeBackwardWasm(M as Float32Array, packed.w, packed.e, packed.a, keep as Float32Array | null, gy as Float32Array, gM, gw, ge, ga, H, B, N, W, gMfresh);
        } catch (err) {
          if (gMfresh) memory.grad = null; // never written: no gradient rather than garbage
          throw err;
        }
        if (done) {
          if (!one) {
            heads.forEach((h, i) => {
              addSlice(h.weights, gw!, i * B * N);
              addSlice(h.erase, ge!, i * B * W);
              addSlice(h.add, ga!, i * B * W);
            });
          }
          return;
        }
      }
      if (keep === null) {
        // the forward kernel did not store it and the TypeScript backward needs it
        keep = allocOverwritten(memory.dtype, size);
        writeForwardTs(M, heads, keep, alloc(memory.dtype, size), B, N, W);
      }
      if (memory.requiresGrad) {
        const gM = memory.g();
        if (gMfresh) gM.fill(0);
        for (let x = 0; x < size; x++) gM[x]! += gy[x]! * keep[x]!;
      }
      for (let h = 0; h < H; h++) {
        const head = heads[h]!;
        const w = head.weights.data, e = head.erase.data, a = head.add.data;
        const gw = head.weights.requiresGrad ? head.weights.g() : null;
        const ge = head.erase.requiresGrad ? head.erase.g() : null;
        const ga = head.add.requiresGrad ? head.add.g() : null;
        for (let b = 0; b < B; b++) {
          for (let i = 0; i < N; i++) {
            const wi = w[b * N + i]!;
            const m = (b * N + i) * W;
            let dw = 0;
            for (let j = 0; j < W; j++) {
              const g = gy[m + j]!;
              const ej = e[b * W + j]!;
              // the product over the other heads, computed directly (no division by a factor that may be 0)
              let others = 1;
              if (H > 1) {
                for (let k = 0; k < H; k++) {
                  if (k !== h) others *= 1 - heads[k]!.weights.data[b * N + i]! * heads[k]!.erase.data[b * W + j]!;
                }
              }
              const dFactor = g * M[m + j]! * others; // dL/d(1 − w_i e_j)
              dw += -dFactor * ej + g * a[b * W + j]!;
              if (ge) ge[b * W + j]! += -dFactor * wi;
              if (ga) ga[b * W + j]! += g * wi;
            }
            if (gw) gw[b * N + i]! += dw;
          }
        }
      }
    });
  }
  return y;
}

/** The TypeScript twin of the forward kernel: keep = Π_h (1 − w_h e_hᵀ), out = M∘keep + Σ_h w_h a_hᵀ. */
function writeForwardTs(M: Buf, heads: readonly WriteHeadInput[], keep: Buf, out: Buf, B: number, N: number, W: number): void {
  const size = B * N * W;
  keep.fill(1);
  for (const h of heads) {
    const w = h.weights.data, e = h.erase.data;
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < N; i++) {
        const wi = w[b * N + i]!;
        const m = (b * N + i) * W;
        for (let j = 0; j < W; j++) keep[m + j]! *= 1 - wi * e[b * W + j]!;
      }
    }
  }
  for (let x = 0; x < size; x++) out[x] = M[x]! * keep[x]!;
  for (const h of heads) {
    const w = h.weights.data, a = h.add.data;
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < N; i++) {
        const wi = w[b * N + i]!;
        const m = (b * N + i) * W;
        for (let j = 0; j < W; j++) out[m + j]! += wi * a[b * W + j]!;
      }
    }
  }
}

/** The heads' buffers one after another (one head: its own buffer, no copy). */
function pack(parts: readonly Buf[]): Float32Array {
  if (parts.length === 1) return parts[0] as Float32Array;
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = alloc('f32', n) as Float32Array;
  const copy = (): void => {
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
  };
  copy();
  replayJs(copy);
  return out;
}

function addSlice(t: Tensor, src: Float32Array, offset: number): void {
  if (!t.requiresGrad) return;
  const g = t.g();
  const add = (): void => {
    for (let i = 0; i < g.length; i++) g[i]! += src[offset + i]!;
  };
  add();
  replayJs(add);
}
