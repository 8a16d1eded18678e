/**
 * @file Elementwise and shape ops with their gradients, each backward beside its forward.
 * Shapes use SPEC.md's letters; 2-D ops take batch-major `[B, K]` tensors.
 */
import { alloc, allocOverwritten, expectShape, Tensor, tapeFor, type Buf } from './tensor.js';

/** The elementwise activations, by kind: one loop per kind and no callbacks in it (see unary). */
const enum Act { Sigmoid, Tanh, Softplus, Oneplus }

function unary(x: Tensor, act: Act): Tensor {
  // a switch on a constant per element, rather than a function argument called per element:
  // the calls were megamorphic (one site for every activation) and cost more than the math
  const tape = tapeFor(x);
  const n = x.size;
  const xd = x.data;
  const yd = allocOverwritten(x.dtype, n);
  switch (act) {
    case Act.Sigmoid: for (let i = 0; i < n; i++) yd[i] = sigmoidScalar(xd[i]!); break;
    case Act.Tanh: for (let i = 0; i < n; i++) yd[i] = Math.tanh(xd[i]!); break;
    case Act.Softplus: for (let i = 0; i < n; i++) yd[i] = softplusScalar(xd[i]!); break;
    case Act.Oneplus: for (let i = 0; i < n; i++) yd[i] = 1 + softplusScalar(xd[i]!); break;
  }
  const y = new Tensor(yd, x.shape, tape !== null);
  if (tape) {
    tape.push(() => {
      const gy = y.grad;
      if (gy === null) return;
      const gx = x.g();
      switch (act) {
        case Act.Sigmoid: for (let i = 0; i < n; i++) gx[i]! += gy[i]! * yd[i]! * (1 - yd[i]!); break;
        case Act.Tanh: for (let i = 0; i < n; i++) gx[i]! += gy[i]! * (1 - yd[i]! * yd[i]!); break;
        // d softplus(x)/dx = σ(x), for oneplus too
        case Act.Softplus:
        case Act.Oneplus: for (let i = 0; i < n; i++) gx[i]! += gy[i]! * sigmoidScalar(xd[i]!); break;
      }
    });
  }
  return y;
}

export function sigmoidScalar(v: number): number {
  return v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
}

/** log(1 + e^v) without overflow for large |v|. */
export function softplusScalar(v: number): number {
  return v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));
}

export const sigmoid = (x: Tensor): Tensor => unary(x, Act.Sigmoid);
export const tanh = (x: Tensor): Tensor => unary(x, Act.Tanh);
export const softplus = (x: Tensor): Tensor => unary(x, Act.Softplus);
/** 1 + softplus(x): the NTM sharpening exponent γ ≥ 1. */
export const oneplus = (x: Tensor): Tensor => unary(x, Act.Oneplus);

/** Clamps to [lo, hi]; the gradient passes where lo ≤ x ≤ hi (PyTorch's rule) and is 0 outside. */
export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  // its own loops rather than unary's callbacks: it runs on every controller output and logit
  const tape = tapeFor(x);
  const n = x.size;
  const xd = x.data;
  const yd = allocOverwritten(x.dtype, n);
  for (let i = 0; i < n; i++) {
    const v = xd[i]!;
    yd[i] = v < lo ? lo : v > hi ? hi : v;
  }
  const y = new Tensor(yd, x.shape, tape !== null);
  if (tape) {
    tape.push(() => {
      const gy = y.grad;
      if (gy === null) return;
      const gx = x.g();
      for (let i = 0; i < n; i++) {
        const v = xd[i]!;
        if (v >= lo && v <= hi) gx[i]! += gy[i]!;
      }
    });
  }
  return y;
}

/**
 * Softmax over the last axis.
 * @param x [..., K]
 */
export function softmax(x: Tensor): Tensor {
  const tape = tapeFor(x);
  const K = x.shape[x.shape.length - 1]!;
  const rows = x.size / K;
  const xd = x.data;
  const yd = alloc(x.dtype, x.size);
  for (let r = 0; r < rows; r++) softmaxRow(xd, yd, r * K, K, 1);
  const y = new Tensor(yd, x.shape, tape !== null);
  if (tape) {
    tape.push(() => {
      const gy = y.grad;
      if (gy === null) return;
      const gx = x.g();
      for (let r = 0; r < rows; r++) {
        const o = r * K;
        let dot = 0;
        for (let k = 0; k < K; k++) dot += gy[o + k]! * yd[o + k]!;
        for (let k = 0; k < K; k++) gx[o + k]! += yd[o + k]! * (gy[o + k]! - dot);
      }
    });
  }
  return y;
}

