import { test } from 'node:test';
import assert from 'node:assert/strict';
import { associativeRecallTask } from './associative-recall.js';
import type { Batch } from './batch.js';
import { Rng } from '../tensor/random.js';

const BITS = 3, S = 2, B = 6; // X = 5, Y = 3
const task = associativeRecallTask({ bits: BITS, itemSize: S, minItems: 2, maxItems: 5 });

/** Sample b's item k (its s vectors, flattened), read from the input rows after its delimiter. */
function item(batch: Batch, b: number, k: number): number[] {
  const out: number[] = [];
  for (let v = 0; v < S; v++) for (let j = 0; j < BITS; j++) out.push(batch.input[((k * (S + 1) + 1 + v) * batch.B + b) * batch.X + j]!);
  return out;
}

/** Sample b's query item, read from the input rows after the first query delimiter. */
function queryOf(batch: Batch, b: number): number[] {
  return item(batch, b, batch.lengths[b]!);
}

/** The index of the item the query repeats (the items are distinct, so there is one). */
function queryIndex(batch: Batch, b: number): number {
  const q = queryOf(batch, b);
  const found: number[] = [];
  for (let k = 0; k < batch.lengths[b]!; k++) if (item(batch, b, k).join() === q.join()) found.push(k);
  assert.equal(found.length, 1, `sample ${b}: the query matches items ${found}`);
  return found[0]!;
}

/**
 * The whole batch as the header's table says, given each sample's n, its items (read from the
 * input rows after each item delimiter) and which one is the query.
 */
function expected(batch: Batch): { input: number[]; target: number[]; mask: number[] } {
  const { T, X, Y } = batch;
  const input = new Array<number>(T * B * X).fill(0);
  const target = new Array<number>(T * B * Y).fill(0);
  const mask = new Array<number>(T * B).fill(0);
  for (let b = 0; b < B; b++) {
    const n = batch.lengths[b]!, q = queryIndex(batch, b);
    const put = (t: number, vec: number[], v: number): void => {
      for (let j = 0; j < BITS; j++) input[(t * B + b) * X + j] = vec[v * BITS + j]!;
    };
    for (let k = 0; k < n; k++) {
      input[(k * (S + 1) * B + b) * X + BITS] = 1;
      for (let v = 0; v < S; v++) put(k * (S + 1) + 1 + v, item(batch, b, k), v);
    }
    input[(n * (S + 1) * B + b) * X + BITS + 1] = 1;
    for (let v = 0; v < S; v++) put(n * (S + 1) + 1 + v, item(batch, b, q), v);
    input[((n * (S + 1) + S + 1) * B + b) * X + BITS + 1] = 1;
    const answer = item(batch, b, q + 1);
    for (let v = 0; v < S; v++) {
      const t = n * (S + 1) + S + 2 + v;
      mask[t * B + b] = 1;
      for (let j = 0; j < BITS; j++) target[(t * B + b) * Y + j] = answer[v * BITS + j]!;
    }
  }
  return { input, target, mask };
}

test('associative-recall: widths X = bits + 2, Y = bits; T = (max_n + 2)(s + 1); n in range and mixed; s scored steps per sample', () => {
  assert.equal(task.name, 'associative-recall');
  assert.equal(task.lengthName, 'items');
  assert.deepEqual(task.lengths, [2, 5]);
  assert.equal(task.levels, 4);
  assert.equal(task.inputSize, BITS + 2);
  assert.equal(task.outputSize, BITS);
  const batch = task.sample(new Rng(3), B);
  assert.equal(batch.X, BITS + 2);
  assert.equal(batch.Y, BITS);
  for (const n of batch.lengths) assert.ok(Number.isInteger(n) && n >= 2 && n <= 5);
  assert.ok(new Set(batch.lengths).size > 1, `seed 3 should give mixed lengths, got ${batch.lengths}`);
  assert.equal(batch.T, (Math.max(...batch.lengths) + 2) * (S + 1));
  assert.equal(batch.T, task.steps(Math.max(...batch.lengths)));
  assert.equal(batch.input.length, batch.T * B * batch.X);
  assert.equal(batch.target.length, batch.T * B * batch.Y);
  assert.equal(batch.mask.length, batch.T * B);
  assert.deepEqual(batch.repeats, new Array(B).fill(1));
  for (let b = 0; b < B; b++) {
    let m = 0;
    for (let t = 0; t < batch.T; t++) m += batch.mask[t * B + b]!;
    assert.equal(m, S);
  }
});

