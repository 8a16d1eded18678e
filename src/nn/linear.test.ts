import { heapFor } from '../kernels/wasm.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initLinear, linear, matmulXWt, matmulXWtBackward, uniformParam } from './linear.js';
import { weightedSum } from '../tensor/ops.js';
import { probeWeights, randomParam } from '../tensor/gradcheck.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { assertAllClose, assertGradcheck } from '../tensor/testing.js';

/** Sizes chosen to hit the 4-wide main loops, their remainders, and the degenerate 1s. */
const SIZES: [number, number, number][] = [
  // [B, I, O]
  [5, 3, 7],
  [2, 6, 4],
  [4, 5, 8],
  [1, 1, 1],
  [3, 4, 9],
  [7, 2, 3],
  [9, 5, 6],
];

function randArray(n: number, rng: Rng): Float64Array {
  return Float64Array.from({ length: n }, () => rng.normal());
}

/** y[b, o] = Σ_i x[b, i] · W[o, i], straight from the definition. */
function naiveXWt(x: ArrayLike<number>, w: ArrayLike<number>, B: number, I: number, O: number): number[] {
  const y: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < O; o++) {
      let s = 0;
      for (let i = 0; i < I; i++) s += x[b * I + i]! * w[o * I + i]!;
      y.push(s);
    }
  }
  return y;
}

for (const [B, I, O] of SIZES) {
  test(`matmulXWt: naive reference, accumulating into y (B=${B}, I=${I}, O=${O})`, () => {
    const rng = new Rng(B * 100 + I * 10 + O);
    const x = randArray(B * I, rng), w = randArray(O * I, rng), y0 = randArray(B * O, rng);
    const y = Float64Array.from(y0);
    matmulXWt(heapFor(), x, w, y, B, I, O);
    const ref = naiveXWt(x, w, B, I, O).map((v, k) => v + y0[k]!);
    assertAllClose(y, ref, 1e-12, 1e-12);
  });

  test(`matmulXWtBackward: naive gx and gW, accumulating (B=${B}, I=${I}, O=${O})`, () => {
    const rng = new Rng(B * 1000 + I * 10 + O);
    const x = randArray(B * I, rng), w = randArray(O * I, rng), gy = randArray(B * O, rng);
    const gx0 = randArray(B * I, rng), gw0 = randArray(O * I, rng);
    const gx = Float64Array.from(gx0), gw = Float64Array.from(gw0);
    matmulXWtBackward(heapFor(), x, w, gy, gx, gw, B, I, O);
    const refGx: number[] = [], refGw: number[] = [];
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < I; i++) {
        let s = gx0[b * I + i]!;
        for (let o = 0; o < O; o++) s += gy[b * O + o]! * w[o * I + i]!;
        refGx.push(s);
      }
    }
    for (let o = 0; o < O; o++) {
      for (let i = 0; i < I; i++) {
        let s = gw0[o * I + i]!;
        for (let b = 0; b < B; b++) s += gy[b * O + o]! * x[b * I + i]!;
        refGw.push(s);
      }
    }
    assertAllClose(gx, refGx, 1e-12, 1e-12, 'gx');
    assertAllClose(gw, refGw, 1e-12, 1e-12, 'gW');

    // each half alone (the other buffer null) gives the same result
    const gxOnly = Float64Array.from(gx0), gwOnly = Float64Array.from(gw0);
    matmulXWtBackward(heapFor(), x, w, gy, gxOnly, null, B, I, O);
    matmulXWtBackward(heapFor(), x, w, gy, null, gwOnly, B, I, O);
    assertAllClose(gxOnly, refGx, 1e-12, 1e-12, 'gx alone');
    assertAllClose(gwOnly, refGw, 1e-12, 1e-12, 'gW alone');
  });
}

