import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sharpen, WEIGHT_FLOOR } from './sharpen.js';
import { softmax, weightedSum } from '../tensor/ops.js';
import { probeWeights, randomParam } from '../tensor/gradcheck.js';
import { Rng } from '../tensor/random.js';
import { Tensor, type DType } from '../tensor/tensor.js';
import { onTape, Tape } from '../tensor/tape.js';
import { assertAllClose, assertFinite, assertGradcheck } from '../tensor/testing.js';

// Distinct sizes so a swapped axis fails: B=2, N=7.
const B = 2, N = 7;

/** w[b, i] = w~[b, i]^γ_b / Σ_k w~[b, k]^γ_b, in float64 as written (rows of n) */
function naive(x: ArrayLike<number>, g: ArrayLike<number>, n = N): number[] {
  const out: number[] = [];
  for (let b = 0; b < g.length; b++) {
    const p: number[] = [];
    for (let i = 0; i < n; i++) p.push(x[b * n + i]! ** g[b]!);
    const s = p.reduce((a, c) => a + c, 0);
    out.push(...p.map((v) => v / s));
  }
  return out;
}

/** Σ_i w[b, i] for each row b of n */
function rowSums(w: ArrayLike<number>, n: number): number[] {
  const sums: number[] = [];
  for (let o = 0; o < w.length; o += n) {
    let s = 0;
    for (let i = 0; i < n; i++) s += w[o + i]!;
    sums.push(s);
  }
  return sums;
}

/** A positive [B, N] weighting that requires gradients. */
function weighting(rng: Rng): Tensor {
  const w = softmax(randomParam([B, N], rng, 1.5));
  return new Tensor(w.data, w.shape, true);
}

/** A float64 tensor filled with `v` that requires gradients. */
function param(shape: number[], v: number): Tensor {
  const t = Tensor.zeros(shape, 'f64', true);
  t.data.fill(v);
  return t;
}

function grads(x: Tensor, gamma: Tensor, c: ArrayLike<number>): void {
  x.grad = null; gamma.grad = null;
  const tape = new Tape();
  tape.backward(onTape(tape, [x, gamma], () => weightedSum(sharpen(x, gamma), c)));
}

test('sharpen: shape, naive reference, rows ≥ 0 summing to 1', () => {
  const rng = new Rng(1);
  const x = weighting(rng), gamma = Tensor.from([1.7, 4.2], [B, 1], 'f64', true);
  const y = sharpen(x, gamma);
  assert.deepEqual(y.shape, [B, N]);
  assertAllClose(y.data, naive(x.data, gamma.data), 1e-15, 1e-12);
  for (const v of y.data) assert.ok(v >= 0);
  for (const s of rowSums(y.data, N)) assert.ok(Math.abs(s - 1) < 1e-12, `row sum ${s}`);
});

test('sharpen: a blurred w~ and a large γ still give weights summing to 1 (N=128, γ = 20 and 50), as the naive formula', () => {
  // row 0 uniform (1/128 each), row 1 near-uniform: every w~^γ is below 1e-40, far below any
  // ε a denominator might add, so only an exact normalisation keeps the rows' sums at 1
  const n = 128, rng = new Rng(12);
  const blurred = softmax(randomParam([1, n], rng, 0.05)).data;
  const x64 = Tensor.from([...new Array<number>(n).fill(1 / n), ...blurred], [2, n], 'f64');
  for (const gv of [20, 50]) {
    const ref = naive(x64.data, [gv, gv], n);
    for (const [dt, tol] of [['f64', 1e-12], ['f32', 1e-6]] as [DType, number][]) {
      const x = Tensor.from(x64.data, [2, n], dt), gamma = Tensor.full([2, 1], gv, dt);
      const y = sharpen(x, gamma);
      for (const s of rowSums(y.data, n)) assert.ok(Math.abs(s - 1) < tol, `${dt} γ=${gv}: row sum ${s}`);
      // (float32: against the naive formula on the float32 w~, p and w rounded to float32)
      if (dt === 'f64') assertAllClose(y.data, ref, 1e-15, 1e-12, `γ=${gv}`);
      else assertAllClose(y.data, naive(x.data, [gv, gv], n), 1e-9, 1e-5, `f32 γ=${gv}`);
      for (let i = 0; i < n; i++) assert.equal(y.data[i], dt === 'f64' ? 1 / n : Math.fround(1 / n), 'the uniform row stays uniform');
    }
  }
});

