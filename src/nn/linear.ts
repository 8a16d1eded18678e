/**
 * @file Linear layer y = x·Wᵀ + b (PyTorch layout: W is [out, in]), its backward pass,
 * and PyTorch's default initialisation U(−1/√in, 1/√in) for weight and bias.
 */
import { expectShape, Tensor, type Buf, type DType } from '../tensor/tensor.js';
import type { Tape } from '../tensor/tape.js';
import { op1 } from '../tensor/op.js';
import type { KernelHeap } from '../kernels/heap.js';
import { table } from '../kernels/memory.js';
import type { Rng } from '../tensor/random.js';
import { addColumns, addColumnsTs, copyColumns, copyColumnsTs } from '../kernels/blocks.js';

export interface LinearParams {
  readonly weight: Tensor; // [O, I]
  readonly bias: Tensor; // [O]
}

/**
 * y[b, o] += Σ_i x[b, i] · W[o, i], over flat buffers: the TypeScript twin of the WASM kernel.
 * Four output columns per pass, so each x element loaded feeds four products.
 */
export function matmulXWtTs(x: Buf, w: Buf, y: Buf, B: number, I: number, O: number): void {
  const O4 = O - (O % 4);
  for (let b = 0; b < B; b++) {
    const xb = b * I;
    const yb = b * O;
    let o = 0;
    for (; o < O4; o += 4) {
      const w0 = o * I, w1 = w0 + I, w2 = w1 + I, w3 = w2 + I;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let i = 0; i < I; i++) {
        const xi = x[xb + i]!;
        s0 += xi * w[w0 + i]!;
        s1 += xi * w[w1 + i]!;
        s2 += xi * w[w2 + i]!;
        s3 += xi * w[w3 + i]!;
      }
      y[yb + o]! += s0;
      y[yb + o + 1]! += s1;
      y[yb + o + 2]! += s2;
      y[yb + o + 3]! += s3;
    }
    for (; o < O; o++) {
      const wo = o * I;
      let s = 0;
      for (let i = 0; i < I; i++) s += x[xb + i]! * w[wo + i]!;
      y[yb + o]! += s;
    }
  }
}

/**
 * gx[b, i] += Σ_o gy[b, o] · W[o, i]  and  gW[o, i] += Σ_b gy[b, o] · x[b, i].
 * Each pass folds four rows into one read-modify-write of the accumulator row.
 */
export function matmulXWtBackwardTs(
  x: Buf, w: Buf, gy: Buf, gx: Buf | null, gw: Buf | null, B: number, I: number, O: number,
): void {
  if (gx !== null) {
    const O4 = O - (O % 4);
    for (let b = 0; b < B; b++) {
      const xb = b * I, yb = b * O;
      let o = 0;
      for (; o < O4; o += 4) {
        const g0 = gy[yb + o]!, g1 = gy[yb + o + 1]!, g2 = gy[yb + o + 2]!, g3 = gy[yb + o + 3]!;
        const w0 = o * I, w1 = w0 + I, w2 = w1 + I, w3 = w2 + I;
        for (let i = 0; i < I; i++) {
          gx[xb + i]! += g0 * w[w0 + i]! + g1 * w[w1 + i]! + g2 * w[w2 + i]! + g3 * w[w3 + i]!;
        }
      }
      for (; o < O; o++) {
        const g = gy[yb + o]!, wo = o * I;
        for (let i = 0; i < I; i++) gx[xb + i]! += g * w[wo + i]!;
      }
    }
  }
  if (gw !== null) {
    const B4 = B - (B % 4);
    for (let o = 0; o < O; o++) {
      const wo = o * I;
      let b = 0;
      for (; b < B4; b += 4) {
        const g0 = gy[b * O + o]!, g1 = gy[(b + 1) * O + o]!, g2 = gy[(b + 2) * O + o]!, g3 = gy[(b + 3) * O + o]!;
        const x0 = b * I, x1 = x0 + I, x2 = x1 + I, x3 = x2 + I;
        for (let i = 0; i < I; i++) {
          gw[wo + i]! += g0 * x[x0 + i]! + g1 * x[x1 + i]! + g2 * x[x2 + i]! + g3 * x[x3 + i]!;
        }
      }
      for (; b < B; b++) {
        const g = gy[b * O + o]!, xb = b * I;
        for (let i = 0; i < I; i++) gw[wo + i]! += g * x[xb + i]!;
      }
    }
  }
}

/** y[b, o] += Σ_i x[b, i] · W[o, i]; on the WASM SIMD kernel when given heap `h` and the buffers are float32. */
export function matmulXWt(h: KernelHeap | null, x: Buf, w: Buf, y: Buf, B: number, I: number, O: number): void {
  if (h !== null && x instanceof Float32Array && w instanceof Float32Array && y instanceof Float32Array) {
    h.k.matmulXWt(h.in(x), h.in(w), h.inout(y), B, I, O);
    h.done();
    return;
  }
  matmulXWtTs(x, w, y, B, I, O);
}

/**
 * The backward pass of matmulXWt; on the WASM SIMD kernels when given heap `h` and the buffers are
 * float32. @param deferTo leave gW's product for the end of this tape's backward pass under way,
 * when it can (deferWeightGrad: only for x and gy that keep their values until then; null: now)
 */
