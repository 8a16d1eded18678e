import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prioritySortTask } from './priority-sort.js';
import type { Batch } from './batch.js';
import { Rng } from '../tensor/random.js';

const BITS = 3, N = 6, K = 4, B = 5; // X = 6, Y = 3, T = 12
const task = prioritySortTask({ bits: BITS, sortInputs: N, sortOutputs: K });

/** Sample b's input vectors and their priorities, read from input rows 1..n. */
function inputsOf(batch: Batch, b: number): { vector: number[]; priority: number }[] {
  const { B: Bn, X } = batch, n = batch.lengths[b]!;
  return Array.from({ length: n }, (_, i) => {
    const row = ((1 + i) * Bn + b) * X;
    return { vector: Array.from(batch.input.subarray(row, row + BITS)), priority: batch.input[row + BITS]! };
  });
}

/**
 * The whole batch as the header's table says, given each sample's vectors and priorities: the
 * answer is those vectors sorted by priority, highest first, the first k of them.
 */
function expected(batch: Batch, k: number): { input: number[]; target: number[]; mask: number[] } {
  const { T, X, Y } = batch;
  const input = new Array<number>(T * B * X).fill(0);
  const target = new Array<number>(T * B * Y).fill(0);
  const mask = new Array<number>(T * B).fill(0);
  for (let b = 0; b < B; b++) {
    const n = batch.lengths[b]!, inputs = inputsOf(batch, b);
    input[b * X + BITS + 1] = 1;
    inputs.forEach(({ vector, priority }, i) => {
      for (let j = 0; j < BITS; j++) input[((1 + i) * B + b) * X + j] = vector[j]!;
      input[((1 + i) * B + b) * X + BITS] = priority;
    });
    input[((n + 1) * B + b) * X + BITS + 2] = 1;
    const sorted = [...inputs].sort((p, q) => q.priority - p.priority);
    for (let r = 0; r < k; r++) {
      const t = n + 2 + r;
      mask[t * B + b] = 1;
      for (let j = 0; j < BITS; j++) target[(t * B + b) * Y + j] = sorted[r]!.vector[j]!;
    }
  }
  return { input, target, mask };
}

test('priority-sort: widths X = bits + 3, Y = bits; T = n + k + 2; n vectors per sample; k scored steps', () => {
  assert.equal(task.name, 'priority-sort');
  assert.equal(task.lengthName, 'vectors');
  assert.deepEqual(task.lengths, [N, N]);
  assert.equal(task.levels, 1);
  assert.equal(task.inputSize, BITS + 3);
  assert.equal(task.outputSize, BITS);
  assert.equal(task.steps(N), N + K + 2);
  assert.equal(task.steps(2), 2 + 2 + 2, 'k is at most n');
  const batch = task.sample(new Rng(1), B);
  assert.equal(batch.T, N + K + 2);
  assert.equal(batch.X, BITS + 3);
  assert.equal(batch.Y, BITS);
  assert.equal(batch.input.length, batch.T * B * batch.X);
  assert.equal(batch.target.length, batch.T * B * batch.Y);
  assert.equal(batch.mask.length, batch.T * B);
  assert.deepEqual(batch.lengths, new Array(B).fill(N));
  assert.deepEqual(batch.repeats, new Array(B).fill(1));
  for (let b = 0; b < B; b++) {
    let m = 0;
    for (let t = 0; t < batch.T; t++) m += batch.mask[t * B + b]!;
    assert.equal(m, K);
  }
});

test('priority-sort: every cell is the header\'s table; the targets are the top k by priority, highest first', () => {
  for (const seed of [1, 2, 3]) {
    const batch = task.sample(new Rng(seed), B);
    const e = expected(batch, K);
    assert.deepEqual(Array.from(batch.input), e.input, `input, seed ${seed}`);
    assert.deepEqual(Array.from(batch.target), e.target, `target, seed ${seed}`);
    assert.deepEqual(Array.from(batch.mask), e.mask, `mask, seed ${seed}`);
    for (let b = 0; b < B; b++) {
      const inputs = inputsOf(batch, b);
      const prios = inputs.map((p) => p.priority);
      assert.equal(new Set(prios).size, N, 'distinct priorities');
      for (const p of prios) assert.ok(p >= -1 && p <= 1, `priority ${p}`);
      for (const { vector } of inputs) for (const v of vector) assert.ok(v === 0 || v === 1);
      // the answer rows, matched back to the inputs, have falling priorities that beat every one left out
      const answer = Array.from({ length: K }, (_, r) => {
        const row = ((N + 2 + r) * B + b) * BITS;
        const vec = Array.from(batch.target.subarray(row, row + BITS)).join();
        const from = inputs.filter((p) => p.vector.join() === vec).map((p) => p.priority);
        assert.ok(from.length >= 1, `answer row ${r} is an input vector`);
        return from;
      });
      const chosen = [...prios].sort((p, q) => q - p).slice(0, K);
      chosen.forEach((p, r) => assert.ok(answer[r]!.includes(p), `row ${r}: a vector of priority ${p}`));
      for (let r = 1; r < K; r++) assert.ok(chosen[r - 1]! > chosen[r]!);
    }
  }
});

