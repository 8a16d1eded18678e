/**
 * @file The associative recall task (NTM paper §4.3): a list of items, then one of them as a
 * query; the answer is the item that followed it. An item is s = itemSize vectors of `bits`
 * bits; a sample's n items are distinct, and the query is item q, q uniform in 0..n−2.
 * Channels for a sample of n items (item k begins at t = k(s+1)):
 *
 *   t                           input bits        item delim  query delim  target           mask
 *   k(s+1)                      0                 1           0            0                0
 *   k(s+1)+1 .. k(s+1)+s        item k's vectors  0           0            0                0
 *   n(s+1)                      0                 0           1            0                0
 *   n(s+1)+1 .. n(s+1)+s        item q's vectors  0           0            0                0
 *   n(s+1)+s+1                  0                 0           1            0                0
 *   n(s+1)+s+2 .. n(s+1)+2s+1   0                 0           0            item q+1's vecs  1
 *
 * X = bits + 2 (channel bits the item delimiter, bits + 1 the query delimiter), Y = bits,
 * T = (max_n + 2)(s + 1) over the batch; shorter samples are zero-padded with mask 0.
 */
import type { Rng } from '../tensor/random.js';
import { levelsOf, maxOf, rangeMax, zeroBatch, type Batch, type SampleOptions, type Task } from './batch.js';

export interface AssociativeRecallConfig {
  readonly bits: number;
  readonly itemSize: number;
  readonly minItems: number;
  readonly maxItems: number;
}

export function associativeRecallTask(cfg: AssociativeRecallConfig): Task {
  const { bits, itemSize: s } = cfg;
  const X = bits + 2, Y = bits;
  const itemRange = [cfg.minItems, cfg.maxItems] as const;
  const distinct = 2 ** Math.min(60, bits * s);
  return {
    name: 'associative-recall',
    inputSize: X,
    outputSize: Y,
    lengthName: 'items',
    lengths: itemRange,
    levels: levelsOf(itemRange),
    steps: (n) => (n + 2) * (s + 1),
    sample(rng: Rng, B: number, options: SampleOptions = {}): Batch {
      const { length, store } = options;
      if (length !== undefined && !(Number.isInteger(length) && length >= 2 && length <= distinct)) {
        throw new Error(`associative-recall: a sample has 2..${distinct} distinct items (of ${s} × ${bits} bits), not ${length}`);
      }
      const hi = rangeMax(itemRange, options.level);
      const items = store?.words ?? [];
      for (let b = 0; b < B; b++) items[b] = length ?? rng.int(cfg.minItems, hi);
      const T = (maxOf(items, B) + 2) * (s + 1);
      const batch = store?.take(T, B, X, Y) ?? zeroBatch(T, B, X, Y);
      const { input, target, mask, lengths, repeats } = batch;
      /** item k's vector v, bit j of sample b, as drawn into the input */
      const at = (k: number, v: number, j: number, b: number): number => ((k * (s + 1) + 1 + v) * B + b) * X + j;
      const same = (k: number, l: number, b: number): boolean => {
        for (let v = 0; v < s; v++) for (let j = 0; j < bits; j++) if (input[at(k, v, j, b)] !== input[at(l, v, j, b)]) return false;
        return true;
      };
      for (let b = 0; b < B; b++) {
        const n = items[b]!;
        lengths[b] = n;
        repeats[b] = 1;
        for (let k = 0; k < n; k++) {
          input[(k * (s + 1) * B + b) * X + bits] = 1; // item delimiter
          // draw item k, again while it repeats an earlier one
          for (let again = true; again;) {
            for (let v = 0; v < s; v++) for (let j = 0; j < bits; j++) input[at(k, v, j, b)] = rng.bit();
            again = false;
            for (let l = 0; l < k && !again; l++) again = same(k, l, b);
          }
        }
        const q = rng.int(0, n - 2);
        const query = n * (s + 1);
        input[(query * B + b) * X + bits + 1] = 1; // query delimiter
        for (let v = 0; v < s; v++) {
          for (let j = 0; j < bits; j++) {
            input[((query + 1 + v) * B + b) * X + j] = input[at(q, v, j, b)]!;
            target[((query + s + 2 + v) * B + b) * Y + j] = input[at(q + 1, v, j, b)]!;
          }
          mask[(query + s + 2 + v) * B + b] = 1;
        }
        input[((query + s + 1) * B + b) * X + bits + 1] = 1; // query delimiter again
      }
      return batch;
    },
  };
}
