/**
 * @file Moves a model's float32 parameters and their gradients onto the kernel heap, so the
 * WASM kernels use them in place. Values are unchanged; float64 models stay as they are.
 *
 * Layout: every parameter is carved from one block (and every gradient from a second block,
 * at the same offsets), in this order: the parameters outside the heads, each 16-byte aligned;
 * then every head weight (`heads.….weight`) back to back, then every head bias back to back,
 * in the store's order. The heads' weights then form one [ΣO, H] matrix and their biases one
 * vector, so all heads' linears run as one product (see headOutputsAll in models/params.ts).
 *
 * The blocks stay allocated for the thread's lifetime (a process makes few models, and a
 * view of a parameter may outlive its tensor, so freeing on collection would not be safe).
 */
import type { ParamStore } from '../models/params.js';
import { Tensor } from '../tensor/tensor.js';
import { activeHeap } from './wasm.js';

const HEAD_WEIGHT = /^heads\..*\.weight$/;
const HEAD_BIAS = /^heads\..*\.bias$/;

export function adoptParams(store: ParamStore): void {
  const heap = activeHeap();
  if (heap === null) return;
  const entries = [...store.entries()];
  if (entries.length === 0 || entries.some(([, t]) => t.dtype !== 'f32')) return;
  const others = entries.filter(([n]) => !HEAD_WEIGHT.test(n) && !HEAD_BIAS.test(n));
  const order = [...others, ...entries.filter(([n]) => HEAD_WEIGHT.test(n)), ...entries.filter(([n]) => HEAD_BIAS.test(n))];
  const offsets: number[] = [];
  let n = 0;
  for (const [name, t] of order) {
    if (!HEAD_WEIGHT.test(name) && !HEAD_BIAS.test(name)) n = Math.ceil(n / 4) * 4; // aligned, for SIMD loads
    offsets.push(n);
    n += t.size;
  }
  const data = heap.alloc(n);
  const grad = heap.alloc(n);
  if (data === null || grad === null) return; // heap full: ordinary arrays (the kernels copy them)
  order.forEach(([name, t], i) => {
    const view = data.subarray(offsets[i]!, offsets[i]! + t.size);
    view.set(t.data);
    const moved = new Tensor(view, t.shape, true);
    moved.grad = grad.subarray(offsets[i]!, offsets[i]! + t.size);
    store.set(name, moved);
  });
}