/** y[o..o+K) = softmax(scale · x[o..o+K)), max-shifted for stability. */
export function softmaxRow(x: Buf, y: Buf, o: number, K: number, scale: number): void {
  let m = -Infinity;
  for (let k = 0; k < K; k++) m = Math.max(m, scale * x[o + k]!);
  let s = 0;
  for (let k = 0; k < K; k++) {
    const e = Math.exp(scale * x[o + k]! - m);
    y[o + k] = e;
    s += e;
  }
  for (let k = 0; k < K; k++) y[o + k]! /= s;
}

/**
 * Concatenates 2-D tensors along the last axis.
 * @param xs each [B, K_i]  @returns [B, ΣK_i]
 */
export function concat(xs: readonly Tensor[]): Tensor {
  const B = xs[0]!.shape[0]!;
  let K = 0;
  for (const x of xs) {
    if (x.shape.length !== 2 || x.shape[0] !== B) {
      throw new Error(`concat: every input must be [${B}, K], got [${x.shape.join(', ')}]`);
    }
    K += x.shape[1]!;
  }
  const tape = tapeFor(...xs);
  const yd = allocOverwritten(xs[0]!.dtype, B * K);
  let off = 0;
  for (const x of xs) {
    const k = x.shape[1]!;
    // plain loops: no subarray view per row, and TypedArray.set is slow on the kernels' shared memory
    const xd = x.data;
    for (let b = 0; b < B; b++) for (let j = 0; j < k; j++) yd[b * K + off + j] = xd[b * k + j]!;
    off += k;
  }
  const y = new Tensor(yd, [B, K], tape !== null);
  if (tape) {
    tape.push(() => {
      const gy = y.grad;
      if (gy === null) return;
      let o = 0;
      for (const x of xs) {
        const k = x.shape[1]!;
        if (x.requiresGrad) {
          const gx = x.g();
          for (let b = 0; b < B; b++) for (let j = 0; j < k; j++) gx[b * k + j]! += gy[b * K + o + j]!;
        }
        o += k;
      }
    });
  }
  return y;
}

/** What splitActivate applies to a group of columns. */
export type PartActivation = 'tanh' | 'softplus' | 'sigmoid' | 'softmax' | 'oneplus' | 'identity';

/**
 * Splits the columns of x into consecutive parts and applies each part's activation (softmax
 * over the part's columns): sliceCols then the activation, for every part, as one op with one
 * backward pass (the heads' parameters of a time step come out of one product this way).
 * @param x [B, ΣK_i]  @returns one [B, K_i] tensor per part
 */
