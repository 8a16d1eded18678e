import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findPreset } from '../config/presets.js';
import { cloneConfig } from '../config/schema.js';
import { createModel } from '../models/registry.js';
import { Rng } from '../tensor/random.js';
import { BufferPool } from '../tensor/pool.js';
import { assertAllClose } from '../tensor/testing.js';
import { accumulateGradients, forwardLogits, StepContext } from '../train/gradients.js';
import { BatchStore, gatherInto, type Batch } from './batch.js';
import { copyTask } from './copy.js';
import { LengthGroups, neededSteps } from './groups.js';
import { createTask } from './registry.js';
import { repeatCopyTask } from './repeat-copy.js';

test('neededSteps: up to the last scored output (copy 2n + 2, repeat-copy n(r + 1) + 3), 0 for a sample with none', () => {
  const copy = copyTask({ bits: 3, minWords: 1, maxWords: 6 }).sample(new Rng(1), 9);
  for (let b = 0; b < copy.B; b++) assert.equal(neededSteps(copy, b), 2 * copy.lengths[b]! + 2);
  const rc = repeatCopyTask({ bits: 2, minWords: 1, maxWords: 3, minRepeats: 1, maxRepeats: 3, repeatNorm: 10 }).sample(new Rng(2), 9);
  for (let b = 0; b < rc.B; b++) assert.equal(neededSteps(rc, b), rc.lengths[b]! * (rc.repeats[b]! + 1) + 3);
  const silent: Batch = { ...copy, mask: copy.mask.map((m, i) => (i % copy.B === 4 ? 0 : m)) };
  assert.equal(neededSteps(silent, 4), 0);
});

test('LengthGroups.plan: longest first, ties in sample order; groups of the size, the last smaller; a group no sample of which needs a step is left out', () => {
  const batch = copyTask({ bits: 2, minWords: 1, maxWords: 4 }).sample(new Rng(3), 10);
  const g = new LengthGroups();
  assert.equal(g.plan(batch, 4), 3);
  const needs = g.order.slice(0, 10).map((b) => neededSteps(batch, b));
  for (let i = 1; i < 10; i++) {
    assert.ok(needs[i - 1]! >= needs[i]!, `need ${needs[i - 1]} before ${needs[i]}`);
    if (needs[i - 1] === needs[i]) assert.ok(g.order[i - 1]! < g.order[i]!, 'ties keep sample order');
  }
  assert.deepEqual([...g.order.slice(0, 10)].sort((a, b) => a - b), [...Array(10).keys()]);
  assert.deepEqual([0, 1, 2].map((k) => g.rows(k)), [4, 4, 2]);
  assert.deepEqual([0, 1, 2].map((k) => g.steps(k)), [needs[0], needs[4], needs[8]]);
  // the samples of the last group score nothing: it is left out
  const order = g.order.slice(0, 10);
  const silent: Batch = { ...batch, mask: batch.mask.map((m, i) => (order.slice(8).includes(i % 10) ? 0 : m)) };
  assert.equal(g.plan(silent, 4), 2);
  assert.equal(g.plan({ ...batch, mask: new Float32Array(batch.mask.length) }, 4), 0);
  for (const size of [0, -1, 1.5]) assert.throws(() => g.plan(batch, size), /groups of .* samples \(a whole number ≥ 1\)/);
});

