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
  /** a forward pass only (evaluation): the answer is the slice's logits, and no gradients */
  readonly forward: boolean;
}

/** A worker's answer to a slice: its loss (gradients in the shared block), its logits, or what failed. */
export interface SliceReply {
  readonly loss?: number;
  /** [T, rows, Y] */
  readonly logits?: Float32Array;
  readonly error?: string;
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

/**
 * Where each parameter (in the model's store order) lies in the shared weights and gradients:
 * at the offsets of the trainer's kernel-heap block of parameters when its model has one (so that
 * block, and a worker's own laid out the same way, go across in one copy), else back to back.
 */
export interface SharedLayout {
  readonly size: number;
  readonly offsets: readonly number[];
}

/** True when `offsets` (of a block of `size` floats) are the layout's: the block copies whole. */
export function sameLayout(layout: SharedLayout, size: number, offsets: readonly number[]): boolean {
  return size === layout.size && offsets.length === layout.offsets.length && offsets.every((o, i) => o === layout.offsets[i]);
}

/**
 * How long a thread spins on a control word before it sleeps on it, when every thread has a core
 * of its own: a wake from Atomics.wait took 50–90 µs here, a few percent of a short step, and
 * the hand-offs of a step are well within this. With more threads than cores, no spinning.
 */
export const SPIN_MS = 1;

/**
 * Waits while control[0] is `state`: spins for up to `spinMs`, then sleeps on it up to
 * `sleepMs` at a time. @returns true once it is something else, false when `deadline` passed
 */
export function waitWhile(control: Int32Array, state: number, spinMs: number, deadline: number, sleepMs = 1000): boolean {
  if (spinMs > 0) {
    const until = performance.now() + spinMs;
    while (Atomics.load(control, 0) === state) if (performance.now() > until) break;
  }
  while (Atomics.load(control, 0) === state) {
    if (Atomics.wait(control, 0, state, sleepMs) === 'timed-out' && Date.now() > deadline) return false;
  }
  return true;
}