test('associative-recall: every input, target and mask cell is what the table says, padding included; items distinct, the target the item after the query', () => {
  const queries = new Set<string>();
  for (const seed of [3, 4, 5, 6]) {
    const batch = task.sample(new Rng(seed), B);
    const e = expected(batch);
    assert.deepEqual(Array.from(batch.input), e.input, `input, seed ${seed}`);
    assert.deepEqual(Array.from(batch.target), e.target, `target, seed ${seed}`);
    assert.deepEqual(Array.from(batch.mask), e.mask, `mask, seed ${seed}`);
    for (let b = 0; b < B; b++) {
      const n = batch.lengths[b]!;
      const all = Array.from({ length: n }, (_, k) => item(batch, b, k).join());
      assert.equal(new Set(all).size, n, `seed ${seed} sample ${b}: items not distinct`);
      for (const v of all.join().split(',')) assert.ok(v === '0' || v === '1');
      const q = queryIndex(batch, b);
      assert.ok(q >= 0 && q <= n - 2);
      queries.add(`${n}:${q}`);
    }
  }
  assert.ok(queries.size > 4, `the query index varies: ${[...queries]}`);
});

test('associative-recall: the query is uniform over 0..n−2, never the last item', () => {
  const t5 = associativeRecallTask({ bits: 4, itemSize: 1, minItems: 5, maxItems: 5 });
  const counts = [0, 0, 0, 0, 0];
  const batch = t5.sample(new Rng(13), 2000);
  for (let b = 0; b < 2000; b++) {
    // the query rows (t = 6) against the items (t = 1, 3, 5, 7, 9)
    const row = (t: number): string => Array.from(batch.input.subarray((t * 2000 + b) * 6, (t * 2000 + b) * 6 + 4)).join();
    for (let k = 0; k < 5; k++) if (row(2 * k + 1) === row(11)) counts[k]!++;
  }
  assert.equal(counts[4], 0);
  assert.equal(counts.reduce((a, c) => a + c, 0), 2000);
  for (let k = 0; k < 4; k++) assert.ok(Math.abs(counts[k]! - 500) < 80, `item ${k} queried ${counts[k]} times of 2000`);
});

