/**
 * @file The copy task (NTM paper §4.1). Channels for a sample of n words:
 *
 *   t          input bits   start  end   target    mask
 *   0          0            1      0     0         0
 *   1..n       word t       0      0     0         0
 *   n+1        0            0      1     0         0
 *   n+2..2n+1  0            0      0     word t−n−1 1
 *
 * X = bits + 2, Y = bits, T = 2·max_n + 2; shorter samples are zero-padded with mask 0.
 */
import type { Rng } from '../tensor/random.js';
import { levelsOf, maxOf, rangeMax, zeroBatch, type Batch, type SampleOptions, type Task } from './batch.js';

export interface CopyConfig {
  readonly bits: number;
  readonly minWords: number;
  readonly maxWords: number;
}

export function copyTask(cfg: CopyConfig): Task {
  const { bits } = cfg;
  const X = bits + 2, Y = bits;
  const wordRange = [cfg.minWords, cfg.maxWords] as const;
  return {
    name: 'copy',
    inputSize: X,
    outputSize: Y,
    lengthName: 'words',
    lengths: wordRange,
    levels: levelsOf(wordRange),
    steps: (n) => 2 * n + 2,
    sample(rng: Rng, B: number, options: SampleOptions = {}): Batch {
      const { length, store } = options;
      const hi = rangeMax(wordRange, options.level);
      const words = store?.words ?? [];
      for (let b = 0; b < B; b++) words[b] = length ?? rng.int(cfg.minWords, hi);
      const T = 2 * maxOf(words, B) + 2;
      const batch = store?.take(T, B, X, Y) ?? zeroBatch(T, B, X, Y);
      const { input, target, mask, lengths, repeats } = batch;
      for (let b = 0; b < B; b++) {
        const n = words[b]!;
        lengths[b] = n;
        repeats[b] = 1;
        input[(0 * B + b) * X + bits] = 1; // start channel
        for (let t = 1; t <= n; t++) {
          for (let j = 0; j < bits; j++) {
            const v = rng.bit();
            input[(t * B + b) * X + j] = v;
            target[((t + n + 1) * B + b) * Y + j] = v;
          }
        }
        input[((n + 1) * B + b) * X + bits + 1] = 1; // end channel
        for (let t = n + 2; t <= 2 * n + 1; t++) mask[t * B + b] = 1;
      }
      return batch;
    },
  };
}
