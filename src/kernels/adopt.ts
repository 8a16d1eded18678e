/**
 * @file Moves a model's float32 parameters and their gradients into a kernel arena, so the
 * WASM kernels use them in place. Values are unchanged; float64 models stay as they are.
 */
import type { ParamStore } from '../models/params.js';
import { Tensor } from '../tensor/tensor.js';
import { activeKernels, WasmArena } from './wasm.js';

/** Room for one call's activations: B·(I + O) floats per matmul; larger calls use the TypeScript twin. */
const SCRATCH_FLOATS = 1 << 20;

export function adoptParams(store: ParamStore): void {
  if (activeKernels() !== 'wasm') return;
  const tensors = [...store.values()];
  if (tensors.length === 0 || tensors.some((t) => t.dtype !== 'f32')) return;
  // parameters and gradients, each rounded up to 4 floats for alignment
  const floats = tensors.reduce((n, t) => n + 2 * (Math.ceil(t.size / 4) * 4), 0);
  const arena = new WasmArena(floats, SCRATCH_FLOATS);
  for (const [name, t] of store) {
    const data = arena.allocPersistent(t.size);
    data.set(t.data);
    const moved = new Tensor(data, t.shape, true);
    moved.grad = arena.allocPersistent(t.size);
    store.set(name, moved);
  }
}