test('associative-recall: a hand-checked sample of 3 items of 2 vectors of 2 bits', () => {
  const small = associativeRecallTask({ bits: 2, itemSize: 2, minItems: 3, maxItems: 3 });
  const batch = small.sample(new Rng(17), 1);
  assert.equal(batch.T, 15); // (3 + 2)(2 + 1)
  assert.deepEqual(batch.lengths, [3]);
  const X = 4, Y = 2;
  const inRow = (t: number): number[] => Array.from(batch.input.subarray(t * X, (t + 1) * X));
  const outRow = (t: number): number[] => Array.from(batch.target.subarray(t * Y, (t + 1) * Y));
  // the drawn vectors: item k is rows 3k+1, 3k+2; the query rows 10, 11
  const vec = (t: number): number[] => inRow(t).slice(0, 2);
  const items = [[vec(1), vec(2)], [vec(4), vec(5)], [vec(7), vec(8)]];
  const q = items.findIndex(([a, b]) => a!.join() === vec(10).join() && b!.join() === vec(11).join());
  assert.ok(q === 0 || q === 1, `the query is item ${q}`);
  assert.notDeepEqual(items[0], items[1]);
  assert.notDeepEqual(items[0], items[2]);
  assert.notDeepEqual(items[1], items[2]);
  const [i0, i1, i2] = items as [number[][], number[][], number[][]];
  const query = items[q]!, answer = items[q + 1]!;
  const grid = [
    [0, 0, 1, 0], [...i0[0]!, 0, 0], [...i0[1]!, 0, 0],
    [0, 0, 1, 0], [...i1[0]!, 0, 0], [...i1[1]!, 0, 0],
    [0, 0, 1, 0], [...i2[0]!, 0, 0], [...i2[1]!, 0, 0],
    [0, 0, 0, 1], [...query[0]!, 0, 0], [...query[1]!, 0, 0],
    [0, 0, 0, 1],
    [0, 0, 0, 0], [0, 0, 0, 0],
  ];
  for (let t = 0; t < 15; t++) assert.deepEqual(inRow(t), grid[t], `input row ${t}`);
  for (let t = 0; t < 13; t++) assert.deepEqual(outRow(t), [0, 0], `target row ${t}`);
  assert.deepEqual(outRow(13), answer[0]);
  assert.deepEqual(outRow(14), answer[1]);
  assert.deepEqual(Array.from(batch.mask), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
});

test('associative-recall: items are distinct even when few items are possible (2 bits, one vector: 4 items)', () => {
  const tight = associativeRecallTask({ bits: 2, itemSize: 1, minItems: 4, maxItems: 4 });
  const batch = tight.sample(new Rng(1), 50);
  for (let b = 0; b < 50; b++) {
    const seen = new Set<string>();
    for (let k = 0; k < 4; k++) seen.add(Array.from(batch.input.subarray(((2 * k + 1) * 50 + b) * 4, ((2 * k + 1) * 50 + b) * 4 + 2)).join());
    assert.equal(seen.size, 4, `sample ${b}`);
  }
});

test('associative-recall: the same seed gives the same batch; another seed a different one', () => {
  const a = task.sample(new Rng(42), B), b = task.sample(new Rng(42), B), c = task.sample(new Rng(43), B);
  assert.deepEqual(a, b);
  assert.notDeepEqual(Array.from(a.input), Array.from(c.input));
});

test('associative-recall: the length argument forces every sample\'s item count (even beyond maxItems); one no item list can have is refused', () => {
  for (const L of [2, 4, 7]) {
    const batch = task.sample(new Rng(8), B, { length: L });
    assert.deepEqual(batch.lengths, new Array(B).fill(L));
    assert.equal(batch.T, (L + 2) * (S + 1));
    const e = expected(batch);
    assert.deepEqual(Array.from(batch.input), e.input);
    assert.deepEqual(Array.from(batch.target), e.target);
    assert.deepEqual(Array.from(batch.mask), e.mask);
  }
  assert.throws(() => task.sample(new Rng(8), B, { length: 1 }), /associative-recall: a sample has 2\.\.64 distinct items/);
  assert.throws(() => task.sample(new Rng(8), B, { length: 65 }), /not 65/);
});

test('associative-recall: curriculum level 0 draws only minItems; level k at most minItems + k; no level the whole range', () => {
  const wide = associativeRecallTask({ bits: 4, itemSize: 2, minItems: 2, maxItems: 6 });
  assert.equal(wide.levels, 5);
  assert.deepEqual(wide.sample(new Rng(1), 40, { level: 0 }).lengths, new Array(40).fill(2));
  for (const level of [1, 2, 3]) {
    const seen = new Set(wide.sample(new Rng(level), 60, { level }).lengths);
    assert.ok(Math.max(...seen) <= 2 + level && Math.min(...seen) >= 2, `level ${level}: ${[...seen]}`);
    assert.equal(seen.size, level + 1, `level ${level} reaches every count up to ${2 + level}: ${[...seen]}`);
  }
  assert.deepEqual([...new Set(wide.sample(new Rng(9), 80).lengths)].sort(), [2, 3, 4, 5, 6]);
  assert.deepEqual([...new Set(wide.sample(new Rng(9), 80, { level: 4 }).lengths)].sort(), [2, 3, 4, 5, 6]);
});
