import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyTask } from './copy.js';
import type { Batch } from './batch.js';
import { Rng } from '../tensor/random.js';

const BITS = 3, B = 5; // X = 5, Y = 3
const task = copyTask({ bits: BITS, minWords: 1, maxWords: 4 });

/**
 * The whole batch as the copy table (copy.ts's header) says it must be, given each sample's length and
 * its words (read from the input rows 1..n, which the table leaves free).
 */
function expected(batch: Batch): { input: number[]; target: number[]; mask: number[] } {
  const { T, X, Y } = batch;
  const input = new Array<number>(T * B * X).fill(0);
  const target = new Array<number>(T * B * Y).fill(0);
  const mask = new Array<number>(T * B).fill(0);
  for (let b = 0; b < B; b++) {
    const n = batch.lengths[b]!;
    const word = (t: number, j: number): number => batch.input[(t * B + b) * X + j]!;
    input[(0 * B + b) * X + BITS] = 1; // t = 0: start channel
    for (let t = 1; t <= n; t++) for (let j = 0; j < BITS; j++) input[(t * B + b) * X + j] = word(t, j); // word t
    input[((n + 1) * B + b) * X + BITS + 1] = 1; // t = n+1: end channel
    for (let t = n + 2; t <= 2 * n + 1; t++) {
      mask[t * B + b] = 1;
      for (let j = 0; j < BITS; j++) target[(t * B + b) * Y + j] = word(t - n - 1, j); // word t−n−1
    }
  }
  return { input, target, mask };
}

test('copy: widths X = bits + 2, Y = bits; T = 2·max_n + 2; lengths in range and not all equal', () => {
  assert.equal(task.name, 'copy');
  assert.equal(task.inputSize, BITS + 2);
  assert.equal(task.outputSize, BITS);
  const batch = task.sample(new Rng(3), B);
  assert.equal(batch.B, B);
  assert.equal(batch.X, BITS + 2);
  assert.equal(batch.Y, BITS);
  assert.equal(batch.lengths.length, B);
  for (const n of batch.lengths) assert.ok(Number.isInteger(n) && n >= 1 && n <= 4);
  assert.ok(new Set(batch.lengths).size > 1, `seed 3 should give mixed lengths, got ${batch.lengths}`);
  assert.equal(batch.T, 2 * Math.max(...batch.lengths) + 2);
  assert.equal(batch.input.length, batch.T * B * (BITS + 2));
  assert.equal(batch.target.length, batch.T * B * BITS);
  assert.equal(batch.mask.length, batch.T * B);
  assert.deepEqual(batch.repeats, new Array(B).fill(1));
});

test('copy: every input, target and mask cell is what the task\'s channel table says, padding included', () => {
  for (const seed of [3, 4, 5]) {
    const batch = task.sample(new Rng(seed), B);
    const e = expected(batch);
    assert.deepEqual(Array.from(batch.input), e.input, `input, seed ${seed}`);
    assert.deepEqual(Array.from(batch.target), e.target, `target, seed ${seed}`);
    assert.deepEqual(Array.from(batch.mask), e.mask, `mask, seed ${seed}`);
    // the word cells are bits; the answer phase input is all zero (checked above through e.input)
    for (let b = 0; b < B; b++) {
      for (let t = 1; t <= batch.lengths[b]!; t++) {
        for (let j = 0; j < BITS; j++) {
          const v = batch.input[(t * B + b) * (BITS + 2) + j]!;
          assert.ok(v === 0 || v === 1);
        }
      }
    }
  }
});

test('copy: a hand-checked small batch (length 2 and its padding)', () => {
  const batch = task.sample(new Rng(11), 1, { length: 2 });
  assert.equal(batch.T, 6);
  const X = BITS + 2;
  const row = (t: number): number[] => Array.from(batch.input.subarray(t * X, (t + 1) * X));
  const w1 = row(1).slice(0, BITS), w2 = row(2).slice(0, BITS);
  assert.deepEqual(row(0), [0, 0, 0, 1, 0]);
  assert.deepEqual(row(1), [...w1, 0, 0]);
  assert.deepEqual(row(2), [...w2, 0, 0]);
  assert.deepEqual(row(3), [0, 0, 0, 0, 1]);
  assert.deepEqual(row(4), [0, 0, 0, 0, 0]);
  assert.deepEqual(row(5), [0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(batch.target), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...w1, ...w2]);
  assert.deepEqual(Array.from(batch.mask), [0, 0, 0, 0, 1, 1]);
});

test('copy: the same seed gives the same batch; another seed a different one', () => {
  const a = task.sample(new Rng(42), B), b = task.sample(new Rng(42), B), c = task.sample(new Rng(43), B);
  assert.deepEqual(a, b);
  assert.notDeepEqual(Array.from(a.input), Array.from(c.input));
  // consecutive batches from one stream differ
  const rng = new Rng(42);
  const first = task.sample(rng, B), second = task.sample(rng, B);
  assert.deepEqual(first, a);
  assert.notDeepEqual(Array.from(second.input), Array.from(first.input));
});

test('copy: the length argument forces every sample\'s length (even outside minWords..maxWords)', () => {
  for (const L of [1, 3, 6]) {
    const batch = task.sample(new Rng(7), B, { length: L });
    assert.deepEqual(batch.lengths, new Array(B).fill(L));
    assert.equal(batch.T, 2 * L + 2);
    const e = expected(batch);
    assert.deepEqual(Array.from(batch.input), e.input);
    assert.deepEqual(Array.from(batch.target), e.target);
    assert.deepEqual(Array.from(batch.mask), e.mask);
    assert.equal(batch.mask.reduce((a, m) => a + m, 0), B * L);
  }
});

test('copy: bits are fair coin flips (mean ≈ 0.5 over many words)', () => {
  const big = copyTask({ bits: 8, minWords: 10, maxWords: 10 }).sample(new Rng(9), 64);
  let s = 0, n = 0;
  for (let t = 1; t <= 10; t++) for (let b = 0; b < 64; b++) for (let j = 0; j < 8; j++) { s += big.input[(t * 64 + b) * 10 + j]!; n++; }
  assert.ok(Math.abs(s / n - 0.5) < 0.04, `mean bit ${s / n}`);
});
