/**
 * @file The dynamic n-grams task (NTM paper §4.4): predict each bit of a sequence drawn from an
 * n-gram model that is new for every sample. The model is a table of 2^(n−1) probabilities
 * P(next bit = 1 | the previous n − 1 bits), each drawn from Beta(½, ½).
 *
 * A sample of L bits is b_0 .. b_{L+n−2}: b_0 .. b_{n−2} fair coin flips (the first context),
 * then b_{n−1} .. b_{L+n−2}, each 1 with the table's probability for its context. The context of
 * b_t (t ≥ n − 1) is the index c_t = Σ_{i=1}^{n−1} b_{t−i}·2^{i−1}: the n − 1 bits before it read
 * as a binary number, oldest first (b_{t−1} the least significant bit).
 *
 *   t              input  target   mask
 *   0 .. n−3       b_t    b_{t+1}  0
 *   n−2 .. T−1     b_t    b_{t+1}  1       (the L predictions of the table's bits)
 *
 * X = 1, Y = 1, T = L + n − 2 (every sample of a batch has the same L). The batch's
 * `optimalBits` is the cost of the Bayes-optimal predictor (`optimalNgramBits`) summed over its
 * samples: the bits per sequence a perfect learner of the task would lose.
 */
import type { Rng } from '../tensor/random.js';
import { zeroBatch, type Batch, type SampleOptions, type Task } from './batch.js';

export interface DynamicNgramsConfig {
  /** n: each bit depends on the n − 1 before it */
  readonly ngram: number;
  /** L: predicted bits per sequence */
  readonly sequenceBits: number;
}

/**
 * The Bayes-optimal P(next bit = 1) in a context that was followed N1 times by a 1 and N0
 * times by a 0 so far, under the Beta(½, ½) prior: (N1 + ½) / (N1 + N0 + 1).
 */
export function ngramPredict(n1: number, n0: number): number {
  return (n1 + 0.5) / (n1 + n0 + 1);
}

/** A table of 2^(n−1) probabilities P(1 | context), each Beta(½, ½), into `into`. */
export function drawNgramTable(rng: Rng, n: number, into = new Float64Array(2 ** (n - 1))): Float64Array {
  for (let c = 0; c < 2 ** (n - 1); c++) into[c] = rng.betaHalf();
  return into;
}

/**
 * A sequence b_0 .. b_{L+n−2} of an n-gram model given by `table` (the header's order of the
 * context bits), into `into`[0 .. L+n−2]: n − 1 fair bits, then L bits from the table.
 */
export function drawNgramBits(rng: Rng, table: ArrayLike<number>, n: number, L: number, into = new Uint8Array(L + n - 1)): Uint8Array {
  const contexts = 2 ** (n - 1) - 1; // the context bits' mask
  let c = 0;
  for (let t = 0; t < n - 1; t++) {
    into[t] = rng.bit();
    c = ((c << 1) | into[t]!) & contexts;
  }
  for (let t = n - 1; t < L + n - 1; t++) {
    into[t] = rng.uniform() < table[c]! ? 1 : 0;
    c = ((c << 1) | into[t]!) & contexts;
  }
  return into;
}

/**
 * The Bayes-optimal predictor's cost in bits, Σ −log2 P(actual bit), on the sequence
 * bits[0 .. length − 1] of an n-gram model: it predicts bits n − 1 .. length − 1 (the first
 * n − 1 are the fair first context), each with `ngramPredict` of the counts of what followed
 * its context earlier in the sequence. `counts` (2^n entries, zero) is scratch, left zero.
 */
export function optimalNgramBits(bits: ArrayLike<number>, n: number, length = bits.length, counts = new Float64Array(2 ** n)): number {
  const contexts = 2 ** (n - 1) - 1;
  let c = 0, cost = 0;
  for (let t = 0; t < n - 1; t++) c = ((c << 1) | bits[t]!) & contexts;
  for (let t = n - 1; t < length; t++) {
    const b = bits[t]!, n0 = counts[2 * c]!, n1 = counts[2 * c + 1]!;
    const p1 = ngramPredict(n1, n0);
    cost -= Math.log2(b === 1 ? p1 : 1 - p1);
    counts[2 * c + b]!++;
    c = ((c << 1) | b) & contexts;
  }
  // leave the scratch zero: clear the contexts this sequence counted in
  for (let t = n - 1; t < length; t++) {
    c = 0;
    for (let i = 1; i < n; i++) c |= bits[t - i]! << (i - 1);
    counts[2 * c] = 0;
    counts[2 * c + 1] = 0;
  }
  return cost;
}

export function dynamicNgramsTask(cfg: DynamicNgramsConfig): Task {
  const n = cfg.ngram;
  const X = 1, Y = 1;
  const bitRange = [cfg.sequenceBits, cfg.sequenceBits] as const;
  // scratch for a sample's table, sequence and the predictor's counts
  const table = new Float64Array(2 ** (n - 1)), counts = new Float64Array(2 ** n);
  let bits = new Uint8Array(cfg.sequenceBits + n - 1);
  return {
    name: 'dynamic-ngrams',
    inputSize: X,
    outputSize: Y,
    lengthName: 'bits',
    lengths: bitRange,
    levels: 1,
    steps: (L) => L + n - 2,
    sample(rng: Rng, B: number, options: SampleOptions = {}): Batch {
      const { length, store } = options;
      if (length !== undefined && !(Number.isInteger(length) && length >= 1)) throw new Error(`dynamic-ngrams: a sample predicts at least 1 bit, not ${length}`);
      const L = length ?? cfg.sequenceBits;
      const T = L + n - 2;
      if (bits.length < L + n - 1) bits = new Uint8Array(L + n - 1);
      const batch = store?.take(T, B, X, Y) ?? zeroBatch(T, B, X, Y);
      const { input, target, mask, lengths, repeats } = batch;
      let optimal = 0;
      for (let b = 0; b < B; b++) {
        lengths[b] = L;
        repeats[b] = 1;
        drawNgramTable(rng, n, table);
        drawNgramBits(rng, table, n, L, bits);
        for (let t = 0; t < T; t++) {
          input[t * B + b] = bits[t]!;
          target[t * B + b] = bits[t + 1]!;
          if (t >= n - 2) mask[t * B + b] = 1;
        }
        optimal += optimalNgramBits(bits, n, L + n - 1, counts);
      }
      batch.optimalBits = optimal;
      return batch;
    },
  };
}
