/**
 * @file The priority sort task (NTM paper §4.5): n vectors, each with a priority uniform in
 * [−1, 1]; the answer is the k = min(sortOutputs, n) of highest priority, highest first (equal
 * priorities in input order). Channels for a sample of n vectors:
 *
 *   t              input bits  priority     start  end   target                      mask
 *   0              0           0            1      0     0                           0
 *   1..n           vector t    its priority 0      0     0                           0
 *   n+1            0           0            0      1     0                           0
 *   n+2..n+1+k     0           0            0      0     the (t−n−1)-th highest's    1
 *
 * X = bits + 3 (channel bits the priority, bits + 1 start, bits + 2 end), Y = bits,
 * T = n + k + 2 (every sample of a batch has the same n).
 */
import type { Rng } from '../tensor/random.js';
import { zeroBatch, type Batch, type SampleOptions, type Task } from './batch.js';

export interface PrioritySortConfig {
  readonly bits: number;
  /** n: vectors in */
  readonly sortInputs: number;
  /** the most vectors put out (k = min(sortOutputs, n)) */
  readonly sortOutputs: number;
}

export function prioritySortTask(cfg: PrioritySortConfig): Task {
  const { bits } = cfg;
  const X = bits + 3, Y = bits;
  const inputRange = [cfg.sortInputs, cfg.sortInputs] as const;
  // scratch: a sample's priorities (as the input holds them) and its vectors' order by them
  let priority = new Float32Array(cfg.sortInputs);
  const order: number[] = [];
  const byPriority = (i: number, j: number): number => priority[j]! - priority[i]! || i - j;
  return {
    name: 'priority-sort',
    inputSize: X,
    outputSize: Y,
    lengthName: 'vectors',
    lengths: inputRange,
    levels: 1,
    steps: (n) => n + Math.min(cfg.sortOutputs, n) + 2,
    sample(rng: Rng, B: number, options: SampleOptions = {}): Batch {
      const { length, store } = options;
      if (length !== undefined && !(Number.isInteger(length) && length >= 1)) throw new Error(`priority-sort: a sample has at least 1 vector, not ${length}`);
      const n = length ?? cfg.sortInputs, k = Math.min(cfg.sortOutputs, n);
      const T = n + k + 2;
      if (priority.length < n) priority = new Float32Array(n);
      const batch = store?.take(T, B, X, Y) ?? zeroBatch(T, B, X, Y);
      const { input, target, mask, lengths, repeats } = batch;
      for (let b = 0; b < B; b++) {
        lengths[b] = n;
        repeats[b] = 1;
        input[b * X + bits + 1] = 1; // start channel at t = 0
        for (let i = 0; i < n; i++) {
          const row = ((1 + i) * B + b) * X;
          for (let j = 0; j < bits; j++) input[row + j] = rng.bit();
          input[row + bits] = priority[i] = 2 * rng.uniform() - 1;
        }
        input[((n + 1) * B + b) * X + bits + 2] = 1; // end channel
        order.length = n;
        for (let i = 0; i < n; i++) order[i] = i;
        order.sort(byPriority);
        for (let r = 0; r < k; r++) {
          const t = n + 2 + r, from = ((1 + order[r]!) * B + b) * X;
          for (let j = 0; j < bits; j++) target[(t * B + b) * Y + j] = input[from + j]!;
          mask[t * B + b] = 1;
        }
      }
      return batch;
    },
  };
}
