import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentWeights } from './content.js';
import { weightedSum } from '../tensor/ops.js';
import { probeWeights, randomParam } from '../tensor/gradcheck.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { assertAllClose, assertFinite, assertGradcheck } from '../tensor/testing.js';

// Distinct sizes so a swapped axis fails: B=2, N=7, W=5.
const B = 2, N = 7, W = 5;

/** Naive loop straight from the formula. */
function naive(M: ArrayLike<number>, k: ArrayLike<number>, beta: ArrayLike<number>): number[] {
  const eps = 1e-6;
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    const z: number[] = [];
    for (let i = 0; i < N; i++) {
      let dot = 0, kk = 0, mm = 0;
      for (let j = 0; j < W; j++) {
        const m = M[(b * N + i) * W + j]!, kv = k[b * W + j]!;
        dot += kv * m; kk += kv * kv; mm += m * m;
      }
      z.push(beta[b]! * (dot / (Math.sqrt((kk + eps) * (mm + eps)) + eps)));
    }
    const mx = Math.max(...z);
    const e = z.map((v) => Math.exp(v - mx));
    const s = e.reduce((a, c) => a + c, 0);
    out.push(...e.map((v) => v / s));
  }
  return out;
}

test('contentWeights: shape, naive reference, rows sum to 1', () => {
  const rng = new Rng(1);
  const M = randomParam([B, N, W], rng), k = randomParam([B, W], rng), beta = randomParam([B, 1], rng, 2);
  const w = contentWeights(M, k, beta);
  assert.deepEqual(w.shape, [B, N]);
  assertAllClose(w.data, naive(M.data, k.data, beta.data), 1e-12, 1e-10);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let i = 0; i < N; i++) { assert.ok(w.data[b * N + i]! >= 0); s += w.data[b * N + i]!; }
    assert.ok(Math.abs(s - 1) < 1e-12);
  }
});

test('contentWeights: finite-difference gradients for memory, key and strength', () => {
  const rng = new Rng(2);
  const M = randomParam([B, N, W], rng), k = randomParam([B, W], rng), beta = randomParam([B, 1], rng, 2);
  const c = probeWeights(B * N, rng);
  assertGradcheck(() => weightedSum(contentWeights(M, k, beta), c), [M, k, beta]);
});

test('contentWeights: all-zero memory and key give uniform weights, no NaN, finite gradients', () => {
  const M = Tensor.zeros([B, N, W], 'f64', true), k = Tensor.zeros([B, W], 'f64', true);
  const beta = Tensor.full([B, 1], 5, 'f64');
  const w = contentWeights(M, k, beta);
  assertAllClose(w.data, new Array(B * N).fill(1 / N), 1e-12);
  assertGradcheck(() => weightedSum(contentWeights(M, k, beta), probeWeights(B * N, new Rng(3))), [M, k]);
  assertFinite(M.grad!, 'memory gradient');
});

test('contentWeights: rejects a key of the wrong width, naming both shapes', () => {
  const M = Tensor.zeros([B, N, W]), k = Tensor.zeros([B, W + 1]), beta = Tensor.zeros([B, 1]);
  assert.throws(() => contentWeights(M, k, beta), /contentWeights: key has shape \[2, 6\], expected \[2, 5\]/);
});
