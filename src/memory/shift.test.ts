import { test } from 'node:test';
import assert from 'node:assert/strict';
import { circularShift } from './shift.js';
import { softmax, weightedSum } from '../tensor/ops.js';
import { probeWeights, randomParam } from '../tensor/gradcheck.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { assertAllClose, assertFinite, assertGradcheck } from '../tensor/testing.js';

// Distinct sizes so a swapped axis fails: B=2, N=7, S=3 (shiftRange 1) or S=5 (shiftRange 2).
const B = 2, N = 7;

/**
 * Push each slot's weight forward by each offset: s[j] is offset o = j − range (the
 * documented order), and weight at slot i lands on slot (i + o) mod N.
 */
function naive(w: ArrayLike<number>, s: ArrayLike<number>, S: number): number[] {
  const range = (S - 1) / 2;
  const out = new Array<number>(B * N).fill(0);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < S; j++) {
      const o = j - range;
      for (let i = 0; i < N; i++) {
        const dst = (((i + o) % N) + N) % N;
        out[b * N + dst] += s[b * S + j]! * w[b * N + i]!;
      }
    }
  }
  return out;
}

const oneHot = (slots: number[], width: number): Tensor => {
  const t = Tensor.zeros([slots.length, width], 'f64');
  slots.forEach((k, b) => { t.data[b * width + k] = 1; });
  return t;
};

for (const range of [1, 2]) {
  const S = 2 * range + 1;

  test(`circularShift (shiftRange ${range}): shape, naive reference, total weight preserved`, () => {
    const rng = new Rng(range);
    const w = softmax(randomParam([B, N], rng, 2)), s = softmax(randomParam([B, S], rng, 2));
    const y = circularShift(w, s);
    assert.deepEqual(y.shape, [B, N]);
    assertAllClose(y.data, naive(w.data, s.data, S), 1e-15, 1e-13);
    for (let b = 0; b < B; b++) {
      let sum = 0;
      for (let i = 0; i < N; i++) { assert.ok(y.data[b * N + i]! >= 0); sum += y.data[b * N + i]!; }
      assert.ok(Math.abs(sum - 1) < 1e-14);
    }
  });

  test(`circularShift (shiftRange ${range}): finite-difference gradients for weights and shift`, () => {
    const rng = new Rng(10 + range);
    const w = randomParam([B, N], rng), s = randomParam([B, S], rng);
    const c = probeWeights(B * N, rng);
    assertGradcheck(() => weightedSum(circularShift(w, s), c), [w, s]);
  });

  test(`circularShift (shiftRange ${range}): one-hot shifts by every offset move the focus circularly`, () => {
    for (let j = 0; j < S; j++) {
      const o = j - range; // the documented order: s[j] is offset j − shiftRange
      const w = oneHot([2, N - 1], N); // batch 1 sits on the last slot: a positive offset wraps to the start
      const s = oneHot([j, j], S);
      const y = circularShift(w, s);
      const expected = oneHot([(2 + o + N) % N, (N - 1 + o + N) % N], N);
      assert.deepEqual(Array.from(y.data), Array.from(expected.data), `offset ${o}`);
    }
  });
}

test('circularShift: shift [0, 0, 1] is offset +1 — slot k moves to slot k+1, the last slot to slot 0', () => {
  const w = oneHot([0, N - 1], N);
  const y = circularShift(w, oneHot([2, 2], 3));
  assert.deepEqual(Array.from(y.data), Array.from(oneHot([1, 0], N).data));
  const back = circularShift(w, oneHot([0, 0], 3)); // [1, 0, 0] is offset −1
  assert.deepEqual(Array.from(back.data), Array.from(oneHot([N - 1, N - 2], N).data));
  const stay = circularShift(w, oneHot([1, 1], 3));
  assert.deepEqual(Array.from(stay.data), Array.from(w.data));
});

test('circularShift: a shift split over offsets splits the focus the same way', () => {
  const w = oneHot([3, 3], N);
  const s = Tensor.from([0.2, 0.5, 0.3, 0.1, 0.0, 0.9], [B, 3], 'f64');
  const y = circularShift(w, s);
  const expected = new Array(B * N).fill(0);
  expected[2] = 0.2; expected[3] = 0.5; expected[4] = 0.3;
  expected[N + 2] = 0.1; expected[N + 4] = 0.9;
  assertAllClose(y.data, expected, 1e-16);
});

test('circularShift: more offsets than slots wrap around (N=3, shiftRange 2)', () => {
  const w = Tensor.from([1, 0, 0, 0, 0, 1], [B, 3], 'f64');
  const s = Tensor.from([0.1, 0.2, 0.3, 0.15, 0.25, 0.05, 0.15, 0.4, 0.3, 0.1], [B, 5], 'f64');
  const y = circularShift(w, s);
  const ref = (): number[] => {
    const out = new Array(6).fill(0);
    for (let b = 0; b < 2; b++) for (let j = 0; j < 5; j++) for (let i = 0; i < 3; i++) out[b * 3 + (((i + j - 2) % 3) + 3) % 3] += s.data[b * 5 + j]! * w.data[b * 3 + i]!;
    return out;
  };
  assertAllClose(y.data, ref(), 1e-16);
});

test('circularShift: all-zero weights give zeros, finite gradients', () => {
  const w = Tensor.zeros([B, N], 'f64', true), s = Tensor.zeros([B, 3], 'f64', true);
  assert.deepEqual(Array.from(circularShift(w, s).data), new Array(B * N).fill(0));
  assertGradcheck(() => weightedSum(circularShift(w, s), probeWeights(B * N, new Rng(20))), [w, s]);
  assertFinite(w.grad!);
  assertFinite(s.grad!);
});

test('circularShift: rejects an even shift width and a shift of the wrong batch, naming the shapes', () => {
  assert.throws(() => circularShift(Tensor.zeros([B, N]), Tensor.zeros([B, 4])), /circularShift: shift width must be odd \(2·shiftRange\+1\), got 4/);
  assert.throws(() => circularShift(Tensor.zeros([B, N]), Tensor.zeros([3, 3])), /circularShift: shift has shape \[3, 3\], expected \[2, 3\]/);
});
