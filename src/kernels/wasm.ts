/**
 * @file Which kernels run: the WebAssembly SIMD kernels (compiled from src/kernels/assembly/
 * by the build, working on the thread's kernel heap, see heap.ts) or their plain TypeScript
 * twins. Ops ask `activeHeap()` at each call: a heap means "run the kernel".
 */
import type { F32Allocator } from '../tensor/pool.js';
import { kernelBuild, kernelHeapOrNull, kernelsModuleAvailable, type KernelHeap } from './heap.js';

export type KernelChoice = 'wasm' | 'ts';
let choice: KernelChoice = 'wasm';

/** Selects the kernels from now on; 'ts' keeps every op in plain TypeScript. */
export function setKernels(k: KernelChoice): void {
  choice = k;
}

export function kernelsAvailable(): boolean {
  return kernelsModuleAvailable() && kernelHeapOrNull() !== null;
}

export function activeKernels(): KernelChoice {
  return choice === 'wasm' && kernelsAvailable() ? 'wasm' : 'ts';
}

/** The kernels running, for logs: ts, or wasm and its build (a run repeats to the bit on the same: heap.ts). */
export function kernelsName(): string {
  return activeKernels() === 'ts' ? 'ts' : kernelBuild() === 'fma' ? 'wasm+fma' : 'wasm';
}

/** The kernel heap when the WASM kernels are selected and available, else null (run the TypeScript twin). */
export function activeHeap(): KernelHeap | null {
  return choice === 'wasm' ? kernelHeapOrNull() : null;
}

/**
 * Float32 buffers for a BufferPool on the kernel heap, so a pooled step's kernels work in place;
 * null (ordinary arrays) when the WASM kernels are off or unavailable.
 */
export function heapAllocator(): F32Allocator | null {
  const h = activeHeap();
  return h === null ? null : {
    alloc: (n) => h.alloc(n),
    release: (b) => { if (h.owns(b)) h.release(b); },
    zero: (b) => { const p = h.ptr(b); if (p >= 0) h.k.zeroBytes(p, 4 * b.length); else b.fill(0); },
  };
}