test('priority-sort: priorities are uniform over [−1, 1]', () => {
  const batch = prioritySortTask({ bits: 2, sortInputs: 20, sortOutputs: 16 }).sample(new Rng(4), 500);
  const bins = new Array<number>(4).fill(0);
  let sum = 0;
  for (let b = 0; b < 500; b++) for (let i = 0; i < 20; i++) {
    const p = batch.input[((1 + i) * 500 + b) * 5 + 2]!;
    assert.ok(p >= -1 && p <= 1);
    sum += p;
    bins[Math.min(3, Math.floor((p + 1) * 2))]!++;
  }
  assert.ok(Math.abs(sum / 10_000) < 0.03, `mean priority ${sum / 10_000}`);
  for (const c of bins) assert.ok(Math.abs(c - 2500) < 200, `quarter of [−1, 1]: ${c} of 10,000`);
});

test('priority-sort: a hand-checked sample of 4 vectors of 3 bits, 2 put out', () => {
  const small = prioritySortTask({ bits: 3, sortInputs: 4, sortOutputs: 2 });
  const batch = small.sample(new Rng(5), 1);
  assert.equal(batch.T, 8); // 4 + 2 + 2
  const X = 6, Y = 3;
  const inRow = (t: number): number[] => Array.from(batch.input.subarray(t * X, (t + 1) * X));
  const outRow = (t: number): number[] => Array.from(batch.target.subarray(t * Y, (t + 1) * Y));
  const v = [1, 2, 3, 4].map((t) => inRow(t).slice(0, 3));
  const p = [1, 2, 3, 4].map((t) => inRow(t)[3]!);
  // the two highest priorities, by hand: the index of the largest, then of the largest of the rest
  const first = p.indexOf(Math.max(...p));
  const second = p.indexOf(Math.max(...p.filter((_, i) => i !== first)));
  assert.deepEqual(inRow(0), [0, 0, 0, 0, 1, 0]);
  for (let i = 0; i < 4; i++) assert.deepEqual(inRow(1 + i), [...v[i]!, p[i], 0, 0]);
  assert.deepEqual(inRow(5), [0, 0, 0, 0, 0, 1]);
  assert.deepEqual(inRow(6), [0, 0, 0, 0, 0, 0]);
  assert.deepEqual(inRow(7), [0, 0, 0, 0, 0, 0]);
  for (let t = 0; t < 6; t++) assert.deepEqual(outRow(t), [0, 0, 0]);
  assert.deepEqual(outRow(6), v[first]);
  assert.deepEqual(outRow(7), v[second]);
  assert.deepEqual(Array.from(batch.mask), [0, 0, 0, 0, 0, 0, 1, 1]);
});

test('priority-sort: the same seed gives the same batch; another seed a different one', () => {
  const a = task.sample(new Rng(42), B), b = task.sample(new Rng(42), B), c = task.sample(new Rng(43), B);
  assert.deepEqual(a, b);
  assert.notDeepEqual(Array.from(a.input), Array.from(c.input));
});

test('priority-sort: the length argument forces n (k = min(sortOutputs, n)); fewer than 1 vector is refused', () => {
  for (const n of [1, 3, 4, 9]) {
    const batch = task.sample(new Rng(6), B, { length: n });
    const k = Math.min(K, n);
    assert.equal(batch.T, n + k + 2);
    assert.equal(batch.T, task.steps(n));
    assert.deepEqual(batch.lengths, new Array(B).fill(n));
    const e = expected(batch, k);
    assert.deepEqual(Array.from(batch.input), e.input, `input, n ${n}`);
    assert.deepEqual(Array.from(batch.target), e.target, `target, n ${n}`);
    assert.deepEqual(Array.from(batch.mask), e.mask, `mask, n ${n}`);
  }
  assert.throws(() => task.sample(new Rng(6), B, { length: 0 }), /priority-sort: a sample has at least 1 vector, not 0/);
});
