/**
 * @file Ops over a 2-D tensor's columns that the WASM kernels serve when they are on: concat
 * (columns copied side by side) and splitActivate (a product's columns split into parts, each
 * with its activation). Their plain-TypeScript twins are the loops here and the activations of
 * tensor/ops.ts; they live above tensor/, which imports nothing from the kernels.
 */
import { activateBackwardWasm, activateForwardWasm } from '../kernels/activate.js';
import { addColumnsKernel, addColumnsTs, copyColumnsKernel, copyColumnsTs, onKernelHeap } from '../kernels/blocks.js';
import { activate, activateBackward, type PartActivation } from '../tensor/ops.js';
import type { Tensor } from '../tensor/tensor.js';
import { op, op1 } from '../tensor/op.js';

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
  const widths = xs.map((x) => x.shape[1]!);
  /** calls `each(i, offset)` for every input in turn, offset its first column in the output */
  const columns = (each: (i: number, off: number) => boolean | void): boolean => {
    let off = 0;
    for (let i = 0; i < xs.length; i++) {
      if (each(i, off) === false) return false;
      off += widths[i]!;
    }
    return true;
  };
  return op1({
    inputs: xs,
    outputs: [[B, K]],
    forward: (x, [y]) => void columns((i, off) => copyColumnsTs(x[i]!, 0, widths[i]!, y!, off, K, B, widths[i]!)),
    backward: (_x, _y, _s, [gy], gx) => void columns((i, off) => { if (gx[i]) addColumnsTs(gy!, off, K, gx[i]!, 0, widths[i]!, B, widths[i]!); }),
    kernel: {
      // the block copies run on the kernel when every buffer is on the kernel heap (checked
      // first: a pass is done all on the kernel or all by the twin)
      forward: (x, [y], _s, ctx) => onKernelHeap(ctx.heap, [y!, ...x]) && columns((i, off) => copyColumnsKernel(ctx.heap, x[i]!, 0, widths[i]!, y!, off, K, B, widths[i]!)),
      backward: (_x, _y, _s, [gy], gx, _fresh, ctx) => onKernelHeap(ctx.heap, [gy!, ...gx]) &&
        columns((i, off) => gx[i] === null || addColumnsKernel(ctx.heap, gy!, off, K, gx[i]!, 0, widths[i]!, B, widths[i]!)),
    },
  });
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
  return op({
    inputs: [x],
    outputs: parts.map((p) => [B, p.size]),
    forward: ([xd], ys) => {
      let off = 0;
      parts.forEach((p, i) => {
        for (let b = 0; b < B; b++) activate(p.activation, xd!, b * K + off, ys[i]!, b * p.size, p.size);
        off += p.size;
      });
    },
    backward: ([xd], ys, _s, gys, [gx]) => {
      let off = 0;
      parts.forEach((p, i) => {
        const gy = gys[i]!, k = p.size;
        if (gy !== null) for (let b = 0; b < B; b++) activateBackward(p.activation, xd!, b * K + off, ys[i]!, b * k, gy, gx!, k);
        off += k;
      });
    },
    kernel: {
      forward: ([xd], ys, _s, ctx) => activateForwardWasm(ctx.heap, xd!, K, B, parts, ys),
      backward: ([xd], ys, _s, gys, [gx], _fresh, ctx) => activateBackwardWasm(ctx.heap, xd!, K, B, parts, ys, gys, gx!),
    },
  });
}
