import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initLstm, lstmCell, type LstmParams } from './lstm.js';
import { addScalars, weightedSum } from '../tensor/ops.js';
import { probeWeights, randomParam } from '../tensor/gradcheck.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { onTape, Tape } from '../tensor/tape.js';
import { assertAllClose, assertFinite, assertGradcheck } from '../tensor/testing.js';

// Distinct sizes so a swapped axis fails: B=2, X=5, H=3 (4H = 12).
const B = 2, X = 5, H = 3;

function randomLstm(rng: Rng, scale = 0.5): LstmParams {
  return {
    weightIh: randomParam([4 * H, X], rng, scale),
    weightHh: randomParam([4 * H, H], rng, scale),
    biasIh: randomParam([4 * H], rng, scale),
    biasHh: randomParam([4 * H], rng, scale),
  };
}

const sig = (v: number): number => 1 / (1 + Math.exp(-v));

/**
 * One LSTMCell step as PyTorch documents it, gate rows chunked in order i, f, g, o:
 *   gates = W_ih·x + b_ih + W_hh·h + b_hh;  c' = σ(f)c + σ(i)tanh(g);  h' = σ(o)tanh(c')
 */
function naiveStep(p: LstmParams, x: ArrayLike<number>, h: ArrayLike<number>, c: ArrayLike<number>): { h: number[]; c: number[] } {
  const hOut: number[] = [], cOut: number[] = [];
  for (let b = 0; b < B; b++) {
    const gate = (chunk: number, j: number): number => {
      const row = chunk * H + j;
      let s = p.biasIh.data[row]! + p.biasHh.data[row]!;
      for (let k = 0; k < X; k++) s += p.weightIh.data[row * X + k]! * x[b * X + k]!;
      for (let k = 0; k < H; k++) s += p.weightHh.data[row * H + k]! * h[b * H + k]!;
      return s;
    };
    for (let j = 0; j < H; j++) {
      const i = sig(gate(0, j)), f = sig(gate(1, j)), g = Math.tanh(gate(2, j)), o = sig(gate(3, j));
      const cv = f * c[b * H + j]! + i * g;
      cOut.push(cv);
      hOut.push(o * Math.tanh(cv));
    }
  }
  return { h: hOut, c: cOut };
}

test('lstmCell: shapes and a naive PyTorch-order reference over two steps', () => {
  const rng = new Rng(1);
  const p = randomLstm(rng);
  const x1 = randomParam([B, X], rng), x2 = randomParam([B, X], rng);
  const h0 = randomParam([B, H], rng), c0 = randomParam([B, H], rng);
  const s1 = lstmCell(p, x1, h0, c0);
  assert.deepEqual(s1.h.shape, [B, H]);
  assert.deepEqual(s1.c.shape, [B, H]);
  const r1 = naiveStep(p, x1.data, h0.data, c0.data);
  assertAllClose(s1.h.data, r1.h, 1e-13, 1e-12, 'h1');
  assertAllClose(s1.c.data, r1.c, 1e-13, 1e-12, 'c1');
  const s2 = lstmCell(p, x2, s1.h, s1.c);
  const r2 = naiveStep(p, x2.data, r1.h, r1.c);
  assertAllClose(s2.h.data, r2.h, 1e-13, 1e-12, 'h2');
  assertAllClose(s2.c.data, r2.c, 1e-13, 1e-12, 'c2');
});

test('lstmCell: each gate block controls what PyTorch says it does', () => {
  // zero weights; biases select each gate so the roles of the four chunks are visible
  const zero = (shape: number[]): Tensor => Tensor.zeros(shape, 'f64');
  const p: LstmParams = { weightIh: zero([4 * H, X]), weightHh: zero([4 * H, H]), biasIh: zero([4 * H]), biasHh: zero([4 * H]) };
  const big = 50; // σ(±50) is 1 or 0 to double precision, tanh(50) = 1
  const setGate = (chunk: number, v: number): void => { for (let j = 0; j < H; j++) p.biasIh.data[chunk * H + j] = v; };
  const x = zero([B, X]), h = zero([B, H]);
  const c = Tensor.full([B, H], 0.5, 'f64');
  // input gate open, forget closed, g = tanh(50) = 1, output open: c' = 1, h' = tanh(1)
  setGate(0, big); setGate(1, -big); setGate(2, big); setGate(3, big);
  let s = lstmCell(p, x, h, c);
  assertAllClose(s.c.data, new Array(B * H).fill(1), 1e-15);
  assertAllClose(s.h.data, new Array(B * H).fill(Math.tanh(1)), 1e-15);
  // input gate closed, forget open: c' = c; output closed: h' = 0
  setGate(0, -big); setGate(1, big); setGate(3, -big);
  s = lstmCell(p, x, h, c);
  assertAllClose(s.c.data, new Array(B * H).fill(0.5), 1e-15);
  assertAllClose(s.h.data, new Array(B * H).fill(0), 1e-15);
});

