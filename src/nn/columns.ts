/**
 * @file Ops over a 2-D tensor's columns that the WASM kernels serve when they are on: concat
 * (columns copied side by side) and splitActivate (a product's columns split into parts, each
 * with its activation). Their plain-TypeScript twins are the loops here and the activations of
 * tensor/ops.ts; they live above tensor/, which imports nothing from the kernels.
 */
import { activateBackwardWasm, activateForwardWasm } from '../kernels/activate.js';
import { addColumns, copyColumns } from '../kernels/blocks.js';
import { activate, activateBackward, type PartActivation } from '../tensor/ops.js';
import { allocOverwritten, Tensor, tapeFor, type Buf } from '../tensor/tensor.js';

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
    copyColumns(x.data, 0, k, yd, off, K, B, k);
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
          addColumns(gy, o, K, gx, 0, k, B, k);
        }
        o += k;
      }
    });
  }
  return y;
}

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
  const ys = parts.map((p) => allocOverwritten(x.dtype, B * p.size));
  if (!(xd instanceof Float32Array && activateForwardWasm(xd, K, B, parts, ys as Float32Array[]))) {
    let off = 0;
    parts.forEach((p, i) => {
      for (let b = 0; b < B; b++) activate(p.activation, xd, b * K + off, ys[i]!, b * p.size, p.size);
      off += p.size;
    });
  }
  const outs = ys.map((yd, i) => new Tensor(yd, [B, parts[i]!.size], tape !== null));
  if (tape) {
    tape.push(() => {
      if (xd instanceof Float32Array && outs.some((y) => y.grad !== null)) {
        const gx = x.g() as Float32Array;
        if (activateBackwardWasm(xd, K, B, parts, ys as Float32Array[], outs.map((y) => y.grad as Float32Array | null), gx)) return;
      }
      let gx: Buf | null = null;
      let o = 0;
      parts.forEach((p, i) => {
        const y = outs[i]!, k = p.size;
        const gy = y.grad;
        if (gy !== null) {
          gx ??= x.g();
          for (let b = 0; b < B; b++) activateBackward(p.activation, xd, b * K + o, y.data, b * k, gy, gx, k);
        }
        o += k;
      });
    });
  }
  return outs;
}
