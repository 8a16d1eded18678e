import { test } from 'node:test';
import assert from 'node:assert/strict';
import { repeatCopyTask } from './repeat-copy.js';
import type { Batch } from './batch.js';
import { Rng } from '../tensor/random.js';

const BITS = 3, B = 6, NORM = 10; // X = 5, Y = 4
const task = repeatCopyTask({ bits: BITS, minWords: 1, maxWords: 3, minRepeats: 1, maxRepeats: 3, repeatNorm: NORM });

/**
 * The whole batch as the repeat-copy table (repeat-copy.ts's header) says it must be, given each sample's n, r
 * and its words (read from input rows 1..n).
 */
function expected(batch: Batch): { input: number[]; target: number[]; mask: number[] } {
  const { T, X, Y } = batch;
  const input = new Array<number>(T * B * X).fill(0);
  const target = new Array<number>(T * B * Y).fill(0);
  const mask = new Array<number>(T * B).fill(0);
  for (let b = 0; b < B; b++) {
    const n = batch.lengths[b]!, r = batch.repeats[b]!;
    const word = (t: number, j: number): number => batch.input[(t * B + b) * X + j]!;
    input[(0 * B + b) * X + BITS] = 1; // t = 0: start
    for (let t = 1; t <= n; t++) for (let j = 0; j < BITS; j++) input[(t * B + b) * X + j] = word(t, j);
    input[((n + 1) * B + b) * X + BITS + 1] = Math.fround(r / NORM); // t = n+1: repeat channel (stored as float32)
    for (let k = 0; k < n * r; k++) { // t = n+2 .. n+1+n·r: the n words, r times
      const t = n + 2 + k;
      mask[t * B + b] = 1;
      for (let j = 0; j < BITS; j++) target[(t * B + b) * Y + j] = word(1 + (k % n), j);
    }
    const end = n * (r + 1) + 2; // the end marker
    target[(end * B + b) * Y + BITS] = 1;
    mask[end * B + b] = 1;
  }
  return { input, target, mask };
}

test('repeat-copy: widths X = bits + 2, Y = bits + 1; T = max_n·(max_r + 1) + 3; n, r in range and mixed', () => {
  assert.equal(task.name, 'repeat-copy');
  assert.equal(task.inputSize, BITS + 2);
  assert.equal(task.outputSize, BITS + 1);
  const batch = task.sample(new Rng(2), B);
  assert.equal(batch.X, BITS + 2);
  assert.equal(batch.Y, BITS + 1);
  for (const n of batch.lengths) assert.ok(Number.isInteger(n) && n >= 1 && n <= 3);
  for (const r of batch.repeats) assert.ok(Number.isInteger(r) && r >= 1 && r <= 3);
  assert.ok(new Set(batch.lengths).size > 1 && new Set(batch.repeats).size > 1, `seed 2: n ${batch.lengths}, r ${batch.repeats}`);
  assert.equal(batch.T, Math.max(...batch.lengths) * (Math.max(...batch.repeats) + 1) + 3);
  assert.equal(batch.input.length, batch.T * B * batch.X);
  assert.equal(batch.target.length, batch.T * B * batch.Y);
  assert.equal(batch.mask.length, batch.T * B);
});

test('repeat-copy: every input, target and mask cell is what the task\'s channel table says, padding included', () => {
  for (const seed of [2, 3, 4, 5]) {
    const batch = task.sample(new Rng(seed), B);
    const e = expected(batch);
    assert.deepEqual(Array.from(batch.input), e.input, `input, seed ${seed}`);
    assert.deepEqual(Array.from(batch.target), e.target, `target, seed ${seed}`);
    assert.deepEqual(Array.from(batch.mask), e.mask, `mask, seed ${seed}`);
    for (let b = 0; b < B; b++) {
      for (let t = 1; t <= batch.lengths[b]!; t++) {
        for (let j = 0; j < BITS; j++) assert.ok([0, 1].includes(batch.input[(t * B + b) * batch.X + j]!));
      }
      // scored steps: n·r words plus the end marker
      let m = 0;
      for (let t = 0; t < batch.T; t++) m += batch.mask[t * B + b]!;
      assert.equal(m, batch.lengths[b]! * batch.repeats[b]! + 1);
    }
  }
});

test('repeat-copy: a hand-checked sample with n = 2 words and r = 2 repeats', () => {
  const t2 = repeatCopyTask({ bits: 2, minWords: 2, maxWords: 2, minRepeats: 2, maxRepeats: 2, repeatNorm: 10 });
  const batch = t2.sample(new Rng(5), 1);
  assert.equal(batch.T, 2 * 3 + 3); // 9
  const X = 4, Y = 3;
  const inRow = (t: number): number[] => Array.from(batch.input.subarray(t * X, (t + 1) * X));
  const outRow = (t: number): number[] => Array.from(batch.target.subarray(t * Y, (t + 1) * Y));
  const w1 = inRow(1).slice(0, 2), w2 = inRow(2).slice(0, 2);
  assert.deepEqual(inRow(0), [0, 0, 1, 0]);
  assert.deepEqual(inRow(3), [0, 0, 0, Math.fround(2 / 10)]);
  assert.ok(Math.abs(batch.input[3 * X + 3]! - 0.2) < 1e-7);
  for (const t of [4, 5, 6, 7, 8]) assert.deepEqual(inRow(t), [0, 0, 0, 0]);
  for (const t of [0, 1, 2, 3]) assert.deepEqual(outRow(t), [0, 0, 0]);
  assert.deepEqual(outRow(4), [...w1, 0]);
  assert.deepEqual(outRow(5), [...w2, 0]);
  assert.deepEqual(outRow(6), [...w1, 0]);
  assert.deepEqual(outRow(7), [...w2, 0]);
  assert.deepEqual(outRow(8), [0, 0, 1]); // end marker at n(r+1)+2 = 8
  assert.deepEqual(Array.from(batch.mask), [0, 0, 0, 0, 1, 1, 1, 1, 1]);
});

test('repeat-copy: the same seed gives the same batch; another seed a different one', () => {
  const a = task.sample(new Rng(42), B), b = task.sample(new Rng(42), B), c = task.sample(new Rng(43), B);
  assert.deepEqual(a, b);
  assert.notDeepEqual(Array.from(a.input), Array.from(c.input));
});

test('repeat-copy: the length argument forces every sample\'s length; repeats still vary', () => {
  for (const L of [1, 2, 5]) {
    const batch = task.sample(new Rng(8), B, { length: L });
    assert.deepEqual(batch.lengths, new Array(B).fill(L));
    assert.equal(batch.T, L * (Math.max(...batch.repeats) + 1) + 3);
    const e = expected(batch);
    assert.deepEqual(Array.from(batch.input), e.input);
    assert.deepEqual(Array.from(batch.target), e.target);
    assert.deepEqual(Array.from(batch.mask), e.mask);
  }
  assert.ok(new Set(task.sample(new Rng(8), B, { length: 2 }).repeats).size > 1);
});
