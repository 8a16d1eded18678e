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
