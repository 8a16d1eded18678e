/**
 * @file Which kernels run: the WebAssembly SIMD kernels (compiled from src/kernels/assembly/
 * by the build, working on the thread's kernel heap, see heap.ts) or their plain TypeScript
 * twins. An op runs on its context's heap (OpContext.heap: a heap means "run the kernel"), which
 * whoever makes the context chooses: a Trainer from its options (TrainerOptions.kernels), a test
 * or benchmark from its own. This file keeps only the process's default, for a context made
 * without a choice: `OpContext.plain` (parameters, code outside a step) and a Trainer given none.
 */
import { OpContext } from '../tensor/context.js';
import type { F32Allocator } from '../tensor/pool.js';
import { kernelBuild, kernelHeapOrNull, kernelsModuleAvailable, type KernelHeap } from './heap.js';

export type KernelChoice = 'wasm' | 'ts';
/**
 * The process's default kernels (as `engram bench --kernels` sets it): module state on purpose, as the one
 * setting a context made without a choice of its own falls back to; no op reads it otherwise.
 */
let processDefault: KernelChoice = 'wasm';

/**
 * Sets the process's default kernels: those of a context or Trainer made from now on without a
 * choice of its own, and of `OpContext.plain`; 'ts' keeps their ops in plain TypeScript. A
 * context already made keeps its kernels.
 */
export function setKernels(k: KernelChoice): void {
  processDefault = k;
}

/** The process's default kernels, as chosen (setKernels), available or not. */
export function defaultKernels(): KernelChoice {
  return processDefault;
}

/** The heap `k`'s ops run on (the process's default when not given): the thread's kernel heap for 'wasm' when available, else null (the TypeScript twins). */
export function heapFor(k: KernelChoice = processDefault): KernelHeap | null {
  return k === 'wasm' ? kernelHeapOrNull() : null;
}

OpContext.processHeap = heapFor;

export function kernelsAvailable(): boolean {
  return kernelsModuleAvailable() && kernelHeapOrNull() !== null;
}

/** The kernels that run for `k` (the process's default when not given): 'wasm' only when chosen and available. */
export function activeKernels(k: KernelChoice = processDefault): KernelChoice {
  return k === 'wasm' && kernelsAvailable() ? 'wasm' : 'ts';
}

/** The kernels that run for `k` (the process's default when not given), for logs: ts, or wasm and its build (a run repeats to the bit on the same: heap.ts). */
export function kernelsName(k: KernelChoice = processDefault): string {
  return activeKernels(k) === 'ts' ? 'ts' : kernelBuild() === 'fma' ? 'wasm+fma' : 'wasm';
}

/**
 * Float32 buffers for a BufferPool on kernel heap `h` (the process's default kernels' when not
 * given), so a pooled step's kernels work in place; null (ordinary arrays) for no heap.
 */
export function heapAllocator(h: KernelHeap | null = heapFor()): F32Allocator | null {
  return h === null ? null : {
    alloc: (n) => h.alloc(n),
    release: (b) => { if (h.owns(b)) h.release(b); },
    zero: (b) => { const p = h.ptr(b); if (p >= 0) h.k.zeroBytes(p, 4 * b.length); else b.fill(0); },
  };
}
