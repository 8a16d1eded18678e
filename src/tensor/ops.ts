/**
 * @file Elementwise and shape ops with their gradients, each backward beside its forward.
 * Shapes use docs/model.md's letters; 2-D ops take batch-major `[B, K]` tensors.
 */
import { expectShape, Tensor, type Buf } from './tensor.js';
import { op1 } from './op.js';

/** An activation, applied elementwise (softmax: over the group of values it is given). */
export type PartActivation = 'tanh' | 'softplus' | 'sigmoid' | 'softmax' | 'oneplus' | 'identity';

/**
 * y[yo..yo+k) = act(x[xo..xo+k)). One loop per kind and no callbacks in it: a function argument
 * called per element was a megamorphic call site (one for every activation) costing more than
 * the math. Shared by the elementwise ops, softmax and splitActivate (nn/columns.ts, whose WASM
 * kernel it is the twin of).
 */
export function activate(act: PartActivation, xd: Buf, xo: number, yd: Buf, yo: number, k: number): void {
  switch (act) {
    case 'sigmoid': for (let j = 0; j < k; j++) yd[yo + j] = sigmoidScalar(xd[xo + j]!); break;
    case 'tanh': for (let j = 0; j < k; j++) yd[yo + j] = Math.tanh(xd[xo + j]!); break;
    case 'softplus': for (let j = 0; j < k; j++) yd[yo + j] = softplusScalar(xd[xo + j]!); break;
    case 'oneplus': for (let j = 0; j < k; j++) yd[yo + j] = 1 + softplusScalar(xd[xo + j]!); break;
    case 'identity': for (let j = 0; j < k; j++) yd[yo + j] = xd[xo + j]!; break;
    case 'softmax': {
      // max-shifted for stability
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

/** gx[xo..xo+k) += dL/dx from gy[yo..yo+k), for y = act(x) as activate computed it. */
export function activateBackward(act: PartActivation, xd: Buf, xo: number, yd: Buf, yo: number, gy: Buf, gx: Buf, k: number): void {
  switch (act) {
    case 'sigmoid': for (let j = 0; j < k; j++) gx[xo + j]! += gy[yo + j]! * yd[yo + j]! * (1 - yd[yo + j]!); break;
    case 'tanh': for (let j = 0; j < k; j++) gx[xo + j]! += gy[yo + j]! * (1 - yd[yo + j]! * yd[yo + j]!); break;
    // d softplus(x)/dx = σ(x), for oneplus too
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

function unary(x: Tensor, act: PartActivation): Tensor {
  const n = x.size;
  return op1({
    inputs: [x],
    outputs: [x.shape],
    forward: ([xd], [yd]) => activate(act, xd!, 0, yd!, 0, n),
    backward: ([xd], [yd], _s, [gy], [gx]) => activateBackward(act, xd!, 0, yd!, 0, gy!, gx!, n),
  });
}

export function sigmoidScalar(v: number): number {
  return v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
}

/** log(1 + e^v) without overflow for large |v|. */
export function softplusScalar(v: number): number {
  return v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));
}

export const sigmoid = (x: Tensor): Tensor => unary(x, 'sigmoid');
export const tanh = (x: Tensor): Tensor => unary(x, 'tanh');
export const softplus = (x: Tensor): Tensor => unary(x, 'softplus');
/** 1 + softplus(x): the NTM sharpening exponent γ ≥ 1. */
export const oneplus = (x: Tensor): Tensor => unary(x, 'oneplus');

/** Clamps to [lo, hi]; the gradient passes where lo ≤ x ≤ hi (PyTorch's rule) and is 0 outside. */
export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  // its own loops (bounds, not an activation kind): it runs on every controller output and logit
  const n = x.size;
  return op1({
    inputs: [x],
    outputs: [x.shape],
    // Math.min/max rather than a conditional: choosing between a bound (a tagged argument) and a
    // float made V8 box every element as a heap number; the same values, NaN and −0 included
    forward: ([xd], [yd]) => {
      for (let i = 0; i < n; i++) yd![i] = Math.min(hi, Math.max(lo, xd![i]!));
    },
    backward: ([xd], _y, _s, [gy], [gx]) => {
      for (let i = 0; i < n; i++) {
        const v = xd![i]!;
        if (v >= lo && v <= hi) gx![i]! += gy![i]!;
      }
    },
  });
}

/**
 * Softmax over the last axis.
 * @param x [..., K]
 */
export function softmax(x: Tensor): Tensor {
  const K = x.shape[x.shape.length - 1]!;
  const rows = x.size / K;
  return op1({
    inputs: [x],
    outputs: [x.shape],
    forward: ([xd], [yd]) => {
      for (let r = 0; r < rows; r++) activate('softmax', xd!, r * K, yd!, r * K, K);
    },
    backward: ([xd], [yd], _s, [gy], [gx]) => {
      for (let r = 0; r < rows; r++) activateBackward('softmax', xd!, r * K, yd!, r * K, gy!, gx!, K);
    },
  });
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
  return op1({
    inputs: [x],
    outputs: [[B, len]],
    forward: ([xd], [yd]) => {
      for (let b = 0; b < B; b++) for (let j = 0; j < len; j++) yd![b * len + j] = xd![b * K + start + j]!;
    },
    backward: (_x, _y, _s, [gy], [gx]) => {
      for (let b = 0; b < B; b++) for (let j = 0; j < len; j++) gx![b * K + start + j]! += gy![b * len + j]!;
    },
  });
}

/**
 * The first n rows of x [B, ...] (0 < n ≤ B), as a view: the same buffer, no copy. While a tape
 * records, the view's gradient is likewise the first n rows of x's, so every gradient added into
 * the view lands in x's with no backward pass of its own. The rows left out get no gradient
 * through it: for a batch that drops its finished samples between time steps (runSequence's
 * `rows`), that is theirs exactly, as nothing later reads those rows.
 * @param x [B, ...]  @returns [n, ...], or x itself when n = B
 */
export function firstRows(x: Tensor, n: number): Tensor {
  const B = x.shape[0];
  if (B === undefined || !Number.isInteger(n) || n < 1 || n > B) {
    throw new Error(`firstRows: cannot take the first ${n} rows of shape [${x.shape.join(', ')}] (a whole number from 1 to its first dimension)`);
  }
  if (n === B) return x;
  const len = (x.size / B) * n;
  const tape = x.requiresGrad ? x.ctx.tape : null;
  const y = new Tensor(x.data.subarray(0, len), [n, ...x.shape.slice(1)], tape !== null, x.ctx);
  // x's gradient is made now (zeroed) so the view's can be part of it
  if (tape) y.grad = x.g().subarray(0, len);
  return y;
}

/**
 * Σ_i c_i · x_i, a scalar: the probe loss that gradient checks differentiate.
 * @param c same size as x
 */
export function weightedSum(x: Tensor, c: ArrayLike<number>): Tensor {
  if (c.length !== x.size) throw new Error(`weightedSum: ${c.length} weights for ${x.size} elements`);
  const n = x.size;
  return op1({
    inputs: [x],
    outputs: [[1]],
    forward: ([xd], [y]) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += c[i]! * xd![i]!;
      y![0] = s;
    },
    backward: (_x, _y, _s, [gy], [gx]) => {
      for (let i = 0; i < n; i++) gx![i]! += gy![0]! * c[i]!;
    },
  });
}

/** Sum of scalars (each shape [1]). */
export function addScalars(xs: readonly Tensor[]): Tensor {
  for (const x of xs) expectShape('addScalars', 'input', x, [1]);
  return op1({
    inputs: xs,
    outputs: [[1]],
    forward: (x, [y]) => {
      let s = 0;
      for (const v of x) s += v[0]!;
      y![0] = s;
    },
    backward: (_x, _y, _s, [gy], gx) => {
      for (const g of gx) if (g) g[0]! += gy![0]!;
    },
  });
}
