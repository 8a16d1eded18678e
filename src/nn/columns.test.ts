import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oneplus, sigmoid, sliceCols, softmax, softplus, tanh, weightedSum } from '../tensor/ops.js';
import { probeWeights, randomParam } from '../tensor/gradcheck.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { onTape, Tape } from '../tensor/tape.js';
import { assertAllClose, assertFinite, assertGradcheck, gradOf } from '../tensor/testing.js';
import { concat, splitActivate } from './columns.js';

// a batch of 2 (other sizes differ from it, so a swapped axis fails)
const B = 2;


test('concat: values along the last axis, gradient to each input', () => {
  const rng = new Rng(14);
  const a = randomParam([B, 3], rng), b = randomParam([B, 1], rng), c = randomParam([B, 4], rng);
  const y = concat([a, b, c]);
  assert.deepEqual(y.shape, [B, 8]);
  const expected: number[] = [];
  for (let r = 0; r < B; r++) {
    for (const t of [a, b, c]) {
      const k = t.shape[1]!;
      for (let j = 0; j < k; j++) expected.push(t.data[r * k + j]!);
    }
  }
  assert.deepEqual(Array.from(y.data), expected);
  const probe = probeWeights(B * 8, new Rng(15));
  assertGradcheck(() => weightedSum(concat([a, b, c]), probe), [a, b, c]);
});

test('concat: an input that needs no gradient gets none, the others still do', () => {
  const a = Tensor.from([1, 2, 3, 4], [2, 2], 'f64', true);
  const b = Tensor.from([5, 6], [2, 1], 'f64', false);
  const tape = new Tape();
  const loss = onTape(tape, [a, b], () => weightedSum(concat([b, a]), [1, 2, 3, 4, 5, 6]));
  tape.backward(loss);
  assert.equal(b.grad, null);
  assert.deepEqual(Array.from(a.grad!), [2, 3, 5, 6]);
});

test('concat: rejects a mismatched batch or a non-2-D input, naming the shape', () => {
  assert.throws(() => concat([Tensor.zeros([2, 3]), Tensor.zeros([3, 3])]), /concat: every input must be \[2, K\], got \[3, 3\]/);
  assert.throws(() => concat([Tensor.zeros([2, 3]), Tensor.zeros([2, 3, 1])]), /concat: every input must be \[2, K\], got \[2, 3, 1\]/);
});


test('concat and splitActivate keep the dtype: float32 in, float32 out', () => {
  const x = Tensor.from([0.1, 0.2, 0.3, 0.4], [2, 2], 'f32');
  assert.ok(concat([x, x]).data instanceof Float32Array);
  for (const y of splitActivate(x, [{ size: 1, activation: 'tanh' }, { size: 1, activation: 'sigmoid' }])) assert.ok(y.data instanceof Float32Array);
});

const PARTS = [
  { size: 3, activation: 'tanh' }, { size: 1, activation: 'softplus' }, { size: 2, activation: 'sigmoid' },
  { size: 3, activation: 'softmax' }, { size: 1, activation: 'oneplus' }, { size: 2, activation: 'identity' },
] as const;
const ACT: Record<(typeof PARTS)[number]['activation'], (x: Tensor) => Tensor> = {
  tanh, softplus, sigmoid, softmax, oneplus, identity: (x) => x,
};

test('splitActivate: each part equals sliceCols then its activation, values and gradients', () => {
  const rng = new Rng(21);
  const x = randomParam([3, 12], rng, 2);
  const c = probeWeights(3 * 12, rng);
  const fused = (t: Tensor): Tensor => concat(splitActivate(t, PARTS));
  let off = 0;
  const offsets = PARTS.map((p) => (off += p.size) - p.size);
  const naive = (t: Tensor): Tensor => concat(PARTS.map((p, i) => ACT[p.activation](sliceCols(t, offsets[i]!, p.size))));
  assertAllClose(fused(x).data, naive(x).data, 1e-14, 1e-14);
  assertAllClose(gradOf(fused, x, c), gradOf(naive, x, c), 1e-14, 1e-14);
  const parts = splitActivate(x, PARTS);
  assert.deepEqual(parts.map((p) => p.shape), PARTS.map((p) => [3, p.size]));
  // softmax rows sum to 1; the other parts are in their ranges
  for (let b = 0; b < 3; b++) assert.ok(Math.abs(parts[3]!.data[b * 3]! + parts[3]!.data[b * 3 + 1]! + parts[3]!.data[b * 3 + 2]! - 1) < 1e-12);
  assert.ok(Array.from(parts[4]!.data).every((v) => v >= 1));
});

test('splitActivate: finite-difference gradient, a part without a gradient, extreme inputs, a bad split', () => {
  const rng = new Rng(22);
  const x = randomParam([2, 12], rng, 3);
  const c = probeWeights(2 * 12, rng);
  assertGradcheck(() => weightedSum(concat(splitActivate(x, PARTS)), c), [x]);
  // only one part used: the others contribute nothing
  const only = (t: Tensor): Tensor => splitActivate(t, PARTS)[3]!;
  const g = gradOf(only, x, probeWeights(2 * 3, rng));
  for (let b = 0; b < 2; b++) for (let j = 0; j < 12; j++) if (j < 6 || j >= 9) assert.equal(g[b * 12 + j], 0);
  const big = Tensor.from(Array.from({ length: 12 }, (_, j) => (j % 2 ? 1000 : -1000)), [1, 12], 'f64', true);
  assertFinite(concat(splitActivate(big, PARTS)).data);
  assertFinite(gradOf((t) => concat(splitActivate(t, PARTS)), big, new Array(12).fill(1)));
  assert.throws(() => splitActivate(x, PARTS.slice(1)), /splitActivate: parts of 9 columns in all do not split shape \[2, 12\]/);
});
