/**
 * @file The copy task (NTM paper §4.1; SPEC §1). Channels for a sample of n words:
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
import type { Batch, Task } from './batch.js';

export interface CopyConfig {
  readonly bits: number;
  readonly minWords: number;
  readonly maxWords: number;
}

export function copyTask(cfg: CopyConfig): Task {
  const { bits } = cfg;
  const X = bits + 2, Y = bits;
  return {
    name: 'copy',
    inputSize: X,
    outputSize: Y,
    sample(rng: Rng, B: number, length?: number): Batch {
      const lengths = Array.from({ length: B }, () => length ?? rng.int(cfg.minWords, cfg.maxWords));
      const maxN = Math.max(...lengths);
      const T = 2 * maxN + 2;
      const input = new Float32Array(T * B * X);
      const target = new Float32Array(T * B * Y);
      const mask = new Float32Array(T * B);
      for (let b = 0; b < B; b++) {
        const n = lengths[b]!;
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
      return { T, B, X, Y, input, target, mask, lengths, repeats: lengths.map(() => 1) };
    },
  };
}
