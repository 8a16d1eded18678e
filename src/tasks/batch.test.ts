import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../tensor/random.js';
import { BatchStore, gatherInto, type Batch } from './batch.js';
import { copyTask } from './copy.js';
import { repeatCopyTask } from './repeat-copy.js';
import { associativeRecallTask } from './associative-recall.js';
import { dynamicNgramsTask } from './dynamic-ngrams.js';
import { prioritySortTask } from './priority-sort.js';

const tasks = [
  copyTask({ bits: 3, minWords: 1, maxWords: 4 }),
  repeatCopyTask({ bits: 2, minWords: 1, maxWords: 3, minRepeats: 1, maxRepeats: 3, repeatNorm: 10 }),
  associativeRecallTask({ bits: 2, itemSize: 2, minItems: 2, maxItems: 5 }),
  dynamicNgramsTask({ ngram: 3, sequenceBits: 8 }),
  prioritySortTask({ bits: 3, sortInputs: 5, sortOutputs: 3 }),
];

/** A batch's contents as plain values (so a later overwrite of a kept batch cannot change it). */
function snapshot(b: Batch): object {
  return { T: b.T, B: b.B, X: b.X, Y: b.Y, input: [...b.input], target: [...b.target], mask: [...b.mask], lengths: [...b.lengths], repeats: [...b.repeats], optimalBits: b.optimalBits };
}

for (const task of tasks) {
  test(`BatchStore (${task.name}): the batches drawn into a store are those drawn without one, from the same draws`, () => {
    const plain = new Rng(21), stored = new Rng(21);
    const store = new BatchStore();
    const seen = new Map<number, Batch>();
    let reused = 0;
    for (let i = 0; i < 60; i++) {
      const B = i % 7 === 6 ? 3 : 5; // two batch sizes into one store
      const length = i % 10 === 9 ? 2 : undefined; // and forced lengths
      const a = task.sample(plain, B, { length });
      const b = task.sample(stored, B, { length, store });
      assert.deepEqual(snapshot(b), snapshot(a), `batch ${i}`);
      // a kept batch of the same shape comes back, cleared of the last one's contents
      const key = b.T * 100 + B;
      if (seen.get(key) === b) reused++;
      seen.set(key, b);
    }
    assert.ok(reused >= 40, `only ${reused} of 60 batches reused a kept one`);
    assert.equal(store.shapes, seen.size);
    // the streams stayed in step: the next draws agree
    assert.equal(stored.int(0, 1 << 30), plain.int(0, 1 << 30));
  });
}

test('BatchStore: keeps at most MAX_SHAPES shapes; others are made new each time', () => {
  const store = new BatchStore();
  for (let T = 1; T <= BatchStore.MAX_SHAPES; T++) store.take(T, 2, 3, 1);
  assert.equal(store.shapes, BatchStore.MAX_SHAPES);
  const over = store.take(BatchStore.MAX_SHAPES + 1, 2, 3, 1);
  assert.notEqual(store.take(BatchStore.MAX_SHAPES + 1, 2, 3, 1), over);
  assert.equal(store.shapes, BatchStore.MAX_SHAPES);
  // the same (T, B) with other widths is another shape, not the kept one
  const kept = store.take(4, 2, 3, 1);
  kept.input.fill(7);
  assert.equal(store.take(4, 2, 3, 1), kept);
  assert.ok(kept.input.every((v) => v === 0), 'a kept batch comes back zeroed');
  assert.notEqual(store.take(4, 2, 5, 1), kept);
});

test('gatherInto: the chosen samples\' first steps, in the order given; a batch of another shape or more steps than the batch has is refused', () => {
  const batch = repeatCopyTask({ bits: 2, minWords: 1, maxWords: 3, minRepeats: 1, maxRepeats: 3, repeatNorm: 10 }).sample(new Rng(8), 6);
  const store = new BatchStore();
  const T = batch.T - 1, idx = [9, 4, 1, 3]; // samples 4, 1, 3 from position 1
  const into = store.take(T, 3, batch.X, batch.Y);
  into.input.fill(9); // what was there before does not survive
  assert.equal(gatherInto(batch, idx, 1, 3, T, into), into);
  for (let r = 0; r < 3; r++) {
    const b = idx[1 + r]!;
    assert.equal(into.lengths[r], batch.lengths[b]);
    assert.equal(into.repeats[r], batch.repeats[b]);
    for (let t = 0; t < T; t++) {
      assert.deepEqual([...into.input.subarray((t * 3 + r) * batch.X, (t * 3 + r + 1) * batch.X)], [...batch.input.subarray((t * 6 + b) * batch.X, (t * 6 + b + 1) * batch.X)]);
      assert.deepEqual([...into.target.subarray((t * 3 + r) * batch.Y, (t * 3 + r + 1) * batch.Y)], [...batch.target.subarray((t * 6 + b) * batch.Y, (t * 6 + b + 1) * batch.Y)]);
      assert.equal(into.mask[t * 3 + r], batch.mask[t * 6 + b]);
    }
  }
  assert.throws(() => gatherInto(batch, idx, 1, 2, T, into), /a batch of shape \(\d+, 3\) for 2 samples/);
  assert.throws(() => gatherInto(batch, idx, 1, 3, batch.T + 1, store.take(batch.T + 1, 3, batch.X, batch.Y)), /for 3 samples of \d+ steps/);
});