test('sharpen: a larger γ concentrates the weighting on the same argmax; γ = 1 only renormalises', () => {
  const rng = new Rng(2);
  const x = weighting(rng);
  const argmax = (d: ArrayLike<number>, b: number): number => {
    let k = 0;
    for (let i = 1; i < N; i++) if (d[b * N + i]! > d[b * N + k]!) k = i;
    return k;
  };
  const soft = sharpen(x, Tensor.full([B, 1], 2, 'f64')), hard = sharpen(x, Tensor.full([B, 1], 5, 'f64'));
  for (let b = 0; b < B; b++) {
    const k = argmax(x.data, b);
    assert.equal(argmax(soft.data, b), k);
    assert.equal(argmax(hard.data, b), k);
    assert.ok(hard.data[b * N + k]! > soft.data[b * N + k]!);
    assert.ok(soft.data[b * N + k]! > x.data[b * N + k]!);
  }
  const same = sharpen(x, Tensor.full([B, 1], 1, 'f64'));
  const sums = rowSums(x.data, N);
  assertAllClose(same.data, Array.from(x.data, (v, i) => v / sums[Math.floor(i / N)]!), 1e-16, 1e-12);
});

test('sharpen: finite-difference gradients for weights and γ', () => {
  const rng = new Rng(3);
  const x = weighting(rng), gamma = Tensor.from([1.3, 3.1], [B, 1], 'f64', true);
  const c = probeWeights(B * N, rng);
  assertGradcheck(() => weightedSum(sharpen(x, gamma), c), [x, gamma]);
  // blurred w~ (entries within ±10% of each other) and a large γ: every w~^γ below 1e-16
  const w = softmax(randomParam([B, N], rng, 0.05));
  const blurred = new Tensor(w.data, w.shape, true), steep = Tensor.from([20, 50], [B, 1], 'f64', true);
  assertGradcheck(() => weightedSum(sharpen(blurred, steep), c), [blurred, steep]);
});

test('sharpen: γ gradient against the closed form Σ_i c_i · w_i · (ln w~_i − Σ_k w_k ln w~_k)', () => {
  const rng = new Rng(4);
  const x = weighting(rng), gamma = Tensor.from([2.5, 1.5], [B, 1], 'f64', true);
  const c = probeWeights(B * N, rng);
  grads(x, gamma, c);
  const y = sharpen(x, gamma).data;
  for (let b = 0; b < B; b++) {
    // p_i = w~_i^γ, S = Σ p, y_i = p_i / S: the quotient rule gives
    // dy_i/dγ = p_i ln w~_i / S − p_i Σ_k p_k ln w~_k / S² = y_i (ln w~_i − Σ_k y_k ln w~_k)
    let mean = 0;
    for (let k = 0; k < N; k++) mean += y[b * N + k]! * Math.log(x.data[b * N + k]!);
    let expected = 0;
    for (let i = 0; i < N; i++) expected += c[b * N + i]! * y[b * N + i]! * (Math.log(x.data[b * N + i]!) - mean);
    assert.ok(Math.abs(gamma.grad![b]! - expected) < 1e-12, `dγ[${b}] = ${gamma.grad![b]}, expected ${expected}`);
  }
});

test('sharpen: exact zeros in the weights give no NaN in values or gradients', () => {
  const x = Tensor.from([0, 0.5, 0, 0.25, 0.25, 0, 0, 0, 0, 0, 1, 0, 0, 0], [B, N], 'f64', true);
  for (const gv of [1, 1.0001, 1.5, 3]) {
    const gamma = param([B, 1], gv);
    const y = sharpen(x, gamma);
    assertFinite(y.data, `values at γ=${gv}`);
    for (let i = 0; i < B * N; i++) if (x.data[i] === 0) assert.equal(y.data[i], 0);
    grads(x, gamma, probeWeights(B * N, new Rng(5)));
    assertFinite(x.grad!, `weight gradient at γ=${gv}`);
    assertFinite(gamma.grad!, `γ gradient at γ=${gv}`);
  }
  // γ's gradient is smooth at exact zeros (x^γ·ln x → 0); so is the weights' gradient for γ ≥ 2
  const gamma = Tensor.from([1.5, 2.5], [B, 1], 'f64', true);
  const c = probeWeights(B * N, new Rng(6));
  assertGradcheck(() => weightedSum(sharpen(x, gamma), c), [gamma]);
  const steep = Tensor.from([3, 2.5], [B, 1], 'f64', true);
  assertGradcheck(() => weightedSum(sharpen(x, steep), c), [x, steep]);
});

