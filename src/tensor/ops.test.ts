import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addScalars, clamp, firstRows, oneplus, sigmoid, sigmoidScalar, sliceCols, softmax, softplus, softplusScalar, tanh, weightedSum,
} from './ops.js';
import { probeWeights, randomParam } from './gradcheck.js';
import { Rng } from './random.js';
import { Tensor } from './tensor.js';
import { onTape, Tape } from './tape.js';
import { assertAllClose, assertFinite, assertGradcheck, gradOf } from './testing.js';

// Distinct sizes so a swapped axis fails: B=2, K=5.
const B = 2, K = 5;


const UNARY: [string, (x: Tensor) => Tensor, (v: number) => number][] = [
  ['sigmoid', sigmoid, (v) => 1 / (1 + Math.exp(-v))],
  ['tanh', tanh, (v) => (Math.exp(v) - Math.exp(-v)) / (Math.exp(v) + Math.exp(-v))],
  ['softplus', softplus, (v) => Math.log(1 + Math.exp(v))],
  ['oneplus', oneplus, (v) => 1 + Math.log(1 + Math.exp(v))],
];

for (const [name, op, naive] of UNARY) {
  test(`${name}: values against the naive formula, shape kept`, () => {
    const x = randomParam([B, K], new Rng(10), 3);
    const y = op(x);
    assert.deepEqual(y.shape, [B, K]);
    assert.equal(y.dtype, 'f64');
    assertAllClose(y.data, Array.from(x.data, naive), 1e-12, 1e-12);
  });

  test(`${name}: finite-difference gradient`, () => {
    const rng = new Rng(11);
    const x = randomParam([B, K], rng, 3);
    const c = probeWeights(B * K, rng);
    assertGradcheck(() => weightedSum(op(x), c), [x]);
  });

  test(`${name}: extreme inputs ±1e3 give finite values and gradients`, () => {
    const x = Tensor.from([-1000, -50, 0, 50, 1000], [1, 5], 'f64', true);
    assertFinite(op(x).data, `${name} values`);
    assertFinite(gradOf(op, x, [1, 1, 1, 1, 1]), `${name} gradient`);
  });
}

test('scalar helpers at extremes: sigmoid saturates to 0/1, softplus to 0 / identity', () => {
  assert.equal(sigmoidScalar(1000), 1);
  assert.equal(sigmoidScalar(-1000), 0);
  assert.equal(sigmoidScalar(0), 0.5);
  assert.equal(softplusScalar(1000), 1000);
  assert.equal(softplusScalar(-1000), 0);
  assert.ok(Math.abs(softplusScalar(0) - Math.LN2) < 1e-15);
  assert.ok(Math.abs(softplusScalar(40) - 40) < 1e-15);
});

test('oneplus is ≥ 1 everywhere, and exactly 1 + softplus', () => {
  const x = Tensor.from([-1000, -3, 0, 2, 1000], [5], 'f64');
  const y = oneplus(x), s = softplus(x);
  for (let i = 0; i < 5; i++) {
    assert.ok(y.data[i]! >= 1);
    assert.equal(y.data[i], 1 + s.data[i]!);
  }
});

