// @file The kernels module's entry: every kernel in one WebAssembly module, so they all work
// on one (imported, shared) memory — the thread's kernel heap (src/kernels/heap.ts).
export * from './matmul';
export * from './memory';
export * from './lstm';
export * from './activate';
export { expArray, logArray } from './simd-math';
export * from './optim';
export { fusedMultiplyAdd } from './common';
export { runCalls } from './dispatch';
