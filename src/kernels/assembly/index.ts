// @file The kernels module's entry: every kernel in one WebAssembly module, so they all work
// on one (imported, shared) memory — the thread's kernel heap (src/kernels/heap.ts).
export * from './matmul';
export * from './content';
export * from './read';
export * from './write';
export * from './location';
export * from './temporal-read';
export * from './linkage';
export * from './usage';
export * from './allocation';
export * from './read-weighting';
export * from './write-weighting';
export * from './lstm';
export * from './activate';
export { expArray, logArray } from './simd-math';
export * from './optim';
export { fusedMultiplyAdd, heapBase } from './common';
export { runCalls } from './dispatch';
