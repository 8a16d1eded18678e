/**
 * @file The repeat-copy task (NTM paper §4.2). Channels for n words and r repeats:
 *
 *   t                 input bits  start  repeat ch  target bits          target end  mask
 *   0                 0           1      0          0                    0           0
 *   1..n              word t      0      0          0                    0           0
 *   n+1               0           0      r / norm   0                    0           0
 *   n+2..n+1+n·r      0           0      0          the n words, r times 0           1
 *   n(r+1)+2          0           0      0          0                    1           1
 *
 * X = bits + 2, Y = bits + 1, T = max_n·(max_r + 1) + 3 over the batch.
 */
import type { Rng } from '../tensor/random.js';
import { levelsOf, maxOf, rangeMax, zeroBatch, type Batch, type SampleOptions, type Task } from './batch.js';

export interface RepeatCopyConfig {
  readonly bits: number;
  readonly minWords: number;
  readonly maxWords: number;
  readonly minRepeats: number;
  readonly maxRepeats: number;
  readonly repeatNorm: number;
}

export function repeatCopyTask(cfg: RepeatCopyConfig): Task {
  const { bits } = cfg;
  const X = bits + 2, Y = bits + 1;
  const wordRange = [cfg.minWords, cfg.maxWords] as const, repeatRange = [cfg.minRepeats, cfg.maxRepeats] as const;
  return {
    name: 'repeat-copy',
    inputSize: X,
    outputSize: Y,
    lengthName: 'words',
    lengths: wordRange,
    repeats: repeatRange,
    levels: levelsOf(wordRange, repeatRange),
    steps: (n, r = cfg.maxRepeats) => n * (r + 1) + 3,
    sample(rng: Rng, B: number, options: SampleOptions = {}): Batch {
      const { length, repeats: fixedRepeats, store } = options;
      const hiWords = rangeMax(wordRange, options.level), hiRepeats = rangeMax(repeatRange, options.level);
      const words = store?.words ?? [], reps = store?.reps ?? [];
      for (let b = 0; b < B; b++) {
        // a forced length or repeat count is not drawn; the other still is
        words[b] = length ?? rng.int(cfg.minWords, hiWords);
        reps[b] = fixedRepeats ?? rng.int(cfg.minRepeats, hiRepeats);
      }
      const T = maxOf(words, B) * (maxOf(reps, B) + 1) + 3;
      const batch = store?.take(T, B, X, Y) ?? zeroBatch(T, B, X, Y);
      const { input, target, mask, lengths, repeats } = batch;
      for (let b = 0; b < B; b++) {
        const n = words[b]!, r = reps[b]!;
        lengths[b] = n;
        repeats[b] = r;
        input[b * X + bits] = 1; // start channel at t = 0
        for (let t = 1; t <= n; t++) {
          for (let j = 0; j < bits; j++) {
            const v = rng.bit();
            input[(t * B + b) * X + j] = v;
            for (let k = 0; k < r; k++) target[((n + 2 + k * n + (t - 1)) * B + b) * Y + j] = v;
          }
        }
        input[((n + 1) * B + b) * X + bits + 1] = r / cfg.repeatNorm; // repeat channel
        for (let t = n + 2; t <= n + 1 + n * r; t++) mask[t * B + b] = 1;
        const end = n * (r + 1) + 2;
        target[(end * B + b) * Y + bits] = 1; // end marker
        mask[end * B + b] = 1;
      }
      return batch;
    },
  };
}