test('LengthGroups.sideBySide of one group: it holds its samples\' first steps, every channel; a batch that is one group in order is itself', () => {
  const batch = repeatCopyTask({ bits: 2, minWords: 1, maxWords: 3, minRepeats: 1, maxRepeats: 3, repeatNorm: 10 }).sample(new Rng(4), 7);
  const g = new LengthGroups();
  const n = g.plan(batch, 3);
  for (let k = 0; k < n; k++) {
    const sub = g.sideBySide(batch, k, k + 1);
    assert.equal(sub.B, g.rows(k));
    assert.equal(sub.T, g.steps(k));
    for (let r = 0; r < sub.B; r++) {
      const b = g.sampleOf(k, r);
      assert.equal(sub.lengths[r], batch.lengths[b]);
      assert.equal(sub.repeats[r], batch.repeats[b]);
      for (let t = 0; t < sub.T; t++) {
        for (let j = 0; j < batch.X; j++) assert.equal(sub.input[(t * sub.B + r) * batch.X + j], batch.input[(t * batch.B + b) * batch.X + j]);
        for (let j = 0; j < batch.Y; j++) assert.equal(sub.target[(t * sub.B + r) * batch.Y + j], batch.target[(t * batch.B + b) * batch.Y + j]);
        assert.equal(sub.mask[t * sub.B + r], batch.mask[t * batch.B + b]);
      }
      // nothing of the sample is scored after the group's steps
      for (let t = sub.T; t < batch.T; t++) assert.equal(batch.mask[t * batch.B + b], 0);
    }
  }
  const same = copyTask({ bits: 2, minWords: 3, maxWords: 3 }).sample(new Rng(5), 4);
  assert.equal(g.plan(same, 4), 1);
  assert.equal(g.sideBySide(same, 0, 1), same);
});

test('LengthGroups.sideBySide: groups from..to−1 as one batch longest first, and per time step the rows of the groups still going', () => {
  const batch = copyTask({ bits: 2, minWords: 1, maxWords: 6 }).sample(new Rng(9), 11);
  const g = new LengthGroups();
  const n = g.plan(batch, 3);
  assert.equal(n, 4);
  for (const [from, to] of [[0, 4], [1, 3], [2, 4], [3, 4]] as const) {
    const s = g.sideBySide(batch, from, to);
    assert.equal(s.T, g.steps(from));
    assert.equal(s.B, Array.from({ length: to - from }, (_, i) => g.rows(from + i)).reduce((a, b) => a + b));
    for (let t = 0; t < s.T; t++) {
      // the naive count: samples of those groups whose group runs at step t
      let running = 0;
      for (let k = from; k < to; k++) if (g.steps(k) > t) running += g.rows(k);
      assert.equal(g.schedule[t], running, `groups ${from}..${to - 1}, step ${t}`);
      // every sample past the running rows is done: nothing of it is scored from t on
      for (let r = running; r < s.B; r++) assert.equal(s.mask[t * s.B + r], 0);
    }
    for (let r = 0; r < s.B; r++) {
      const b = g.order[from * 3 + r]!;
      for (let t = 0; t < s.T; t++) assert.equal(s.mask[t * s.B + r], batch.mask[t * batch.B + b]);
      for (let j = 0; j < batch.X; j++) assert.equal(s.input[r * batch.X + j], batch.input[b * batch.X + j]);
    }
  }
  for (const [from, to] of [[0, 5], [2, 2], [-1, 1], [0.5, 2]]) assert.throws(() => g.sideBySide(batch, from, to), /LengthGroups.sideBySide: groups .* of the 4 with work/);
  const same = copyTask({ bits: 2, minWords: 3, maxWords: 3 }).sample(new Rng(5), 4);
  g.plan(same, 2);
  assert.equal(g.sideBySide(same), same, 'the whole batch in order: itself');
});

