import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interpolate } from './interpolate.js';
import { softmax, weightedSum } from '../tensor/ops.js';
import { probeWeights, randomParam } from '../tensor/gradcheck.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { assertAllClose, assertFinite, assertGradcheck } from '../tensor/testing.js';

// Distinct sizes so a swapped axis fails: B=2, N=7.
const B = 2, N = 7;

/** w_g[b, i] = g[b]·w_c[b, i] + (1 − g[b])·w_prev[b, i] */
function naive(wc: ArrayLike<number>, wp: ArrayLike<number>, g: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++) for (let i = 0; i < N; i++) out.push(g[b]! * wc[b * N + i]! + (1 - g[b]!) * wp[b * N + i]!);
  return out;
}

/** A [B, N] float64 weighting (rows ≥ 0, summing to 1). */
function weighting(rng: Rng): Tensor {
  const w = softmax(randomParam([B, N], rng, 2));
  return new Tensor(w.data, w.shape, true);
}

test('interpolate: shape, naive reference, rows stay distributions', () => {
  const rng = new Rng(1);
  const wc = weighting(rng), wp = weighting(rng);
  const g = Tensor.from([0.3, 0.85], [B, 1], 'f64', true);
  const y = interpolate(wc, wp, g);
  assert.deepEqual(y.shape, [B, N]);
  assertAllClose(y.data, naive(wc.data, wp.data, g.data), 1e-15, 1e-14);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let i = 0; i < N; i++) { assert.ok(y.data[b * N + i]! >= 0); s += y.data[b * N + i]!; }
    assert.ok(Math.abs(s - 1) < 1e-14);
  }
});

test('interpolate: gate 1 gives the content weights, gate 0 the previous weights, per batch row', () => {
  const rng = new Rng(2);
  const wc = weighting(rng), wp = weighting(rng);
  const y = interpolate(wc, wp, Tensor.from([1, 0], [B, 1], 'f64'));
  assert.deepEqual(Array.from(y.data.subarray(0, N)), Array.from(wc.data.subarray(0, N)));
  assert.deepEqual(Array.from(y.data.subarray(N)), Array.from(wp.data.subarray(N)));
});

test('interpolate: finite-difference gradients for content, previous and gate', () => {
  const rng = new Rng(3);
  const wc = randomParam([B, N], rng), wp = randomParam([B, N], rng), g = randomParam([B, 1], rng);
  const c = probeWeights(B * N, rng);
  assertGradcheck(() => weightedSum(interpolate(wc, wp, g), c), [wc, wp, g]);
});

test('interpolate: degenerate all-zero weightings give zeros and finite gradients', () => {
  const wc = Tensor.zeros([B, N], 'f64', true), wp = Tensor.zeros([B, N], 'f64', true);
  const g = Tensor.from([0, 1], [B, 1], 'f64', true);
  assert.deepEqual(Array.from(interpolate(wc, wp, g).data), new Array(B * N).fill(0));
  assertGradcheck(() => weightedSum(interpolate(wc, wp, g), probeWeights(B * N, new Rng(4))), [wc, wp, g]);
  assertFinite(g.grad!, 'gate gradient');
});

test('interpolate: rejects previous weights or a gate of the wrong shape, naming both shapes', () => {
  const wc = Tensor.zeros([B, N]);
  assert.throws(() => interpolate(wc, Tensor.zeros([B, N + 1]), Tensor.zeros([B, 1])), /interpolate: previous weights has shape \[2, 8\], expected \[2, 7\]/);
  assert.throws(() => interpolate(wc, Tensor.zeros([B, N]), Tensor.zeros([1, B])), /interpolate: gate has shape \[1, 2\], expected \[2, 1\]/);
});