export function splitActivate(x: Tensor, parts: readonly { readonly size: number; readonly activation: PartActivation }[]): Tensor[] {
  const [B, K] = x.shape as [number, number];
  const total = parts.reduce((n, p) => n + p.size, 0);
  if (x.shape.length !== 2 || total !== K) {
    throw new Error(`splitActivate: parts of ${total} columns in all do not split shape [${x.shape.join(', ')}]`);
  }
  const tape = tapeFor(x);
  const xd = x.data;
  const outs: Tensor[] = [];
  let off = 0;
  for (const p of parts) {
    const k = p.size;
    const yd = allocOverwritten(x.dtype, B * k);
    for (let b = 0; b < B; b++) {
      const xo = b * K + off, yo = b * k;
      switch (p.activation) {
        case 'sigmoid': for (let j = 0; j < k; j++) yd[yo + j] = sigmoidScalar(xd[xo + j]!); break;
        case 'tanh': for (let j = 0; j < k; j++) yd[yo + j] = Math.tanh(xd[xo + j]!); break;
        case 'softplus': for (let j = 0; j < k; j++) yd[yo + j] = softplusScalar(xd[xo + j]!); break;
        case 'oneplus': for (let j = 0; j < k; j++) yd[yo + j] = 1 + softplusScalar(xd[xo + j]!); break;
        case 'identity': for (let j = 0; j < k; j++) yd[yo + j] = xd[xo + j]!; break;
        case 'softmax': {
          let m = -Infinity;
          for (let j = 0; j < k; j++) m = Math.max(m, xd[xo + j]!);
          let sum = 0;
          for (let j = 0; j < k; j++) {
            const e = Math.exp(xd[xo + j]! - m);
            yd[yo + j] = e;
            sum += e;
          }
          for (let j = 0; j < k; j++) yd[yo + j]! /= sum;
          break;
        }
      }
    }
    outs.push(new Tensor(yd, [B, k], tape !== null));
    off += k;
  }
  if (tape) {
    tape.push(() => {
      let gx: Buf | null = null;
      let o = 0;
      parts.forEach((p, i) => {
        const y = outs[i]!, k = p.size;
        const gy = y.grad;
        if (gy !== null) {
          gx ??= x.g();
          const yd = y.data;
          for (let b = 0; b < B; b++) {
            const xo = b * K + o, yo = b * k;
            switch (p.activation) {
              case 'sigmoid': for (let j = 0; j < k; j++) gx[xo + j]! += gy[yo + j]! * yd[yo + j]! * (1 - yd[yo + j]!); break;
              case 'tanh': for (let j = 0; j < k; j++) gx[xo + j]! += gy[yo + j]! * (1 - yd[yo + j]! * yd[yo + j]!); break;
              case 'softplus':
              case 'oneplus': for (let j = 0; j < k; j++) gx[xo + j]! += gy[yo + j]! * sigmoidScalar(xd[xo + j]!); break;
              case 'identity': for (let j = 0; j < k; j++) gx[xo + j]! += gy[yo + j]!; break;
              case 'softmax': {
                let dot = 0;
                for (let j = 0; j < k; j++) dot += gy[yo + j]! * yd[yo + j]!;
                for (let j = 0; j < k; j++) gx[xo + j]! += yd[yo + j]! * (gy[yo + j]! - dot);
                break;
              }
            }
          }
        }
        o += k;
      });
    });
  }
  return outs;
}

/**
 * Columns [start, start+len) of a 2-D tensor.
 * @param x [B, K]  @returns [B, len]
 */
export function sliceCols(x: Tensor, start: number, len: number): Tensor {
  const [B, K] = x.shape as [number, number];
  if (x.shape.length !== 2 || start < 0 || start + len > K) {
    throw new Error(`sliceCols: cannot take columns [${start}, ${start + len}) of shape [${x.shape.join(', ')}]`);
  }
  const tape = tapeFor(x);
  const yd = allocOverwritten(x.dtype, B * len);
  const xd = x.data;
  for (let b = 0; b < B; b++) for (let j = 0; j < len; j++) yd[b * len + j] = xd[b * K + start + j]!;
  const y = new Tensor(yd, [B, len], tape !== null);
  if (tape) {
    tape.push(() => {
      const gy = y.grad;
      if (gy === null) return;
      const gx = x.g();
      for (let b = 0; b < B; b++) for (let j = 0; j < len; j++) gx[b * K + start + j]! += gy[b * len + j]!;
    });
  }
  return y;
}

/**
 * Σ_i c_i · x_i, a scalar: the probe loss that gradient checks differentiate.
 * @param c same size as x
 */
export function weightedSum(x: Tensor, c: ArrayLike<number>): Tensor {
  if (c.length !== x.size) throw new Error(`weightedSum: ${c.length} weights for ${x.size} elements`);
  const tape = tapeFor(x);
  let s = 0;
  for (let i = 0; i < x.size; i++) s += c[i]! * x.data[i]!;
  const y = Tensor.from([s], [1], x.dtype, tape !== null);
  if (tape) {
    tape.push(() => {
      const gy = y.grad;
      if (gy === null) return;
      const gx = x.g();
      for (let i = 0; i < x.size; i++) gx[i]! += gy[0]! * c[i]!;
    });
  }
  return y;
}

/** Sum of scalars (each shape [1]). */
export function addScalars(xs: readonly Tensor[]): Tensor {
  const tape = tapeFor(...xs);
  let s = 0;
  for (const x of xs) {
    expectShape('addScalars', 'input', x, [1]);
    s += x.data[0]!;
  }
  const y = Tensor.from([s], [1], xs[0]!.dtype, tape !== null);
  if (tape) {
    tape.push(() => {
      const gy = y.grad;
      if (gy === null) return;
      for (const x of xs) if (x.requiresGrad) x.g()[0]! += gy[0]!;
    });
  }
  return y;
}
