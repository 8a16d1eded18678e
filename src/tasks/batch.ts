/**
 * @file A batch of padded sequences, time-major: every buffer is [T, B, ...].
 */
/** A batch of padded sequences (the type lives in tensor/, whose step replay takes it). */
export type { Batch } from '../tensor/tensor.js';
import type { Batch } from '../tensor/tensor.js';

/** A batch whose buffers its maker fills in. */
export interface WritableBatch extends Batch {
  readonly lengths: number[];
  readonly repeats: number[];
  optimalBits?: number;
}

/** What a batch is drawn with, beyond its random stream and size. */
export interface SampleOptions {
  /** every sample has exactly this length (the task's `lengthName`: words, items, bits …), even outside its range */
  readonly length?: number;
  /** every sample has exactly this many repeats (tasks that have repeats; others ignore it) */
  readonly repeats?: number;
  /**
   * a curriculum level, 0 .. levels − 1: each ranged quantity (length, repeats) is drawn from
   * min .. min(min + level, max); levels − 1 (and no level) is the task's whole range
   */
  readonly level?: number;
  /**
   * the batch is made in the store's buffers for its shape (no new arrays once the shape was
   * seen) and is overwritten by the next batch of that shape drawn into it; the same random
   * draws and the same batch as without it
   */
  readonly store?: BatchStore;
}

/**
 * A task draws batches from a random stream. Built-in tasks and a user's own (a module given to
 * `engram train --task FILE`) implement the same interface; only `sample` does work.
 */
export interface Task {
  readonly name: string;
  /** X */
  readonly inputSize: number;
  /** Y */
  readonly outputSize: number;
  /** what a sample's length counts, for messages and tables: "words", "items", "bits" … */
  readonly lengthName: string;
  /** the training range of lengths, [min, max] */
  readonly lengths: readonly [number, number];
  /** the training range of repeats, [min, max], for tasks that have repeats */
  readonly repeats?: readonly [number, number];
  /** curriculum levels (≥ 1): level 0 the easiest range, levels − 1 the whole range */
  readonly levels: number;
  /** Time steps T of a sample of this length (and repeats): bounds an evaluation before it runs. */
  steps(length: number, repeats?: number): number;
  sample(rng: import('../tensor/random.js').Rng, batchSize: number, options?: SampleOptions): Batch;
}

/** The largest value of the range [min, max] at a curriculum level (the whole range without one). */
export function rangeMax(range: readonly [number, number], level: number | undefined): number {
  return level === undefined ? range[1] : Math.min(range[1], range[0] + level);
}

/** Curriculum levels of a task's ranges: one per value of the widest. */
export function levelsOf(...ranges: (readonly [number, number])[]): number {
  return Math.max(1, ...ranges.map(([lo, hi]) => hi - lo + 1));
}

/** The ranges a task draws from at a curriculum level, e.g. "1..7 words, 1..3 repeats". */
export function describeRange(task: Task, level?: number): string {
  const part = (r: readonly [number, number], name: string): string => `${rangeText(r, level)} ${name}`;
  return task.repeats ? `${part(task.lengths, task.lengthName)}, ${part(task.repeats, 'repeats')}` : part(task.lengths, task.lengthName);
}

/** A range at a curriculum level as text: "1..7", or "3" when it holds one value. */
export function rangeText(range: readonly [number, number], level?: number): string {
  const hi = rangeMax(range, level);
  return range[0] === hi ? String(hi) : `${range[0]}..${hi}`;
}

/** A batch of zeros of shape (T, B) with lengths and repeats of B zeros. */
export function zeroBatch(T: number, B: number, X: number, Y: number): WritableBatch {
  return {
    T, B, X, Y,
    input: new Float32Array(T * B * X), target: new Float32Array(T * B * Y), mask: new Float32Array(T * B),
    lengths: new Array<number>(B).fill(0), repeats: new Array<number>(B).fill(0),
  };
}

/**
 * Batches kept for reuse, one per shape (T, B, X, Y): a training loop draws every step's batch
 * into one so the steady state makes no arrays (a task's lengths give a few shapes). Also holds
 * the per-sample draws a task makes before it knows the batch's T.
 */
export class BatchStore {
  /** the most shapes kept; a batch of any other shape is made new (and not kept) */
  static readonly MAX_SHAPES = 64;
  private readonly kept = new Map<number, WritableBatch[]>();
  private count = 0;
  /** scratch for a task's per-sample draws (words, repeats) before the batch is taken */
  readonly words: number[] = [];
  readonly reps: number[] = [];

  /** A batch of zeros of this shape: the kept one (cleared), else a new one (kept while there is room). */
  take(T: number, B: number, X: number, Y: number): WritableBatch {
    const list = this.kept.get(T * 4096 + B); // a key per (T, B); X and Y are checked below
    if (list !== undefined) {
      for (let i = 0; i < list.length; i++) {
        const b = list[i]!;
        if (b.T !== T || b.B !== B || b.X !== X || b.Y !== Y) continue;
        b.input.fill(0);
        b.target.fill(0);
        b.mask.fill(0);
        b.optimalBits = undefined;
        return b;
      }
    }
    const made = zeroBatch(T, B, X, Y);
    if (this.count < BatchStore.MAX_SHAPES) {
      if (list !== undefined) list.push(made);
      else this.kept.set(T * 4096 + B, [made]);
      this.count++;
    }
    return made;
  }

  /** How many shapes it keeps. */
  get shapes(): number {
    return this.count;
  }
}

/** The largest of the first n values of `a`. */
export function maxOf(a: readonly number[], n: number): number {
  let m = -Infinity;
  for (let i = 0; i < n; i++) if (a[i]! > m) m = a[i]!;
  return m;
}

/**
 * Copies the first T time steps of samples idx[from], ..., idx[from + n − 1] of `batch`, in that
 * order, into `into` (a batch of shape (T, n) and the same widths). @returns `into`
 */
export function gatherInto(batch: Batch, idx: readonly number[], from: number, n: number, T: number, into: WritableBatch): WritableBatch {
  const { X, Y } = batch;
  if (into.T !== T || into.B !== n || into.X !== X || into.Y !== Y || T > batch.T) throw new Error(`gatherInto: a batch of shape (${into.T}, ${into.B}) for ${n} samples of ${T} steps`);
  copySamples(batch, idx, from, n, T, into.input, 0, into.target, 0, into.mask, 0);
  for (let r = 0; r < n; r++) {
    into.lengths[r] = batch.lengths[idx[from + r]!]!;
    into.repeats[r] = batch.repeats[idx[from + r]!]!;
  }
  return into;
}

/**
 * The first T time steps of samples idx[from], ..., idx[from + n − 1] of `batch`, packed as
 * [T, n, ...]: the inputs from input[i0], the targets from target[t0], the mask from mask[m0].
 */
export function copySamples(batch: Batch, idx: readonly number[], from: number, n: number, T: number,
  input: Float32Array, i0: number, target: Float32Array, t0: number, mask: Float32Array, m0: number): void {
  const { B, X, Y } = batch;
  for (let r = 0; r < n; r++) {
    const b = idx[from + r]!;
    for (let t = 0; t < T; t++) {
      const s = t * B + b, d = t * n + r;
      for (let j = 0; j < X; j++) input[i0 + d * X + j] = batch.input[s * X + j]!;
      for (let j = 0; j < Y; j++) target[t0 + d * Y + j] = batch.target[s * Y + j]!;
      mask[m0 + d] = batch.mask[s]!;
    }
  }
}
