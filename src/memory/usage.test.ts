import { test } from 'node:test';
import assert from 'node:assert/strict';
import { updateUsage } from './usage.js';
import { weightedSum } from '../tensor/ops.js';
import { probeWeights } from '../tensor/gradcheck.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { onTape, Tape } from '../tensor/tape.js';
import { assertAllClose, assertFinite, assertGradcheck } from '../tensor/testing.js';

// Distinct sizes so a swapped axis fails: B=2, N=7, Wh=4, R=3.
const B = 2, N = 7, Wh = 4, R = 3;

/** A float64 tensor of uniform values in [lo, hi), requiring gradients. */
function uniform(shape: number[], rng: Rng, lo = 0, hi = 1): Tensor {
  const t = Tensor.zeros(shape, 'f64', true);
  for (let i = 0; i < t.size; i++) t.data[i] = lo + (hi - lo) * rng.uniform();
  return t;
}

/** Rows of nonnegative weights summing to `total` ([B, N]), requiring gradients. */
function weights(rng: Rng, total = 0.9): Tensor {
  const t = uniform([B, N], rng, 0.05, 1);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let n = 0; n < N; n++) s += t.data[b * N + n]!;
    for (let n = 0; n < N; n++) t.data[b * N + n]! *= total / s;
  }
  return t;
}

interface Inputs { u: Tensor; ww: Tensor[]; f: Tensor[]; wr: Tensor[] }

function inputs(seed: number): Inputs {
  const rng = new Rng(seed);
  return {
    u: uniform([B, N], rng),
    ww: Array.from({ length: Wh }, () => weights(rng)),
    f: Array.from({ length: R }, () => uniform([B, 1], rng)),
    wr: Array.from({ length: R }, () => weights(rng)),
  };
}

/** Naive loop straight from the usage equation. */
function naive({ u, ww, f, wr }: Inputs): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < N; n++) {
      const x = b * N + n;
      let notWritten = 1;
      for (const w of ww) notWritten *= 1 - w.data[x]!;
      let v = u.data[x]! + (1 - u.data[x]!) * (1 - notWritten);
      for (let i = 0; i < R; i++) v *= 1 - f[i]!.data[b]! * wr[i]!.data[x]!;
      out.push(v);
    }
  }
  return out;
}

test('updateUsage: shape and naive reference', () => {
  const x = inputs(1);
  const u = updateUsage(x.u, x.ww, x.f, x.wr);
  assert.deepEqual(u.shape, [B, N]);
  assertAllClose(u.data, naive(x), 1e-14, 1e-12);
});

test('updateUsage: stays in [0, 1], including saturated gates and one-hot weights', () => {
  for (let seed = 0; seed < 20; seed++) {
    const x = inputs(100 + seed);
    if (seed % 2 === 0) {
      // saturate: free gates 0 or 1, one-hot weights, usage 0 or 1
      x.f.forEach((f, i) => f.data.fill(i % 2));
      for (const w of [...x.ww, ...x.wr]) { w.data.fill(0); for (let b = 0; b < B; b++) w.data[b * N + ((seed + b) % N)] = 1; }
      for (let k = 0; k < x.u.size; k++) x.u.data[k] = k % 3 === 0 ? 1 : 0;
    }
    const u = updateUsage(x.u, x.ww, x.f, x.wr);
    assertFinite(u.data, 'usage');
    for (const v of u.data) assert.ok(v >= 0 && v <= 1, `usage ${v} outside [0, 1]`);
  }
});

test('updateUsage: a write raises usage, a freeing read lowers it', () => {
  const u = Tensor.zeros([B, N], 'f64');
  const w = Tensor.zeros([B, N], 'f64');
  w.data[3] = 1; // batch 0, slot 3 fully written
  const freeAll = Tensor.full([B, 1], 1, 'f64');
  const readSlot3 = Tensor.zeros([B, N], 'f64');
  readSlot3.data[3] = 1;
  const written = updateUsage(u, [w], [], []);
  assert.equal(written.data[3], 1);
  assert.equal(written.data[2], 0);
  const freed = updateUsage(written, [], [freeAll], [readSlot3]);
  assert.equal(freed.data[3], 0);
});

test('updateUsage: finite-difference gradients for usage, free gates and read weights', () => {
  const x = inputs(2);
  const c = probeWeights(B * N, new Rng(3));
  assertGradcheck(() => weightedSum(updateUsage(x.u, x.ww, x.f, x.wr), c), [x.u, ...x.f, ...x.wr]);
});

test('updateUsage: the write weights gradient is stopped by default, exact when not stopped', () => {
  const x = inputs(4);
  const c = probeWeights(B * N, new Rng(5));
  const tape = new Tape();
  const loss = onTape(tape, [x.u, ...x.ww, ...x.f, ...x.wr], () => weightedSum(updateUsage(x.u, x.ww, x.f, x.wr), c));
  tape.backward(loss);
  for (const w of x.ww) assert.equal(w.grad, null, 'write weights received a gradient through usage');
  assert.notEqual(x.u.grad, null);
  assertGradcheck(() => weightedSum(updateUsage(x.u, x.ww, x.f, x.wr, { stopWriteGradient: false }), c), [...x.ww, x.u]);
});

test('updateUsage: all-used memory freed completely gives 0, finite gradients', () => {
  const x = inputs(6);
  x.u.data.fill(1);
  x.f.forEach((f) => f.data.fill(1));
  x.wr.forEach((w) => { w.data.fill(0); for (let b = 0; b < B; b++) w.data[b * N + 2] = 1; });
  const u = updateUsage(x.u, x.ww, x.f, x.wr);
  for (let b = 0; b < B; b++) assert.equal(u.data[b * N + 2], 0);
  const c = probeWeights(B * N, new Rng(7));
  assertGradcheck(() => weightedSum(updateUsage(x.u, x.ww, x.f, x.wr), c), [x.u, ...x.f, ...x.wr]);
  for (const t of [x.u, ...x.f, ...x.wr]) assertFinite(t.grad!, 'gradient');
});

test('updateUsage: rejects a free gate per slot instead of per head, naming both shapes', () => {
  const x = inputs(8);
  assert.throws(() => updateUsage(x.u, x.ww, [Tensor.zeros([B, N], 'f64')], [x.wr[0]!]), /updateUsage: free gate has shape \[2, 7\], expected \[2, 1\]/);
});