test('linear: shape and naive reference, with and without bias (B=5, I=3, O=7)', () => {
  const B = 5, I = 3, O = 7;
  const rng = new Rng(41);
  const x = randomParam([B, I], rng), w = randomParam([O, I], rng), b = randomParam([O], rng);
  const y = linear(x, w, b);
  assert.deepEqual(y.shape, [B, O]);
  const ref = naiveXWt(x.data, w.data, B, I, O).map((v, k) => v + b.data[k % O]!);
  assertAllClose(y.data, ref, 1e-12, 1e-12);
  assertAllClose(linear(x, w, null).data, naiveXWt(x.data, w.data, B, I, O), 1e-12, 1e-12);
});

test('linear: finite-difference gradients for input, weight and bias (B=5, I=3, O=7)', () => {
  const B = 5, I = 3, O = 7;
  const rng = new Rng(42);
  const x = randomParam([B, I], rng), w = randomParam([O, I], rng), b = randomParam([O], rng);
  const c = probeWeights(B * O, rng);
  assertGradcheck(() => weightedSum(linear(x, w, b), c), [x, w, b]);
  assertGradcheck(() => weightedSum(linear(x, w, null), c), [x, w]);
});

test('linear: finite-difference gradients at sizes that fill the 4-wide loops (B=8, I=6, O=4)', () => {
  const B = 8, I = 6, O = 4;
  const rng = new Rng(43);
  const x = randomParam([B, I], rng), w = randomParam([O, I], rng), b = randomParam([O], rng);
  const c = probeWeights(B * O, rng);
  assertGradcheck(() => weightedSum(linear(x, w, b), c), [x, w, b]);
});

test('linear: a frozen weight gets no gradient while the input does', () => {
  const x = randomParam([2, 3], new Rng(44));
  const w = Tensor.from([1, 2, 3, 4, 5, 6], [2, 3], 'f64', false);
  assertGradcheck(() => weightedSum(linear(x, w, null), [1, -1, 2, 0.5]), [x]);
  assert.equal(w.grad, null);
});

test('linear: rejects an input or bias of the wrong width, naming both shapes', () => {
  const w = Tensor.zeros([7, 3]);
  assert.throws(() => linear(Tensor.zeros([5, 4]), w, null), /linear: input has shape \[5, 4\], expected \[5, 3\]/);
  assert.throws(() => linear(Tensor.zeros([5, 3]), w, Tensor.zeros([3])), /linear: bias has shape \[3\], expected \[7\]/);
});

test('initLinear: PyTorch bounds U(−1/√in, 1/√in) for weight and bias, shapes, dtype, seeded', () => {
  const I = 9, O = 30;
  const p = initLinear(I, O, new Rng(45), 'f32');
  assert.deepEqual(p.weight.shape, [O, I]);
  assert.deepEqual(p.bias.shape, [O]);
  assert.ok(p.weight.data instanceof Float32Array);
  assert.ok(p.weight.requiresGrad && p.bias.requiresGrad);
  const bound = 1 / 3;
  for (const t of [p.weight, p.bias]) {
    let lo = Infinity, hi = -Infinity;
    for (const v of t.data) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    assert.ok(lo >= -bound && hi <= bound, `values in [${lo}, ${hi}] exceed ±${bound}`);
    assert.ok(lo < -0.8 * bound && hi > 0.8 * bound, `values in [${lo}, ${hi}] do not fill ±${bound}`);
  }
  const again = initLinear(I, O, new Rng(45), 'f32');
  assert.deepEqual(Array.from(again.weight.data), Array.from(p.weight.data));
  assert.notDeepEqual(Array.from(initLinear(I, O, new Rng(46), 'f32').weight.data), Array.from(p.weight.data));
});

test('uniformParam: every value in (−bound, bound), mean ≈ 0', () => {
  const t = uniformParam([50, 40], 0.25, new Rng(47), 'f64');
  assert.equal(t.dtype, 'f64');
  let s = 0;
  for (const v of t.data) { assert.ok(v >= -0.25 && v < 0.25); s += v; }
  assert.ok(Math.abs(s / t.size) < 0.01);
});