test('clamp: values, gradient 1 inside [lo, hi] (boundaries included) and 0 outside', () => {
  const x = Tensor.from([-3, -2, -1.5, 0, 0.7, 1, 4], [1, 7], 'f64', true);
  const y = clamp(x, -2, 1);
  assert.deepEqual(Array.from(y.data), [-2, -2, -1.5, 0, 0.7, 1, 1]);
  const g = gradOf((t) => clamp(t, -2, 1), x, [1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(Array.from(g), [0, 2, 3, 4, 5, 6, 0]);
  // NaN stays NaN and −0 stays −0 (float32 and float64)
  for (const dtype of ['f32', 'f64'] as const) {
    const z = clamp(Tensor.from([NaN, -0, 0], [1, 3], dtype), -2, 1).data;
    assert.ok(Number.isNaN(z[0]) && Object.is(z[1], -0) && Object.is(z[2], 0), `${dtype}: ${Array.from(z).join(', ')}`);
  }
});

test('clamp: finite-difference gradient away from the kinks', () => {
  const x = Tensor.from([-5, -1.2, 0.3, 0.9, 3], [1, 5], 'f64', true);
  assertGradcheck(() => weightedSum(clamp(x, -2, 2), [0.5, -1, 2, 3, 1.5]), [x]);
});

/** Softmax over the last axis, straight from the definition. */
function naiveSoftmax(x: ArrayLike<number>, K: number): number[] {
  const out: number[] = [];
  for (let o = 0; o < x.length; o += K) {
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(x[o + k]!);
    for (let k = 0; k < K; k++) out.push(Math.exp(x[o + k]!) / s);
  }
  return out;
}

test('softmax: last axis of a 3-D tensor, naive reference, rows sum to 1', () => {
  const x = randomParam([B, 3, K], new Rng(12), 2);
  const y = softmax(x);
  assert.deepEqual(y.shape, [B, 3, K]);
  assertAllClose(y.data, naiveSoftmax(x.data, K), 1e-14, 1e-12);
  for (let r = 0; r < B * 3; r++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += y.data[r * K + k]!;
    assert.ok(Math.abs(s - 1) < 1e-14);
  }
});

test('softmax: finite-difference gradient', () => {
  const rng = new Rng(13);
  const x = randomParam([B, 3, K], rng, 2);
  const c = probeWeights(x.size, rng);
  assertGradcheck(() => weightedSum(softmax(x), c), [x]);
});

test('softmax: huge logits (±1e3) give a finite one-hot, no NaN, finite gradient', () => {
  const x = Tensor.from([1000, 0, -1000, 999, 1000, 1000], [2, 3], 'f64', true);
  const y = softmax(x);
  assertAllClose(y.data, [1, 0, 0, 1 / (1 + 2 * Math.E), Math.E / (1 + 2 * Math.E), Math.E / (1 + 2 * Math.E)], 1e-15, 1e-12);
  assertFinite(gradOf(softmax, x, [1, 2, 3, 4, 5, 6]), 'softmax gradient');
});

test('sliceCols: values and gradient (zero outside the slice)', () => {
  const x = Tensor.from([0, 1, 2, 3, 4, 10, 11, 12, 13, 14], [B, K], 'f64', true);
  const y = sliceCols(x, 1, 3);
  assert.deepEqual(y.shape, [B, 3]);
  assert.deepEqual(Array.from(y.data), [1, 2, 3, 11, 12, 13]);
  const g = gradOf((t) => sliceCols(t, 1, 3), x, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(g), [0, 1, 2, 3, 0, 0, 4, 5, 6, 0]);
  const r = randomParam([B, K], new Rng(16));
  assertGradcheck(() => weightedSum(sliceCols(r, 2, 3), [1, -2, 0.5, 3, 1, -1]), [r]);
});

test('firstRows: a view of the first rows (the same buffer), whose gradient lands in the input\'s first rows', () => {
  const x = Tensor.from([...Array(3 * 2 * 2).keys()], [3, 2, 2], 'f64', true);
  const y = firstRows(x, 2);
  assert.deepEqual(y.shape, [2, 2, 2]);
  assert.deepEqual(Array.from(y.data), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(y.data.buffer, x.data.buffer);
  assert.equal(firstRows(x, 3), x, 'all rows: the tensor itself');
  // against the naive reference, a copy of those rows: its gradient is c on them and 0 on the last
  const c = [1, -2, 3, -4, 5, -6, 7, -8];
  assert.deepEqual(Array.from(gradOf((t) => firstRows(t, 2), x, c)), [...c, 0, 0, 0, 0]);
  // the input used whole and through the view: both gradients add up
  const r = randomParam([3, 4], new Rng(17));
  const cAll = probeWeights(12, new Rng(18)), cFirst = probeWeights(4, new Rng(19));
  assertGradcheck(() => addScalars([weightedSum(tanh(r), cAll), weightedSum(sigmoid(firstRows(tanh(r), 1)), cFirst)]), [r]);
  // no tape: no gradient made
  const plain = Tensor.from([1, 2, 3, 4], [2, 2]);
  assert.equal(firstRows(plain, 1).grad, null);
  assert.equal(plain.grad, null);
});

test('firstRows: rejects a row count outside 1..B, naming it and the shape', () => {
  for (const n of [0, 4, 1.5, -1]) {
    assert.throws(() => firstRows(Tensor.zeros([3, 2]), n), new RegExp(`firstRows: cannot take the first ${n} rows of shape \\[3, 2\\]`));
  }
});

test('sliceCols: rejects columns out of range, naming the range and shape', () => {
  assert.throws(() => sliceCols(Tensor.zeros([B, K]), 3, 3), /sliceCols: cannot take columns \[3, 6\) of shape \[2, 5\]/);
  assert.throws(() => sliceCols(Tensor.zeros([B, K]), -1, 2), /sliceCols: cannot take columns \[-1, 1\)/);
});

test('weightedSum: value, gradient and a length check', () => {
  const x = Tensor.from([1, -2, 3], [3], 'f64', true);
  const y = weightedSum(x, [2, 5, -1]);
  assert.deepEqual(y.shape, [1]);
  assert.equal(y.data[0], 2 - 10 - 3);
  assert.deepEqual(Array.from(gradOf((t) => t, x, [2, 5, -1])), [2, 5, -1]);
  assert.throws(() => weightedSum(x, [1, 2]), /weightedSum: 2 weights for 3 elements/);
});

test('addScalars: sum, gradient 1 to each requiring input, rejects a non-scalar', () => {
  const a = Tensor.from([1.5], [1], 'f64', true), b = Tensor.from([-4], [1], 'f64', false), c = Tensor.from([2], [1], 'f64', true);
  const tape = new Tape();
  const s = onTape(tape, [a, b, c], () => addScalars([a, b, c]));
  assert.equal(s.data[0], -0.5);
  tape.backward(s);
  assert.equal(a.grad![0], 1);
  assert.equal(c.grad![0], 1);
  assert.equal(b.grad, null);
  assert.throws(() => addScalars([a, Tensor.zeros([2])]), /addScalars: input has shape \[2\], expected \[1\]/);
});

test('ops keep the dtype: float32 in, float32 out', () => {
  const x = Tensor.from([0.1, 0.2, 0.3, 0.4], [2, 2], 'f32');
  for (const y of [sigmoid(x), tanh(x), softplus(x), oneplus(x), clamp(x, 0, 1), softmax(x), sliceCols(x, 0, 1), weightedSum(x, [1, 1, 1, 1])]) {
    assert.ok(y.data instanceof Float32Array);
  }
});
