import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeWeighting } from './write-weighting.js';
import { weightedSum } from '../tensor/ops.js';
import { probeWeights } from '../tensor/gradcheck.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { assertAllClose, assertGradcheck } from '../tensor/testing.js';

// Distinct sizes so a swapped axis fails: B=2, N=7.
const B = 2, N = 7;

function uniform(shape: number[], rng: Rng): Tensor {
  const t = Tensor.zeros(shape, 'f64', true);
  for (let i = 0; i < t.size; i++) t.data[i] = rng.uniform();
  return t;
}

test('writeWeighting: shape and naive reference; g_w = 0 writes nothing, g_a picks a or c', () => {
  const rng = new Rng(1);
  const a = uniform([B, N], rng), c = uniform([B, N], rng), ga = uniform([B, 1], rng), gw = uniform([B, 1], rng);
  const w = writeWeighting(a, c, ga, gw);
  assert.deepEqual(w.shape, [B, N]);
  const expected = Array.from(a.data, (av, x) => {
    const b = Math.floor(x / N);
    return gw.data[b]! * (ga.data[b]! * av + (1 - ga.data[b]!) * c.data[x]!);
  });
  assertAllClose(w.data, expected, 1e-15, 1e-12);
  const g = (v0: number, v1: number): Tensor => Tensor.from([v0, v1], [B, 1], 'f64');
  assert.ok(writeWeighting(a, c, ga, g(0, 0)).data.every((v) => v === 0));
  const pick = writeWeighting(a, c, g(1, 0), g(1, 1));
  assertAllClose(pick.data.subarray(0, N), a.data.subarray(0, N), 0, 0, 'allocation row');
  assertAllClose(pick.data.subarray(N), c.data.subarray(N), 0, 0, 'content row');
});

test('writeWeighting: finite-difference gradients for all four inputs', () => {
  const rng = new Rng(2);
  const a = uniform([B, N], rng), c = uniform([B, N], rng), ga = uniform([B, 1], rng), gw = uniform([B, 1], rng);
  const p = probeWeights(B * N, rng);
  assertGradcheck(() => weightedSum(writeWeighting(a, c, ga, gw), p), [a, c, ga, gw]);
});

test('writeWeighting: rejects gates per slot, naming both shapes', () => {
  const x = Tensor.zeros([B, N]);
  assert.throws(() => writeWeighting(x, x, x, x), /writeWeighting: allocation gate has shape \[2, 7\], expected \[2, 1\]/);
});
