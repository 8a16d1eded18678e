/**
 * @file Length groups: a batch's samples sorted by the time steps they need, longest first, and
 * cut into groups of a few, each run only to its longest sample (side by side: sideBySide).
 *
 * A sample needs the time steps up to its last scored output (mask > 0): a model reads a
 * sequence forwards, so nothing after that changes the sample's loss, and its gradient there is
 * zero. A padded batch runs every sample to the batch's longest; in groups, the short samples
 * stop early. On the reference tasks this is 16–25% less work (every sample draws its
 * own length). The results are those of the padded batch up to the order in which the samples'
 * gradients are summed (each sample's logits do not depend on the other samples in its batch).
 */
import { BatchStore, gatherInto, type Batch } from './batch.js';

/** Time steps sample b of `batch` needs: 1 + its last time step with mask > 0 (0 if it has none). */
export function neededSteps(batch: Batch, b: number): number {
  const { T, B } = batch;
  for (let t = T - 1; t >= 0; t--) if (batch.mask[t * B + b]! > 0) return t + 1;
  return 0;
}

export class LengthGroups {
  /** sample indices, longest need first (ties in sample order) */
  readonly order: number[] = [];
  private readonly need: number[] = [];
  /** counting-sort scratch, one entry per number of steps */
  private readonly at: number[] = [];
  private readonly store = new BatchStore();
  private size = 1;
  private B = 0;
  /** groups of the last plan() with work to do (a group whose samples need no step is left out) */
  count = 0;

  /** Sorts `batch`'s samples by need and cuts them into groups of `size`. @returns the groups with work */
  plan(batch: Batch, size: number): number {
    if (!(size >= 1 && Number.isInteger(size))) throw new Error(`LengthGroups.plan: groups of ${size} samples (a whole number ≥ 1)`);
    const B = batch.B;
    this.size = size;
    this.B = B;
    const { order, need, at } = this;
    // a counting sort by need, longest first, ties in sample order: at[s] is where the samples
    // needing s steps begin
    for (let s = 0; s <= batch.T; s++) at[s] = 0;
    for (let b = 0; b < B; b++) at[(need[b] = neededSteps(batch, b))]!++;
    for (let s = batch.T, start = 0; s >= 0; s--) {
      const n = at[s]!;
      at[s] = start;
      start += n;
    }
    for (let b = 0; b < B; b++) order[at[need[b]!]!++] = b;
    let n = 0;
    for (let k = 0; k * size < B; k++) if (need[order[k * size]!]! > 0) n = k + 1;
    this.count = n;
    return n;
  }

  /** Samples in group k. */
  rows(k: number): number {
    return Math.min(this.size, this.B - k * this.size);
  }

  /** The sample at row r of group k. */
  sampleOf(k: number, r: number): number {
    return this.order[k * this.size + r]!;
  }

  /** Time steps group k runs: its longest sample's need. */
  steps(k: number): number {
    return this.need[this.order[k * this.size]!]!;
  }

  /**
   * Deals the planned groups to `threads` threads: longest first, each to the thread with the
   * least work so far (rows × steps; a tie to the lowest thread), so the threads' shares are
   * close and the deal depends on the batch alone. Thread w gets its groups' samples in order of
   * need in samples[w] (count[w] of them) and runs steps[w] time steps (0: no group). Thread 0
   * always gets the longest group. Each share, planned again with the same size, falls into the
   * same groups: a share is its groups one after another, each full but perhaps the batch's last.
   */
  deal(threads: number, samples: number[][], count: number[], steps: number[]): void {
    const work = this.work;
    for (let w = 0; w < threads; w++) {
      work[w] = 0;
      count[w] = 0;
      steps[w] = 0;
    }
    for (let k = 0; k < this.count; k++) {
      let w = 0;
      for (let v = 1; v < threads; v++) if (work[v]! < work[w]!) w = v;
      const n = this.rows(k), T = this.steps(k);
      work[w]! += n * T;
      if (steps[w] === 0) steps[w] = T;
      for (let r = 0; r < n; r++) samples[w]![count[w]!++] = this.sampleOf(k, r);
    }
  }

  /**
   * Per time step of sideBySide's batch, how many of its samples run: the rows of its groups
   * still going (rows(k) summed over its groups with steps(k) > t, a prefix of them, as they come
   * longest first). Valid until the next call; entries past that batch's T are stale.
   */
  readonly schedule: number[] = [];

  /**
   * Groups from..to−1 of the plan, side by side: their samples in order of need, as one batch
   * padded to the longest, to be run with `schedule` as MemoryModel.forward's rows, so each time
   * step runs only the groups still going, in one batch (each group runs the steps it would
   * alone, but a time step's products cover all of them at once). The batch itself when that is
   * all of it in order; else a copy valid until the next batch of the same shape is taken.
   * @param to at most `count`, and above from (a group with work)
   */
  sideBySide(batch: Batch, from = 0, to = this.count): Batch {
    if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && to > from && to <= this.count)) throw new Error(`LengthGroups.sideBySide: groups ${from} to ${to - 1} of the ${this.count} with work`);
    const T = this.steps(from), schedule = this.schedule;
    for (let t = 0; t < T; t++) schedule[t] = 0;
    let n = 0;
    for (let k = from; k < to; k++) {
      const r = this.rows(k);
      for (let t = 0, steps = this.steps(k); t < steps; t++) schedule[t]! += r;
      n += r;
    }
    if (from === 0 && n === batch.B && T === batch.T && this.inOrder(n)) return batch;
    return gatherInto(batch, this.order, from * this.size, n, T, this.store.take(T, n, batch.X, batch.Y));
  }

  private readonly work: number[] = [];

  private inOrder(n: number): boolean {
    for (let r = 0; r < n; r++) if (this.order[r] !== r) return false;
    return true;
  }
}
