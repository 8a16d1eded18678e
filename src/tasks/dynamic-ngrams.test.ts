import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drawNgramBits, drawNgramTable, dynamicNgramsTask, ngramPredict, optimalNgramBits } from './dynamic-ngrams.js';
import type { Batch } from './batch.js';
import { Rng } from '../tensor/random.js';

const N = 4, L = 12, B = 5; // T = 14
const task = dynamicNgramsTask({ ngram: N, sequenceBits: L });

/** Sample b's whole sequence b_0 .. b_T: the inputs, then the last target. */
function sequenceOf(batch: Batch, b: number): number[] {
  const { T, B: Bn } = batch;
  const out: number[] = [];
  for (let t = 0; t < T; t++) out.push(batch.input[t * Bn + b]!);
  out.push(batch.target[(T - 1) * Bn + b]!);
  return out;
}

/** The predictor's cost written out with a map of counts per context string, for comparison. */
function referenceCost(bits: readonly number[], n: number): number {
  const seen = new Map<string, [number, number]>();
  let cost = 0;
  for (let t = n - 1; t < bits.length; t++) {
    const key = bits.slice(t - n + 1, t).join('');
    const c = seen.get(key) ?? [0, 0];
    const p1 = (c[1] + 0.5) / (c[0] + c[1] + 1);
    cost += -Math.log2(bits[t] === 1 ? p1 : 1 - p1);
    c[bits[t]!]++;
    seen.set(key, c);
  }
  return cost;
}

test('dynamic-ngrams: widths X = Y = 1; T = L + n − 2; every sample L bits; L scored steps from t = n − 2', () => {
  assert.equal(task.name, 'dynamic-ngrams');
  assert.equal(task.lengthName, 'bits');
  assert.deepEqual(task.lengths, [L, L]);
  assert.equal(task.levels, 1);
  assert.equal(task.inputSize, 1);
  assert.equal(task.outputSize, 1);
  assert.equal(task.steps(L), L + N - 2);
  const batch = task.sample(new Rng(1), B);
  assert.equal(batch.T, L + N - 2);
  assert.equal(batch.X, 1);
  assert.equal(batch.Y, 1);
  assert.equal(batch.input.length, batch.T * B);
  assert.equal(batch.target.length, batch.T * B);
  assert.deepEqual(batch.lengths, new Array(B).fill(L));
  assert.deepEqual(batch.repeats, new Array(B).fill(1));
  for (let b = 0; b < B; b++) {
    let m = 0;
    for (let t = 0; t < batch.T; t++) m += batch.mask[t * B + b]!;
    assert.equal(m, L);
  }
  assert.ok(Number.isFinite(batch.optimalBits) && batch.optimalBits! > 0);
});

test('dynamic-ngrams: every cell is the header\'s table: input b_t, target b_{t+1}, mask from t = n − 2; all bits', () => {
  for (const seed of [1, 2, 3]) {
    const batch = task.sample(new Rng(seed), B);
    const { T } = batch;
    for (let b = 0; b < B; b++) {
      const bits = sequenceOf(batch, b);
      for (const v of bits) assert.ok(v === 0 || v === 1);
      for (let t = 0; t < T; t++) {
        assert.equal(batch.input[t * B + b], bits[t], `seed ${seed} sample ${b} input ${t}`);
        assert.equal(batch.target[t * B + b], bits[t + 1], `seed ${seed} sample ${b} target ${t}`);
        assert.equal(batch.mask[t * B + b], t >= N - 2 ? 1 : 0, `seed ${seed} sample ${b} mask ${t}`);
      }
    }
  }
});

test('dynamic-ngrams: a hand-checked sample with n = 3 and L = 5', () => {
  const small = dynamicNgramsTask({ ngram: 3, sequenceBits: 5 });
  const batch = small.sample(new Rng(4), 1);
  assert.equal(batch.T, 6);
  const b = [...batch.input, batch.target[5]!]; // b_0 .. b_6
  assert.deepEqual(Array.from(batch.input), [b[0], b[1], b[2], b[3], b[4], b[5]]);
  assert.deepEqual(Array.from(batch.target), [b[1], b[2], b[3], b[4], b[5], b[6]]);
  assert.deepEqual(Array.from(batch.mask), [0, 1, 1, 1, 1, 1]);
  assert.ok(b.every((v) => v === 0 || v === 1));
  // its optimal cost is the predictor's on b_2 .. b_6 with contexts (b_{t−2}, b_{t−1})
  assert.ok(Math.abs(batch.optimalBits! - referenceCost(b as number[], 3)) < 1e-9);
});

