/**
 * @file Blocks of columns copied or added between row-major buffers: on the kernels' block copy
 * and add (copyCols, addCols in src/kernels/assembly/matmul.ts) when both buffers are on the
 * kernel heap given (an op's context's), else plain loops (TypedArray.set is slow on the kernels' shared memory,
 * and a subarray per row makes garbage). Both give the same numbers: copies, and float32 sums.
 * Used by concat, linear's bias and the gradient threads' sums.
 */
import type { Buf } from '../tensor/tensor.js';
import type { KernelHeap } from './heap.js';

/**
 * dst[d0 + r·ds + j] = src[s0 + r·ss + j] for r < rows, j < cols (a stride of 0 repeats a row),
 * on the kernel when both buffers are on heap `h`. @returns false (nothing done) otherwise
 */
export function copyColumnsKernel(h: KernelHeap | null, src: Buf, s0: number, ss: number, dst: Buf, d0: number, ds: number, rows: number, cols: number): boolean {
  const ps = h === null ? -1 : h.ptr(src), pd = ps < 0 ? -1 : h!.ptr(dst);
  if (pd < 0) return false;
  h!.k.copyCols(ps + 4 * s0, ss, pd + 4 * d0, ds, rows, cols);
  return true;
}

/** dst[d0 + r·ds + j] += src[s0 + r·ss + j], rows in order, on the kernel as copyColumnsKernel. @returns false (nothing done) otherwise */
export function addColumnsKernel(h: KernelHeap | null, src: Buf, s0: number, ss: number, dst: Buf, d0: number, ds: number, rows: number, cols: number): boolean {
  const ps = h === null ? -1 : h.ptr(src), pd = ps < 0 ? -1 : h!.ptr(dst);
  if (pd < 0) return false;
  h!.k.addCols(ps + 4 * s0, ss, pd + 4 * d0, ds, rows, cols);
  return true;
}

/** True when every buffer is on kernel heap `h` (so the block kernels take them all). */
export function onKernelHeap(h: KernelHeap | null, bufs: readonly (Buf | null)[]): boolean {
  return h !== null && bufs.every((b) => b === null || h.ptr(b) >= 0);
}

/** The loops of copyColumns. */
export function copyColumnsTs(src: Buf, s0: number, ss: number, dst: Buf, d0: number, ds: number, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) dst[d0 + r * ds + j] = src[s0 + r * ss + j]!;
}

/** The loops of addColumns. */
export function addColumnsTs(src: Buf, s0: number, ss: number, dst: Buf, d0: number, ds: number, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) dst[d0 + r * ds + j]! += src[s0 + r * ss + j]!;
}

/** copyColumnsKernel where it can, else its loops. */
export function copyColumns(h: KernelHeap | null, src: Buf, s0: number, ss: number, dst: Buf, d0: number, ds: number, rows: number, cols: number): void {
  if (!copyColumnsKernel(h, src, s0, ss, dst, d0, ds, rows, cols)) copyColumnsTs(src, s0, ss, dst, d0, ds, rows, cols);
}

/** addColumnsKernel where it can, else its loops. */
export function addColumns(h: KernelHeap | null, src: Buf, s0: number, ss: number, dst: Buf, d0: number, ds: number, rows: number, cols: number): void {
  if (!addColumnsKernel(h, src, s0, ss, dst, d0, ds, rows, cols)) addColumnsTs(src, s0, ss, dst, d0, ds, rows, cols);
}
