import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bceWithLogits, lossScale, maskedBceLoss, maskedBitErrors, MetricsAccumulator } from './loss.js';
import type { Batch } from '../tasks/batch.js';
import { createTask } from '../tasks/registry.js';
import { DEFAULTS } from '../config/schema.js';
import { randomParam } from '../tensor/gradcheck.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { onTape, Tape } from '../tensor/tape.js';
import { assertAllClose, assertFinite, assertGradcheck } from '../tensor/testing.js';

// Distinct sizes so a swapped axis fails: T=3, B=2, Y=4.
const T = 3, B = 2, Y = 4;

/** A batch with random 0/1 targets and the given mask [T, B]; input is not used by the loss. */
function makeBatch(mask: number[], rng: Rng): Batch {
  const target = new Float32Array(T * B * Y);
  for (let k = 0; k < target.length; k++) target[k] = rng.bit();
  return {
    T, B, X: 1, Y, input: new Float32Array(T * B), target, mask: Float32Array.from(mask),
    lengths: [1, 1], repeats: [1, 1],
  };
}

const MASK = [0, 1, 1, 1, 1, 0]; // [T, B]: t=0 b=1, t=1 both, t=2 b=0

/** The reference scale: Σ mask·BCE / (T·B·Y) / B with BCE = −y ln σ(z) − (1 − y) ln(1 − σ(z)). */
function naiveLoss(logits: Tensor[], batch: Batch): number {
  let s = 0;
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < Y; j++) {
        const z = logits[t]!.data[b * Y + j]!, y = batch.target[(t * B + b) * Y + j]!;
        const p = 1 / (1 + Math.exp(-z));
        s += batch.mask[t * B + b]! * -(y * Math.log(p) + (1 - y) * Math.log(1 - p));
      }
    }
  }
  return s / (T * B * Y) / B;
}

test('bceWithLogits: equals −y ln σ(z) − (1−y) ln(1−σ(z)) for moderate z, finite at ±1e3', () => {
  for (const z of [-7, -1.5, -0.1, 0, 0.3, 2, 9]) {
    for (const y of [0, 1]) {
      const p = 1 / (1 + Math.exp(-z));
      const ref = -(y * Math.log(p) + (1 - y) * Math.log(1 - p));
      assert.ok(Math.abs(bceWithLogits(z, y) - ref) < 1e-12, `z=${z} y=${y}`);
    }
  }
  assert.equal(bceWithLogits(1000, 0), 1000);
  assert.equal(bceWithLogits(-1000, 1), 1000);
  assert.equal(bceWithLogits(1000, 1), 0);
  assert.equal(bceWithLogits(-1000, 0), 0);
});

test('maskedBceLoss: value against the naive formula; shape [1]', () => {
  const rng = new Rng(1);
  const batch = makeBatch(MASK, rng);
  const logits = [0, 1, 2].map(() => randomParam([B, Y], rng, 2));
  const loss = maskedBceLoss(logits, batch);
  assert.deepEqual(loss.shape, [1]);
  assert.equal(lossScale(batch), T * B * Y * B);
  assert.ok(Math.abs(loss.data[0]! - naiveLoss(logits, batch)) < 1e-14, `${loss.data[0]} vs ${naiveLoss(logits, batch)}`);
  // masked-out cells do not count: changing their logits leaves the loss unchanged
  logits[0]!.data[0] = 100; // t=0, b=0 is masked
  logits[2]!.data[Y + 2] = -100; // t=2, b=1 is masked
  assert.ok(Math.abs(maskedBceLoss(logits, batch).data[0]! - loss.data[0]!) < 1e-15);
});

test('maskedBceLoss: finite-difference gradient for every step\'s logits', () => {
  const rng = new Rng(2);
  const batch = makeBatch(MASK, rng);
  const logits = [0, 1, 2].map(() => randomParam([B, Y], rng, 2));
  assertGradcheck(() => maskedBceLoss(logits, batch), logits, { atol: 1e-10 });
  // masked cells get exactly zero gradient
  for (let j = 0; j < Y; j++) {
    assert.equal(logits[0]!.grad![j], 0);
    assert.equal(logits[2]!.grad![Y + j], 0);
  }
});