test('dynamic-ngrams: a sample is a Beta(½, ½) table drawn, then its sequence (the draws in that order, one table per sample)', () => {
  const batch = task.sample(new Rng(6), 3);
  const rng = new Rng(6);
  for (let b = 0; b < 3; b++) {
    const table = drawNgramTable(rng, N);
    assert.equal(table.length, 2 ** (N - 1));
    const bits = drawNgramBits(rng, table, N, L);
    assert.deepEqual(sequenceOf(batch, b), Array.from(bits), `sample ${b}`);
  }
});

test('dynamic-ngrams: the first n − 1 bits are fair coin flips, not the table\'s', () => {
  const rng = new Rng(7);
  const table = new Float64Array(8).fill(0.05); // n = 4: every context almost always followed by 0
  let first = 0, later = 0;
  const runs = 4000;
  for (let i = 0; i < runs; i++) {
    const bits = drawNgramBits(rng, table, 4, 10);
    assert.equal(bits.length, 13);
    for (let t = 0; t < 3; t++) first += bits[t]!;
    for (let t = 3; t < 13; t++) later += bits[t]!;
  }
  assert.ok(Math.abs(first / (3 * runs) - 0.5) < 0.02, `first bits' mean ${first / (3 * runs)}`);
  assert.ok(Math.abs(later / (10 * runs) - 0.05) < 0.005, `later bits' mean ${later / (10 * runs)}`);
});

test('dynamic-ngrams: each bit follows the table for the n − 1 bits before it (the oldest the most significant)', () => {
  const table = [0.1, 0.8, 0.5, 0.97]; // n = 3: index 2·b_{t−2} + b_{t−1}
  const rng = new Rng(8);
  const ones = [0, 0, 0, 0], seen = [0, 0, 0, 0];
  for (let i = 0; i < 3000; i++) {
    const bits = drawNgramBits(rng, table, 3, 20);
    for (let t = 2; t < bits.length; t++) {
      const c = 2 * bits[t - 2]! + bits[t - 1]!;
      seen[c]!++;
      ones[c]! += bits[t]!;
    }
  }
  for (let c = 0; c < 4; c++) {
    const p = table[c]!, f = ones[c]! / seen[c]!;
    assert.ok(seen[c]! > 1000, `context ${c} seen ${seen[c]} times`);
    assert.ok(Math.abs(f - p) < 4 * Math.sqrt((p * (1 - p)) / seen[c]!), `context ${c}: frequency of 1 ${f}, table ${p}`);
  }
});

test('dynamic-ngrams: the optimal predictor on hand-worked sequences', () => {
  assert.equal(ngramPredict(0, 0), 0.5);
  assert.equal(ngramPredict(2, 0), 2.5 / 3);
  assert.equal(ngramPredict(0, 3), 0.5 / 4);
  // n = 2, b = 1 0 0 1 1 1. Each target's context is the bit before it:
  //   b_1 = 0 after 1: N1 = 0, N0 = 0, P(1) = 1/2, cost 1   (then context 1: N0 = 1)
  //   b_2 = 0 after 0: N1 = 0, N0 = 0, P(1) = 1/2, cost 1   (context 0: N0 = 1)
  //   b_3 = 1 after 0: N1 = 0, N0 = 1, P(1) = 1/4, cost 2   (context 0: N1 = 1)
  //   b_4 = 1 after 1: N1 = 0, N0 = 1, P(1) = 1/4, cost 2   (context 1: N1 = 1)
  //   b_5 = 1 after 1: N1 = 1, N0 = 1, P(1) = 1/2, cost 1
  assert.equal(optimalNgramBits([1, 0, 0, 1, 1, 1], 2), 7);
  // n = 3, b = 0 1 1 0 1 1 0; contexts (b_{t−2} b_{t−1}):
  //   b_2 = 1 after 01: new, cost 1;  b_3 = 0 after 11: new, cost 1;  b_4 = 1 after 10: new, cost 1
  //   b_5 = 1 after 01 (N1 = 1, N0 = 0): P(1) = 3/4, cost log2(4/3)
  //   b_6 = 0 after 11 (N1 = 0, N0 = 1): P(0) = 3/4, cost log2(4/3)
  assert.ok(Math.abs(optimalNgramBits([0, 1, 1, 0, 1, 1, 0], 3) - (3 + 2 * Math.log2(4 / 3))) < 1e-12);
  // only the first `length` bits count; the scratch counts come back zero
  const counts = new Float64Array(8);
  assert.equal(optimalNgramBits([1, 0, 0, 1, 1, 1, 0, 0], 2, 6, counts), 7);
  assert.ok(counts.every((v) => v === 0));
  assert.equal(optimalNgramBits([1, 0, 0, 1, 1, 1], 2, 6, counts), 7, 'the same again with that scratch');
});