export function matmulXWtBackward(
  h: KernelHeap | null, x: Buf, w: Buf, gy: Buf, gx: Buf | null, gw: Buf | null, B: number, I: number, O: number, deferTo: Tape | null = null,
): void {
  const f32 = x instanceof Float32Array && w instanceof Float32Array && gy instanceof Float32Array;
  if (h === null || !f32 || !(gx === null || gx instanceof Float32Array) || !(gw === null || gw instanceof Float32Array)) {
    matmulXWtBackwardTs(x, w, gy, gx, gw, B, I, O);
    return;
  }
  const pgy = h.in(gy);
  if (gx !== null) h.k.matmulXWtBackwardX(h.in(w), pgy, h.inout(gx), B, I, O);
  if (gw !== null && !(deferTo !== null && deferWeightGrad(deferTo, h, x, gy, gw, B, I, O))) h.k.matmulXWtBackwardW(h.in(x), pgy, h.inout(gw), B, I, O);
  h.done();
}

/**
 * gW += gyᵀ·x (matmulXWtBackwardW), left for the end of `tape`'s backward pass under way: there, each
 * weight's products (one per time step in a recurrent model) run as one list
 * (matmulXWtBackwardWList), in the order they came, which gives the same bits as running each
 * when it came while loading and storing gW once instead of once per product. x and gy must keep
 * their values until then: an op's input and its output's gradient do (the gradient is complete
 * before the op's backward step runs, and the tape frees nothing during the pass). The products
 * wait in the pass's own list (BackwardPass.products).
 * @returns false (do it now) outside a backward pass, on a tape that defers nothing (Tape.defers),
 * or when a buffer is not on the heap
 */
export function deferWeightGrad(tape: Tape | null, h: KernelHeap, x: Float32Array, gy: Float32Array, gw: Float32Array, B: number, I: number, O: number): boolean {
  const pass = tape === null ? null : tape.backwardPass();
  if (pass === null) return false;
  const px = h.ptr(x), pgy = h.ptr(gy), pgw = h.ptr(gw);
  if (px < 0 || pgy < 0 || pgw < 0) return false;
  const pending = pass.products;
  if (pending.size === 0) {
    tape!.atBackwardEnd(() => {
      for (const [at, { I: i, O: o, items }] of pending) {
        h.k.matmulXWtBackwardWList(table(h, items), items.length / 3, h.tmp(items.length / 3), at, i, o);
        h.done();
      }
    });
  }
  const p = pending.get(pgw);
  if (p === undefined) pending.set(pgw, { I, O, items: [px, pgy, B] });
  else if (p.I !== I || p.O !== O) return false; // (a buffer of another shape: never, but then at once)
  else p.items.push(px, pgy, B);
  return true;
}

/**
 * @param x [B, I]  @param weight [O, I]  @param bias [O]  @returns [B, O]
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  const [O, I] = weight.shape as [number, number];
  const B = x.shape[0]!;
  expectShape('linear', 'input', x, [B, I]);
  if (bias) expectShape('linear', 'bias', bias, [O]);
  return op1({
    inputs: bias ? [x, weight, bias] : [x, weight],
    outputs: [[B, O]],
    forward: ([xd, w, b], [y]) => {
      if (b) copyColumnsTs(b, 0, 0, y!, 0, O, B, O); // every row starts as the bias
      else y!.fill(0);
      matmulXWtTs(xd!, w!, y!, B, I, O);
    },
    backward: ([xd, w], _y, _s, [gy], [gx, gw, gb]) => {
      matmulXWtBackwardTs(xd!, w!, gy!, gx!, gw!, B, I, O);
      if (gb) addColumnsTs(gy!, 0, O, gb, 0, 0, B, O); // the rows of gy summed into gb, in order
    },
    kernel: {
      forward: ([xd, w, b], [y], _s, ctx) => {
        const h = ctx.heap;
        if (h === null) return false;
        if (b) copyColumns(h, b, 0, 0, y!, 0, O, B, O);
        h.k.matmulXWt(h.in(xd!), h.in(w!), b ? h.inout(y!) : h.zeroed(y!), B, I, O);
        h.done();
        return true;
      },
      backward: ([xd, w], _y, _s, [gy], [gx, gw, gb], _fresh, ctx) => {
        if (ctx.heap === null) return false;
        // (deferred: x is the op's input and gy its output's gradient, complete before this step runs)
        matmulXWtBackward(ctx.heap, xd!, w!, gy!, gx!, gw!, B, I, O, ctx.tape);
        if (gb) addColumns(ctx.heap, gy!, 0, O, gb, 0, 0, B, O);
        return true;
      },
    },
  });
}

/** A tensor of U(−bound, bound) values that requires gradients. */
export function uniformParam(shape: readonly number[], bound: number, rng: Rng, dtype: DType): Tensor {
  const t = Tensor.zeros(shape, dtype, true);
  for (let i = 0; i < t.size; i++) t.data[i] = (2 * rng.uniform() - 1) * bound;
  return t;
}

/** PyTorch's nn.Linear default: weight and bias both U(−1/√in, 1/√in). */
export function initLinear(inFeatures: number, outFeatures: number, rng: Rng, dtype: DType): LinearParams {
  const bound = 1 / Math.sqrt(inFeatures);
  return {
    weight: uniformParam([outFeatures, inFeatures], bound, rng, dtype),
    bias: uniformParam([outFeatures], bound, rng, dtype),
  };
}