test('maskedBceLoss: chance-level logits 0 give ln 2 · (scored cells) / (T·B·Y·B)', () => {
  const rng = new Rng(3);
  const batch = makeBatch(MASK, rng);
  const logits = [0, 1, 2].map(() => Tensor.zeros([B, Y], 'f64'));
  const scored = MASK.reduce((a, m) => a + m, 0) * Y; // 4 masked-in (t, b) pairs × Y bits
  const expected = (Math.LN2 * scored) / (T * B * Y * B);
  assert.ok(Math.abs(maskedBceLoss(logits, batch).data[0]! - expected) < 1e-15);
  assert.ok(Math.abs(expected - (Math.LN2 * 16) / 48) < 1e-15);
});

test('maskedBceLoss: chance level on the reference tasks is ≈ 0.0148 (copy) and ≈ 0.0156 (repeat-copy)', () => {
  const chance = (task: ReturnType<typeof createTask>, seed: number): number => {
    const rng = new Rng(seed);
    let sum = 0;
    const batches = 200;
    for (let i = 0; i < batches; i++) {
      const batch = task.sample(rng, 16);
      const zero = Array.from({ length: batch.T }, () => Tensor.zeros([16, batch.Y], 'f32'));
      sum += maskedBceLoss(zero, batch).data[0]!;
    }
    return sum / batches;
  };
  // copy: 8 bits, 5..10 words; repeat-copy: 4 bits, 1..2 words, 1..2 repeats, norm 10
  const copy = chance(createTask({ ...DEFAULTS.task, name: 'copy', bits: 8, minWords: 5, maxWords: 10 }), 4);
  const repeat = chance(createTask({ ...DEFAULTS.task, name: 'repeat-copy', bits: 4, minWords: 1, maxWords: 2, minRepeats: 1, maxRepeats: 2, repeatNorm: 10 }), 5);
  assert.ok(Math.abs(copy - 0.0148) < 3e-4, `copy chance loss ${copy}`);
  assert.ok(Math.abs(repeat - 0.0156) < 3e-4, `repeat-copy chance loss ${repeat}`);
  // one 10-word copy batch by hand: T = 22, 10 scored steps × 16 samples × 8 bits
  const batch = createTask({ ...DEFAULTS.task, name: 'copy', bits: 8, minWords: 10, maxWords: 10 }).sample(new Rng(6), 16);
  const zero = Array.from({ length: batch.T }, () => Tensor.zeros([16, 8], 'f32'));
  assert.ok(Math.abs(maskedBceLoss(zero, batch).data[0]! - (Math.LN2 * 10 * 16 * 8) / (22 * 16 * 8 * 16)) < 1e-7);
});

test('maskedBceLoss: logits ±50 stay finite in value and gradient', () => {
  const rng = new Rng(5);
  const batch = makeBatch([1, 1, 1, 1, 1, 1], rng);
  const logits = [0, 1, 2].map(() => {
    const z = Tensor.zeros([B, Y], 'f64', true);
    for (let k = 0; k < z.size; k++) z.data[k] = k % 2 === 0 ? 50 : -50;
    return z;
  });
  const tape = new Tape();
  const loss = onTape(tape, logits, () => maskedBceLoss(logits, batch));
  tape.backward(loss);
  assertFinite(loss.data);
  // every wrong cell costs 50, every right one ≈ e^−50
  let wrong = 0;
  for (let t = 0; t < T; t++) for (let k = 0; k < B * Y; k++) if ((logits[t]!.data[k]! > 0 ? 1 : 0) !== batch.target[t * B * Y + k]) wrong++;
  assert.ok(Math.abs(loss.data[0]! - (50 * wrong) / lossScale(batch)) < 1e-12);
  for (const z of logits) {
    assertFinite(z.grad!);
    for (const g of z.grad!) assert.ok(Math.abs(g) <= 1 / lossScale(batch) + 1e-18);
  }
});