test('dynamic-ngrams: a batch\'s optimalBits is the predictor\'s cost summed over its samples', () => {
  for (const seed of [1, 2, 3]) {
    const batch = task.sample(new Rng(seed), B);
    let sum = 0, ref = 0;
    for (let b = 0; b < B; b++) {
      const bits = sequenceOf(batch, b);
      sum += optimalNgramBits(bits, N);
      ref += referenceCost(bits, N);
    }
    assert.ok(Math.abs(batch.optimalBits! - sum) < 1e-9, `seed ${seed}: ${batch.optimalBits} vs ${sum}`);
    assert.ok(Math.abs(batch.optimalBits! - ref) < 1e-9, `seed ${seed}: ${batch.optimalBits} vs reference ${ref}`);
  }
});

test('dynamic-ngrams: on long sequences the optimal cost per bit approaches the table\'s entropy from above', () => {
  const n = 3, table = [0.1, 0.8, 0.5, 0.97];
  // the entropy rate: the chain of contexts c → (2c + b) mod 4, its stationary distribution by power iteration
  let pi = [0.25, 0.25, 0.25, 0.25];
  for (let i = 0; i < 2000; i++) {
    const next = [0, 0, 0, 0];
    for (let c = 0; c < 4; c++) {
      next[(2 * c) % 4]! += pi[c]! * (1 - table[c]!);
      next[(2 * c + 1) % 4]! += pi[c]! * table[c]!;
    }
    pi = next;
  }
  const h = (p: number): number => -p * Math.log2(p) - (1 - p) * Math.log2(1 - p);
  const H = pi.reduce((a, w, c) => a + w * h(table[c]!), 0);
  const rng = new Rng(10);
  /** mean over `runs` sequences of L bits: the predictor's cost per bit, and its excess over the true table's */
  const perBit = (Lb: number, runs: number): { cost: number; excess: number } => {
    let cost = 0, excess = 0;
    for (let i = 0; i < runs; i++) {
      const bits = drawNgramBits(rng, table, n, Lb);
      const opt = optimalNgramBits(bits, n);
      let oracle = 0;
      for (let t = n - 1; t < bits.length; t++) {
        const p = table[2 * bits[t - 2]! + bits[t - 1]!]!;
        oracle -= Math.log2(bits[t] === 1 ? p : 1 - p);
      }
      cost += opt / Lb / runs;
      excess += (opt - oracle) / Lb / runs;
    }
    return { cost, excess };
  };
  const short = perBit(100, 400), middle = perBit(1000, 40), long = perBit(20_000, 4);
  assert.ok(short.cost > H + 0.03, `100 bits: ${short.cost} per bit, entropy ${H}`);
  assert.ok(Math.abs(long.cost - H) < 0.01, `20,000 bits: ${long.cost} per bit, entropy ${H}`);
  // what it pays for learning the table: positive, and shrinking per bit
  assert.ok(short.excess > middle.excess && middle.excess > long.excess && long.excess > 0, `excess per bit ${short.excess}, ${middle.excess}, ${long.excess}`);
  assert.ok(long.excess < 0.003, `20,000 bits: excess ${long.excess} per bit`);
});

test('dynamic-ngrams: the same seed gives the same batch; another seed a different one', () => {
  const a = task.sample(new Rng(42), B), b = task.sample(new Rng(42), B), c = task.sample(new Rng(43), B);
  assert.deepEqual(a, b);
  assert.notDeepEqual(Array.from(a.input), Array.from(c.input));
});

test('dynamic-ngrams: the length argument forces L (the scratch grows for a longer one); a length below 1 is refused', () => {
  for (const Lf of [1, 5, 40]) {
    const batch = task.sample(new Rng(9), B, { length: Lf });
    assert.equal(batch.T, Lf + N - 2);
    assert.deepEqual(batch.lengths, new Array(B).fill(Lf));
    assert.equal(batch.mask.reduce((a, m) => a + m, 0), B * Lf);
    let ref = 0;
    for (let b = 0; b < B; b++) ref += referenceCost(sequenceOf(batch, b), N);
    assert.ok(Math.abs(batch.optimalBits! - ref) < 1e-9);
  }
  assert.throws(() => task.sample(new Rng(9), B, { length: 0 }), /dynamic-ngrams: a sample predicts at least 1 bit, not 0/);
});
