import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readMemory } from './read.js';
import { weightedSum } from '../tensor/ops.js';
import { probeWeights, randomParam } from '../tensor/gradcheck.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { onTape, Tape } from '../tensor/tape.js';
import { assertAllClose, assertFinite, assertGradcheck } from '../tensor/testing.js';

// Distinct sizes so a swapped axis fails: B=2, N=7, W=5.
const B = 2, N = 7, W = 5;

/** r[b, j] = Σ_i w[b, i] · M[b, i, j] */
function naive(M: ArrayLike<number>, w: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < W; j++) {
      let s = 0;
      for (let i = 0; i < N; i++) s += w[b * N + i]! * M[(b * N + i) * W + j]!;
      out.push(s);
    }
  }
  return out;
}

test('readMemory: shape and naive reference', () => {
  const rng = new Rng(1);
  const M = randomParam([B, N, W], rng), w = randomParam([B, N], rng);
  const r = readMemory(M, w);
  assert.deepEqual(r.shape, [B, W]);
  assertAllClose(r.data, naive(M.data, w.data), 1e-14, 1e-12);
});

test('readMemory: a one-hot weighting reads exactly that row; a convex weighting stays within the rows\' range', () => {
  const rng = new Rng(2);
  const M = randomParam([B, N, W], rng);
  const w = Tensor.zeros([B, N], 'f64');
  w.data[3] = 1; // batch 0 reads slot 3
  w.data[N + 6] = 1; // batch 1 reads slot 6
  const r = readMemory(M, w);
  assert.deepEqual(Array.from(r.data.subarray(0, W)), Array.from(M.data.subarray(3 * W, 4 * W)));
  assert.deepEqual(Array.from(r.data.subarray(W)), Array.from(M.data.subarray((N + 6) * W, (N + 7) * W)));

  const u = Tensor.full([B, N], 1 / N, 'f64');
  const avg = readMemory(M, u);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < W; j++) {
      let lo = Infinity, hi = -Infinity;
      for (let i = 0; i < N; i++) { const m = M.data[(b * N + i) * W + j]!; lo = Math.min(lo, m); hi = Math.max(hi, m); }
      const v = avg.data[b * W + j]!;
      assert.ok(v >= lo - 1e-15 && v <= hi + 1e-15);
    }
  }
});

test('readMemory: finite-difference gradients for memory and weights', () => {
  const rng = new Rng(3);
  const M = randomParam([B, N, W], rng), w = randomParam([B, N], rng);
  const c = probeWeights(B * W, rng);
  assertGradcheck(() => weightedSum(readMemory(M, w), c), [M, w]);
});

test('readMemory: zero weights read zeros, no NaN, finite gradients', () => {
  const M = randomParam([B, N, W], new Rng(4)), w = Tensor.zeros([B, N], 'f64', true);
  const r = readMemory(M, w);
  assert.deepEqual(Array.from(r.data), new Array(B * W).fill(0));
  assertGradcheck(() => weightedSum(readMemory(M, w), probeWeights(B * W, new Rng(5))), [M, w]);
  assertFinite(w.grad!);
});

test('readMemory: rejects weights of the wrong shape, naming both shapes', () => {
  assert.throws(() => readMemory(Tensor.zeros([B, N, W]), Tensor.zeros([B, W])), /readMemory: weights has shape \[2, 5\], expected \[2, 7\]/);
});

test('readMemory: float32 agrees with float64 (values and gradients), at W = 5 and a wider W = 20', () => {
  for (const [b, n, w] of [[B, N, W], [3, 16, 20]] as const) {
    const rng = new Rng(6);
    const M = randomParam([b, n, w], rng), wt = randomParam([b, n], rng);
    const c = probeWeights(b * w, rng);
    const M32 = Tensor.from(M.data, M.shape, 'f32', true), w32 = Tensor.from(wt.data, wt.shape, 'f32', true);
    const t64 = new Tape(), t32 = new Tape();
    const l64 = onTape(t64, [M, wt], () => weightedSum(readMemory(M, wt), c));
    const l32 = onTape(t32, [M32, w32], () => weightedSum(readMemory(M32, w32), c));
    t64.backward(l64);
    t32.backward(l32);
    assertAllClose(readMemory(M32, w32).data, readMemory(M, wt).data, 1e-5, 1e-5, `r (${b},${n},${w})`);
    assertAllClose(M32.grad!, M.grad!, 1e-5, 1e-5, `dM (${b},${n},${w})`);
    assertAllClose(w32.grad!, wt.grad!, 1e-5, 1e-5, `dw (${b},${n},${w})`);
  }
});