test('maskedBceLoss: rejects the wrong number of steps or a logits shape, naming both', () => {
  const batch = makeBatch(MASK, new Rng(6));
  assert.throws(() => maskedBceLoss([Tensor.zeros([B, Y])], batch), /maskedBceLoss: 1 output steps for a batch of T=3/);
  const bad = [Tensor.zeros([B, Y]), Tensor.zeros([Y, B]), Tensor.zeros([B, Y])];
  assert.throws(() => maskedBceLoss(bad, batch), /maskedBceLoss: logits has shape \[4, 2\], expected \[2, 4\]/);
});

test('MetricsAccumulator: bit errors, bits per sequence and loss on a hand-made example', () => {
  // T=3, B=2, Y=4; mask MASK; targets and logits chosen by hand
  const target = Float32Array.from([
    /* t0 b0 */ 1, 1, 1, 1, /* t0 b1 */ 0, 1, 0, 1,
    /* t1 b0 */ 1, 0, 0, 0, /* t1 b1 */ 1, 1, 0, 0,
    /* t2 b0 */ 0, 0, 1, 1, /* t2 b1 */ 1, 1, 1, 1,
  ]);
  const batch: Batch = { T, B, X: 1, Y, input: new Float32Array(T * B), target, mask: Float32Array.from(MASK), lengths: [1, 1], repeats: [1, 1] };
  const logits = [
    Float64Array.from([-3, -3, -3, -3, /* b1: 1 wrong (bit 2) */ -2, 2, 2, 2]), // t0 b0 masked: its 4 errors do not count
    Float64Array.from([/* b0: 0 wrong */ 1, -1, -1, -1, /* b1: 2 wrong */ -1, 1, 1, -1]),
    Float64Array.from([/* b0: 4 wrong */ 4, 4, -4, -4, /* b1 masked */ -9, -9, -9, -9]),
  ];
  // by hand: errors at (t0,b1): 1; (t1,b0): 0; (t1,b1): 2; (t2,b0): 4 — 7 in all over B=2 sequences
  assert.equal(maskedBitErrors(logits[0]!, batch, 0), 1);
  assert.equal(maskedBitErrors(logits[1]!, batch, 1), 2);
  assert.equal(maskedBitErrors(logits[2]!, batch, 2), 4);

  const softplus = (v: number): number => Math.log(1 + Math.exp(v));
  // BCE of a right bit with |z| is softplus(−|z|), of a wrong one softplus(|z|)
  const bce = (softplus(-2) + softplus(2) + 2 * softplus(-2)) // t0 b1
    + 4 * softplus(-1) // t1 b0
    + 2 * softplus(1) + 2 * softplus(-1) // t1 b1
    + 4 * softplus(4); // t2 b0
  const acc = new MetricsAccumulator();
  acc.add(logits, batch);
  let m = acc.result();
  assert.equal(m.bitErrorsPerSeq, 7 / 2);
  assert.ok(Math.abs(m.bitsPerSeq - bce / Math.LN2 / 2) < 1e-12);
  assert.ok(Math.abs(m.loss - bce / (T * B * Y * B)) < 1e-15);

  // a second, perfect batch: per-batch average loss, per-sequence errors and bits
  const perfect = batch.target.map((y) => (y === 1 ? 30 : -30));
  const perfectLogits = [0, 1, 2].map((t) => Float64Array.from(perfect.subarray(t * B * Y, (t + 1) * B * Y)));
  acc.add(perfectLogits, batch);
  m = acc.result();
  assert.equal(m.bitErrorsPerSeq, 7 / 4);
  assert.ok(Math.abs(m.bitsPerSeq - bce / Math.LN2 / 4) < 1e-10);
  assert.ok(Math.abs(m.loss - bce / (T * B * Y * B) / 2) < 1e-12);
  assertAllClose([m.loss], [bce / 96], 1e-12); // T·B·Y·B = 48, averaged over 2 batches
});