test('sharpen: an all-zero row (or one of round-off below 0) gives zeros with zero gradients, no 0/0; the other row is untouched', () => {
  for (const dt of ['f64', 'f32'] as DType[]) {
    for (const gv of [1, 2, 50]) {
      // row 0 all zero, row 1 a weighting; then row 0 of tiny negatives
      for (const z of [0, -1e-17]) {
        const x = Tensor.from([...new Array<number>(N).fill(z), 0.1, 0.2, 0.3, 0.4, 0, 0, 0], [B, N], dt, true);
        const gamma = Tensor.full([B, 1], gv, dt);
        const g = new Tensor(gamma.data, [B, 1], true);
        const y = sharpen(x, g);
        assert.deepEqual(Array.from(y.data.subarray(0, N)), new Array(N).fill(0), `${dt} γ=${gv} w~=${z}`);
        assertAllClose(y.data.subarray(N), naive(x.data.subarray(N), [gv]), dt === 'f64' ? 1e-15 : 1e-7, dt === 'f64' ? 1e-12 : 1e-5);
        grads(x, g, probeWeights(B * N, new Rng(7)));
        assert.deepEqual(Array.from(x.grad!.subarray(0, N)), new Array(N).fill(0), `${dt} γ=${gv}: weight gradient`);
        assert.equal(g.grad![0], 0, `${dt} γ=${gv}: γ gradient`);
        assertFinite(x.grad!);
        assertFinite(g.grad!);
      }
    }
  }
});

test('sharpen: w~ scaled by any c > 0 gives the same weights; equal tiny weights (1e-300, where w~^50 underflows to 0/0) give 1/N', () => {
  const rng = new Rng(8);
  const x = weighting(rng), gamma = Tensor.from([20, 50], [B, 1], 'f64', true);
  const y = sharpen(x, gamma);
  for (const c of [1e-3, 1e-30]) assertAllClose(sharpen(new Tensor(x.data.map((v) => c * v), [B, N]), gamma).data, y.data, 1e-15, 1e-12, `c=${c}`);
  const tiny = param([B, N], 1e-300), steep = param([B, 1], 50);
  assert.ok(naive(tiny.data, steep.data).every(Number.isNaN), 'the naive formula is 0/0 here');
  assertAllClose(sharpen(tiny, steep).data, new Array(B * N).fill(1 / N), 0, 1e-15);
  grads(tiny, steep, probeWeights(B * N, new Rng(9)));
  assertFinite(tiny.grad!);
  assertFinite(steep.grad!);
});

test('sharpen: a weight that sharpens below the floor (2^-64) is 0 and constant (no gradient); the others are the naive formula\'s', () => {
  // (1e-8)^3 = 1e-24: below the floor; 1e-5^3 = 1e-15: above it
  const x = Tensor.from([0.7, 1e-8, 0.3 - 1e-8, 0, 0, 0, 0, 0.5, 1e-5, 0.5 - 1e-5, 0, 0, 0, 0], [B, N], 'f64', true);
  const gamma = Tensor.from([3, 3], [B, 1], 'f64', true);
  const y = sharpen(x, gamma);
  const ref = naive(x.data, gamma.data);
  assert.ok(ref[1]! > 0 && ref[1]! < WEIGHT_FLOOR && ref[N + 1]! > WEIGHT_FLOOR);
  assert.equal(y.data[1], 0);
  assertAllClose(y.data, ref.map((v) => (v < WEIGHT_FLOOR ? 0 : v)), 1e-15, 1e-12);
  grads(x, gamma, probeWeights(B * N, new Rng(10)));
  assert.equal(x.grad![1], 0, 'no gradient through the floored weight');
  assert.notEqual(x.grad![N + 1], 0, 'a small weight above the floor has its gradient');
  assertGradcheck(() => weightedSum(sharpen(x, gamma), probeWeights(B * N, new Rng(11))), [x, gamma]);
});

test('sharpen: tiny negative round-off in w~ counts as 0 (no NaN from a fractional power of a negative)', () => {
  const x = Tensor.from([-1e-17, 0.6, 0.4, -0, 0, 0, 0, 0.5, 0.5, -1e-300, 0, 0, 0, 0], [B, N], 'f64', true);
  const gamma = Tensor.from([1.5, 2.5], [B, 1], 'f64', true);
  const y = sharpen(x, gamma);
  assertFinite(y.data);
  assert.equal(y.data[0], 0);
  assert.equal(y.data[N + 2], 0);
  assertAllClose(y.data, naive(Array.from(x.data, (v) => Math.max(v, 0)), gamma.data), 1e-15, 1e-12);
  grads(x, gamma, probeWeights(B * N, new Rng(9)));
  assertFinite(x.grad!);
  assertFinite(gamma.grad!);
});

test('sharpen: rejects γ of the wrong shape, naming both shapes', () => {
  assert.throws(() => sharpen(Tensor.zeros([B, N]), Tensor.zeros([B])), /sharpen: gamma has shape \[2\], expected \[2, 1\]/);
});