for (const name of ['ntm-copy-small', 'dnc-repeat-copy-small']) {
  test(`${name}: in length groups of 1, 3, 4 and 7, one, two or all at once, the gradients are those of the padded batch (float32 rounding) and the logits the same to the bit`, () => {
    const config = cloneConfig(findPreset(name)!.config);
    const task = createTask(config.task);
    const model = createModel(config.model, task.inputSize, task.outputSize, new Rng(6));
    const params = [...model.params.values()];
    const batch = task.sample(new Rng(7), 7);
    const grads = (groupSize: number, atOnce = 0): { loss: number; g: Float32Array[] } => {
      for (const p of params) p.g().fill(0);
      const loss = accumulateGradients(model, batch, new StepContext(new BufferPool()), undefined, groupSize, atOnce);
      return { loss, g: params.map((p) => Float32Array.from(p.grad!)) };
    };
    for (const bad of [-1, 1.5]) {
      assert.throws(() => accumulateGradients(model, batch, new StepContext(new BufferPool()), undefined, 4, bad), new RegExp(`length groups at once: ${bad} \\(a whole number ≥ 0; 0: all\\)`));
      assert.throws(() => forwardLogits(model, batch, new StepContext(new BufferPool()), 4, bad), /length groups at once/);
    }
    const whole = grads(0);
    const scale = Math.max(...whole.g.map((g) => Math.max(...Array.from(g, Math.abs))));
    const padded = forwardLogits(model, batch, new StepContext(new BufferPool()));
    for (const [size, atOnce] of [[1, 0], [1, 1], [3, 0], [3, 2], [4, 1], [7, 0]] as const) {
      const what = `groups of ${size}, ${atOnce === 0 ? 'all' : atOnce} at once`;
      const got = grads(size, atOnce);
      assert.ok(Math.abs(got.loss - whole.loss) <= 1e-6 * whole.loss, `${what}: loss ${got.loss} vs ${whole.loss}`);
      got.g.forEach((g, i) => assertAllClose(g, whole.g[i]!, 1e-6 * scale, 1e-4, `${what}: gradient ${i}`));
      const logits = forwardLogits(model, batch, new StepContext(new BufferPool()), size, atOnce);
      for (let b = 0; b < batch.B; b++) {
        const need = neededSteps(batch, b);
        for (let t = 0; t < batch.T; t++) {
          for (let j = 0; j < batch.Y; j++) {
            const k = b * batch.Y + j;
            // after the steps it needs, a sample's group may have stopped (0) or not (the same logit)
            const same = Object.is(logits[t]![k], padded[t]![k]);
            assert.ok(same || (t >= need && logits[t]![k] === 0), `${what}: logit (${t}, ${b}, ${j})`);
          }
        }
      }
    }
  });
}

test('LengthGroups.deal: every sample to one thread, whole groups, the longest to thread 0, work evened out; each share planned again falls into the same groups', () => {
  const task = copyTask({ bits: 2, minWords: 1, maxWords: 9 });
  const rng = new Rng(8);
  const g = new LengthGroups(), again = new LengthGroups(), store = new BatchStore();
  for (let round = 0; round < 30; round++) {
    const B = 5 + (round % 12), threads = 2 + (round % 3), size = 1 + (round % 4);
    const batch = task.sample(rng, B);
    const groups = g.plan(batch, size);
    const wanted = Array.from({ length: groups }, (_, k) => Array.from({ length: g.rows(k) }, (_, r) => g.sampleOf(k, r)));
    const shares: number[][] = Array.from({ length: threads }, () => []), count: number[] = [], steps: number[] = [];
    g.deal(threads, shares, count, steps);
    const all = shares.flatMap((s, w) => s.slice(0, count[w]));
    assert.deepEqual([...all].sort((a, b) => a - b), [...Array(B).keys()]);
    assert.ok(shares[0]!.slice(0, size).every((b, r) => b === wanted[0]![r]), 'thread 0 has the longest group');
    const work = shares.map((s, w) => {
      if (count[w] === 0) return 0;
      // the share, planned again, is whole groups of the batch's plan
      const share = gatherInto(batch, s, 0, count[w]!, steps[w]!, store.take(steps[w]!, count[w]!, batch.X, batch.Y));
      const n = again.plan(share, size);
      let total = 0;
      for (let k = 0; k < n; k++) {
        const members = Array.from({ length: again.rows(k) }, (_, r) => s[again.sampleOf(k, r)]!);
        assert.ok(wanted.some((grp) => grp.length === members.length && grp.every((b, i) => b === members[i])), `thread ${w}: group [${members}]`);
        assert.equal(again.steps(k), neededSteps(batch, members[0]!));
        total += again.rows(k) * again.steps(k);
      }
      assert.equal(steps[w], again.steps(0));
      return total;
    });
    // no thread has more work than the least loaded one plus one group (the greedy deal's bound)
    const biggest = g.rows(0) * g.steps(0);
    assert.ok(Math.max(...work) <= Math.min(...work) + biggest, `work ${work}`);
  }
});
