/**
 * @file Moves a model's float32 parameters and their gradients onto the kernel heap, so the
 * WASM kernels use them in place. Values are unchanged; float64 models stay as they are.
 *
 * Layout: every parameter is carved from one block (and every gradient from a second block,
 * at the same offsets), in this order: the other parameters, each 16-byte aligned; then every
 * weight the caller marks as fused (FusedPart: for the NTM and DNC, the heads' weights) back to
 * back, then every such bias back to back, in the store's order. Those weights then form one
 * [ΣO, H] matrix and their biases one vector, so all heads' linears run as one product (see
 * headOutputsAll in models/params.ts).
 *
 * The blocks stay allocated until releaseParams moves the parameters back off the heap (a view
 * of a parameter may outlive its tensor, so freeing them when the model is collected would not
 * be safe).
 */
import { Tensor } from '../tensor/tensor.js';

/** The two blocks of the kernel heap an adopted store's parameters and their gradients live in. */
export interface HeapBlocks {
  readonly data: Float32Array;
  readonly grad: Float32Array;
}

/** Parameters by name, in creation order, and the blocks they live in once adopted (models/params.ts ParamStore). */
type ParamStore = Map<string, Tensor> & { heapBlocks?: HeapBlocks };

/**
 * Which parameters go last, back to back so that they form one matrix (their weights) and one
 * vector (their biases): 'weight' or 'bias' for such a parameter, null for the others. The
 * model's naming decides it (models/params.ts fusedHeadPart), not this file.
 */
export type FusedPart = (name: string) => 'weight' | 'bias' | null;
import { kernelHeapOrNull, type KernelHeap } from './heap.js';
import { heapFor } from './wasm.js';



export function adoptParams(store: ParamStore, fused: FusedPart = () => null, heap: KernelHeap | null = heapFor()): void {
  if (heap === null) return;
  const entries = [...store.entries()];
  if (entries.length === 0 || entries.some(([, t]) => t.dtype !== 'f32')) return;
  const others = entries.filter(([n]) => fused(n) === null);
  const order = [...others, ...entries.filter(([n]) => fused(n) === 'weight'), ...entries.filter(([n]) => fused(n) === 'bias')];
  const offsets: number[] = [];
  let n = 0;
  for (const [name, t] of order) {
    if (fused(name) === null) n = Math.ceil(n / 4) * 4; // aligned, for SIMD loads
    offsets.push(n);
    n += t.size;
  }
  const data = heap.alloc(n);
  const grad = data === null ? null : heap.alloc(n);
  if (data === null || grad === null) {
    if (data !== null) heap.release(data);
    return; // heap full: ordinary arrays (the kernels copy them)
  }
  order.forEach(([name, t], i) => {
    const view = data.subarray(offsets[i]!, offsets[i]! + t.size);
    view.set(t.data);
    const moved = new Tensor(view, t.shape, true);
    moved.grad = grad.subarray(offsets[i]!, offsets[i]! + t.size);
    store.set(name, moved);
  });
  store.heapBlocks = { data, grad };
}

/**
 * Moves adopted parameters and their gradients back into ordinary arrays (values kept: the model
 * still works, on copied kernel arguments) and gives their blocks back to the heap. For a process
 * that makes many models; a no-op for a store that was never adopted.
 */
export function releaseParams(store: ParamStore): void {
  const blocks = store.heapBlocks;
  const heap = kernelHeapOrNull();
  if (blocks === undefined || heap === null) return;
  for (const [name, t] of store) {
    const moved = new Tensor(Float32Array.from(t.data), t.shape, true);
    moved.grad = t.grad === null ? null : Float32Array.from(t.grad);
    store.set(name, moved);
  }
  heap.release(blocks.data);
  heap.release(blocks.grad);
  delete store.heapBlocks;
}

/**
 * The blocks an adopted store's parameters and gradients live in, the same object until
 * releaseParams (the only other thing that moves them), or undefined.
 */
export function adoptedBlocks(store: ParamStore): HeapBlocks | undefined {
  return store.heapBlocks;
}

/**
 * The blocks an adopted store's parameters and gradients live in, with each parameter's offset
 * (in floats, in the store's order) inside them; undefined for a store that is not adopted.
 */
export function adoptedLayout(store: ParamStore): { readonly data: Float32Array; readonly grad: Float32Array; readonly offsets: readonly number[] } | undefined {
  const blocks = store.heapBlocks;
  const heap = kernelHeapOrNull();
  if (blocks === undefined || heap === null) return undefined;
  const base = heap.ptr(blocks.data), gbase = heap.ptr(blocks.grad);
  const offsets: number[] = [];
  for (const t of store.values()) {
    const at = heap.ptr(t.data) - base;
    // every parameter and its gradient at the same place in the two blocks, or no layout
    if (at < 0 || at + 4 * t.size > 4 * blocks.data.length || heap.ptr(t.grad) !== gbase + at) return undefined;
    offsets.push(at / 4);
  }
  return { ...blocks, offsets };
}
