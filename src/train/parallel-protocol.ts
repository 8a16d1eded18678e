/**
 * @file What the trainer and its gradient workers share (train/parallel.ts and
 * train/grad-worker.ts): each worker's control block (a state word, its slice's shape and
 * numbers) and data buffer (its slice's batch, and the logits of a forward pass). A step goes
 * through these alone, with no message, so it makes no JavaScript objects; a message carries
 * only a new, larger data buffer (a longer slice than any before) and a worker's error.
 */
import type { Config } from '../config/schema.js';
import type { KernelBuild } from '../kernels/heap.js';
import type { KernelChoice } from '../kernels/wasm.js';
import { copySamples, type Batch, type WritableBatch } from '../tasks/batch.js';

/** What a gradient worker starts from (besides its port): its model, its kernels, its buffers. */
export interface WorkerInit {
  config: Config;
  inputSize: number;
  outputSize: number;
  kernels: KernelChoice;
  /** the trainer thread's build of the WASM kernels (null: none loads there) */
  build: KernelBuild | null;
  /** the worker replays its steps where it can (the trainer's setting: StepSettings.replay) */
  replay: boolean;
  /** the control block */
  control: SharedArrayBuffer;
  /** the first data buffer (later ones come by message) */
  data: SharedArrayBuffer;
  weights: SharedFloats;
  grads: SharedFloats;
  layout: SharedLayout;
  /** every thread has a core: spin briefly before sleeping on the control word */
  spin: boolean;
}

/**
 * A running gradient worker as its trainer sees it (made by the platform's `#gradient-threads`:
 * worker_threads in Node, a Web Worker in a browser).
 */
export interface GradientThread {
  /** sends a message to the worker (a new data buffer) */
  post(msg: DataMessage): void;
  /** the error the worker reported, if one has arrived */
  takeError(): string | undefined;
  /** stops the worker; settles once it has stopped */
  terminate(): Promise<unknown>;
  /** settles once the worker can take slices (or has failed to start); a browser starts it only while its creator's thread is free */
  readonly started: Promise<void>;
}

/** Values of a worker's state word (Int32 0 of its control block). */
export const State = { Idle: 0, Go: 1, Done: 2, Failed: 3, Quit: 4 } as const;
export type State = (typeof State)[keyof typeof State];

/** Int32 slots of a control block: the state word, then the slice the trainer sent. */
export const Slot = {
  State: 0, T: 1, B: 2, X: 3, Y: 4,
  /** 1: a forward pass only (evaluation), the answer is the slice's logits and no gradients */
  Forward: 5,
  /** how many data buffers the trainer has sent (a worker takes the newest when this differs from its count) */
  Gen: 6,
} as const;
/** Float64 slots of a control block, after the eight Int32 ones. */
export const Num = {
  /** the whole batch's loss divisor */
  Normaliser: 0,
  /** the worker's answer: its slice's loss */
  Loss: 1,
} as const;
export const CONTROL_BYTES = 8 * 4 + 2 * 8;

/** Int32 and Float64 views of a control block. */
export function controlViews(sab: SharedArrayBuffer): { ints: Int32Array; nums: Float64Array } {
  return { ints: new Int32Array(sab, 0, 8), nums: new Float64Array(sab, 32, 2) };
}

/** A message on a worker's port: the data buffer from now on. */
export interface DataMessage {
  readonly data: SharedArrayBuffer;
}

/** A worker's message when it failed (to start, or on a slice). */
export interface ErrorReply {
  readonly error: string;
}

// A slice of n samples of padded length T in a data buffer (floats): input [T, n, X], target
// [T, n, Y], mask [T, n], lengths [n], repeats [n], then the logits [T, n, Y] of a forward pass.

/** Where the logits of a slice's forward pass start in the data buffer. */
export function logitsAt(T: number, n: number, X: number, Y: number): number {
  return T * n * (X + Y + 1) + 2 * n;
}

/** Floats a slice takes in the data buffer, logits included. */
export function sliceFloats(T: number, n: number, X: number, Y: number): number {
  return logitsAt(T, n, X, Y) + T * n * Y;
}

/** Writes the first T time steps of samples idx[0..n) of `batch` into `data` as a slice of (T, n), as the layout says. */
export function writeSlice(batch: Batch, idx: readonly number[], n: number, T: number, data: Float32Array): void {
  const target = T * n * batch.X, mask = target + T * n * batch.Y, lengths = mask + T * n;
  copySamples(batch, idx, 0, n, T, data, 0, data, target, data, mask);
  for (let r = 0; r < n; r++) {
    data[lengths + r] = batch.lengths[idx[r]!]!;
    data[lengths + n + r] = batch.repeats[idx[r]!]!;
  }
}

/**
 * A slice in `data` as a batch whose arrays are views of it (lengths and repeats are copies: call
 * readCounts for each slice), with a view of where its logits go.
 */
export function sliceViews(data: Float32Array, T: number, n: number, X: number, Y: number): { batch: WritableBatch; logits: Float32Array } {
  const target = T * n * X, mask = target + T * n * Y, lengths = mask + T * n, logits = logitsAt(T, n, X, Y);
  const batch: WritableBatch = {
    T, B: n, X, Y,
    input: data.subarray(0, target), target: data.subarray(target, mask), mask: data.subarray(mask, lengths),
    lengths: new Array<number>(n).fill(0), repeats: new Array<number>(n).fill(0),
  };
  return { batch, logits: data.subarray(logits, logits + T * n * Y) };
}

/** Copies a slice's lengths and repeats from `data` into its batch (made by sliceViews). */
export function readCounts(data: Float32Array, batch: WritableBatch): void {
  const { T, B: n, X, Y } = batch;
  const at = T * n * (X + Y + 1);
  for (let b = 0; b < n; b++) {
    batch.lengths[b] = data[at + b]!;
    batch.repeats[b] = data[at + n + b]!;
  }
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

/** Spins of waitWhile's loop per millisecond on this machine (measured once, at first use). */
let spinsPerMs = 0;

function spinRate(): number {
  if (spinsPerMs === 0) {
    // waitWhile's own loop on a word that never changes, the fastest of a few rounds (the first
    // runs before the loop is optimised)
    const word = new Int32Array(new SharedArrayBuffer(4)); // 0, the state spun on
    for (let round = 0; round < 5; round++) {
      const t0 = performance.now();
      spinOn(word, 0, 200_000);
      spinsPerMs = Math.max(spinsPerMs, Math.round(200_000 / Math.max(performance.now() - t0, 1e-3)));
    }
  }
  return spinsPerMs;
}

/** Up to `spins` loads of control[0] while it is `state`. @returns true once it is something else */
function spinOn(control: Int32Array, state: number, spins: number): boolean {
  for (let i = 0; i < spins; i++) if (Atomics.load(control, 0) !== state) return true;
  return false;
}

/**
 * Waits while control[0] is `state`: spins for about `spinMs`, then sleeps on it up to `sleepMs`
 * at a time. The spin counts loads rather than reading a clock: a clock reading is a new number
 * object, and a step's hand-offs make none. @returns true once it is something else, false when
 * `timeoutMs` passed (counted from the end of the spin)
 */
export function waitWhile(control: Int32Array, state: number, spinMs: number, timeoutMs: number, sleepMs = 1000): boolean {
  if (spinMs > 0 && spinOn(control, state, spinMs * spinRate())) return true;
  const deadline = Date.now() + timeoutMs;
  while (Atomics.load(control, 0) === state) {
    if (Atomics.wait(control, 0, state, sleepMs) === 'timed-out' && Date.now() > deadline) return false;
  }
  return true;
}
