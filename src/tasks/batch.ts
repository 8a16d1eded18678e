/**
 * @file A batch of padded sequences, time-major: every buffer is [T, B, ...].
 */
export interface Batch {
  readonly T: number;
  readonly B: number;
  /** input width X and output width Y */
  readonly X: number;
  readonly Y: number;
  /** x [T, B, X] */
  readonly input: Float32Array;
  /** y [T, B, Y] */
  readonly target: Float32Array;
  /** 1 where the output is scored, 0 elsewhere and on padding: [T, B] */
  readonly mask: Float32Array;
  /** words per sample [B] */
  readonly lengths: readonly number[];
  /** repeats per sample [B] (1 for copy) */
  readonly repeats: readonly number[];
}

/** A task draws batches from a random stream. */
export interface Task {
  readonly name: string;
  readonly inputSize: number;
  readonly outputSize: number;
  /** @param length when given, every sample has exactly this many words */
  sample(rng: import('../tensor/random.js').Rng, batchSize: number, length?: number): Batch;
}

/** Samples [start, start + count) of a batch, keeping its padded length T. */
export function sliceBatch(batch: Batch, start: number, count: number): Batch {
  const { T, B, X, Y } = batch;
  if (start < 0 || count < 1 || start + count > B) throw new Error(`sliceBatch: samples [${start}, ${start + count}) of a batch of ${B}`);
  const input = new Float32Array(T * count * X);
  const target = new Float32Array(T * count * Y);
  const mask = new Float32Array(T * count);
  for (let t = 0; t < T; t++) {
    input.set(batch.input.subarray((t * B + start) * X, (t * B + start + count) * X), t * count * X);
    target.set(batch.target.subarray((t * B + start) * Y, (t * B + start + count) * Y), t * count * Y);
    mask.set(batch.mask.subarray(t * B + start, t * B + start + count), t * count);
  }
  return {
    T, B: count, X, Y, input, target, mask,
    lengths: batch.lengths.slice(start, start + count),
    repeats: batch.repeats.slice(start, start + count),
  };
}