test('lstmCell: finite-difference gradients for x, h, c and all four parameters', () => {
  const rng = new Rng(2);
  const p = randomLstm(rng);
  const x = randomParam([B, X], rng), h = randomParam([B, H], rng), c = randomParam([B, H], rng);
  const ch = probeWeights(B * H, rng), cc = probeWeights(B * H, rng);
  const inputs = [x, h, c, p.weightIh, p.weightHh, p.biasIh, p.biasHh];
  const f = (): Tensor => {
    const s = lstmCell(p, x, h, c);
    return addScalars([weightedSum(s.h, ch), weightedSum(s.c, cc)]);
  };
  assertGradcheck(f, inputs);
  // through h' alone and through c' alone (the backward handles a missing gradient on either)
  assertGradcheck(() => weightedSum(lstmCell(p, x, h, c).h, ch), inputs);
  assertGradcheck(() => weightedSum(lstmCell(p, x, h, c).c, cc), inputs);
});

test('lstmCell: finite-difference gradients through three chained steps', () => {
  const rng = new Rng(3);
  const p = randomLstm(rng);
  const xs = [0, 1, 2].map(() => randomParam([B, X], rng));
  const h0 = randomParam([B, H], rng), c0 = randomParam([B, H], rng);
  const ch = probeWeights(B * H, rng);
  const f = (): Tensor => {
    let s = { h: h0, c: c0 };
    for (const x of xs) s = lstmCell(p, x, s.h, s.c);
    return weightedSum(s.h, ch);
  };
  assertGradcheck(f, [...xs, h0, c0, p.weightIh, p.weightHh, p.biasIh, p.biasHh]);
});

test('lstmCell: saturated inputs (±1e3) give finite outputs and gradients; |h| ≤ 1', () => {
  const rng = new Rng(4);
  const p = randomLstm(rng, 1);
  const x = Tensor.zeros([B, X], 'f64', true);
  for (let k = 0; k < x.size; k++) x.data[k] = k % 2 === 0 ? 1e3 : -1e3;
  const h = Tensor.full([B, H], 1e3, 'f64'), c = Tensor.full([B, H], -1e3, 'f64');
  const tape = new Tape();
  const loss = onTape(tape, [x], () => {
    const s = lstmCell(p, x, h, c);
    assertFinite(s.h.data, 'h');
    assertFinite(s.c.data, 'c');
    for (const v of s.h.data) assert.ok(Math.abs(v) <= 1);
    return addScalars([weightedSum(s.h, new Array(B * H).fill(1)), weightedSum(s.c, new Array(B * H).fill(1))]);
  });
  tape.backward(loss);
  for (const t of [x, p.weightIh, p.weightHh, p.biasIh, p.biasHh]) assertFinite(t.grad!, 'gradient');
});

test('initLstm: PyTorch shapes and bounds U(−1/√H, 1/√H) for every parameter', () => {
  const Hs = 16;
  const p = initLstm(X, Hs, new Rng(5), 'f32');
  assert.deepEqual(p.weightIh.shape, [4 * Hs, X]);
  assert.deepEqual(p.weightHh.shape, [4 * Hs, Hs]);
  assert.deepEqual(p.biasIh.shape, [4 * Hs]);
  assert.deepEqual(p.biasHh.shape, [4 * Hs]);
  const bound = 1 / Math.sqrt(Hs); // 0.25: bound depends on H, not on the input width
  for (const t of [p.weightIh, p.weightHh, p.biasIh, p.biasHh]) {
    assert.ok(t.requiresGrad);
    assert.ok(t.data instanceof Float32Array);
    let lo = Infinity, hi = -Infinity;
    for (const v of t.data) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    assert.ok(lo >= -bound && hi <= bound, `[${lo}, ${hi}] exceeds ±${bound}`);
    assert.ok(lo < -0.7 * bound && hi > 0.7 * bound, `[${lo}, ${hi}] does not fill ±${bound}`);
  }
});

test('lstmCell: rejects a hidden or cell state of the wrong size, naming both shapes', () => {
  const p = randomLstm(new Rng(6));
  const x = Tensor.zeros([B, X], 'f64'), h = Tensor.zeros([B, H], 'f64');
  assert.throws(() => lstmCell(p, Tensor.zeros([B, X + 1], 'f64'), h, h), /lstmCell: input has shape \[2, 6\], expected \[2, 5\]/);
  assert.throws(() => lstmCell(p, x, Tensor.zeros([B, H + 1], 'f64'), h), /lstmCell: hidden state has shape \[2, 4\], expected \[2, 3\]/);
  assert.throws(() => lstmCell(p, x, h, Tensor.zeros([H, B], 'f64')), /lstmCell: cell state has shape \[3, 2\], expected \[2, 3\]/);
});
