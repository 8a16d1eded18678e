/**
 * @file The words the trainer and its gradient workers exchange (control states and the
 * slice message), shared by train/parallel.ts and train/grad-worker.ts.
 */
import type { Batch } from '../tasks/batch.js';

/** Values of a worker's control word (Int32 0 of its control buffer). */
export const State = { Idle: 0, Go: 1, Done: 2, Failed: 3, Quit: 4 } as const;
export type State = (typeof State)[keyof typeof State];

export interface SliceMessage {
  readonly batch: Batch;
  /** the whole batch's loss divisor */
  readonly normaliser: number;
}

/**
 * Float32 data both sides see: `length` floats at `byteOffset` of the trainer thread's kernel
 * heap memory (shared), or a SharedArrayBuffer of their own.
 */
export type SharedFloats =
  | { readonly memory: WebAssembly.Memory; readonly byteOffset: number; readonly length: number }
  | { readonly buffer: SharedArrayBuffer; readonly length: number };

export function sharedView(s: SharedFloats): Float32Array {
  return 'memory' in s ? new Float32Array(s.memory.buffer, s.byteOffset, s.length) : new Float32Array(s.buffer, 0, s.length);
}
