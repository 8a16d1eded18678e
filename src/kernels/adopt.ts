/**
 * @file Moves a model's float32 parameters and their gradients onto the kernel heap, so the
 * WASM kernels use them in place. Values are unchanged; float64 models stay as they are.
 * The blocks stay allocated for the thread's lifetime (a process makes few models, and a
 * view of a parameter may outlive its tensor, so freeing on collection would not be safe).
 */
import type { ParamStore } from '../models/params.js';
import { Tensor } from '../tensor/tensor.js';
import { activeHeap } from './wasm.js';

export function adoptParams(store: ParamStore): void {
  const heap = activeHeap();
  if (heap === null) return;
  const tensors = [...store.values()];
  if (tensors.length === 0 || tensors.some((t) => t.dtype !== 'f32')) return;
  for (const [name, t] of store) {
    const data = heap.alloc(t.size);
    const grad = heap.alloc(t.size);
    if (data === null || grad === null) return; // heap full: the rest stay ordinary arrays (kernels copy them)
    data.set(t.data);
    const moved = new Tensor(data, t.shape, true);
    moved.grad = grad;
    store.set(name, moved);
  }
}
