import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentModeIndex, readWeighting } from './read-weighting.js';
import { softmax, weightedSum } from '../tensor/ops.js';
import { probeWeights, randomParam } from '../tensor/gradcheck.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { assertAllClose, assertGradcheck } from '../tensor/testing.js';

// Distinct sizes so a swapped axis fails: B=2, N=7, Wh=2 and so 2·Wh + 1 = 5 modes.
const B = 2, N = 7, Wh = 2, MODES = 2 * Wh + 1;

function setup(seed: number): { c: Tensor; bwd: Tensor[]; fwd: Tensor[]; pi: Tensor } {
  const rng = new Rng(seed);
  return {
    c: randomParam([B, N], rng),
    bwd: Array.from({ length: Wh }, () => randomParam([B, N], rng)),
    fwd: Array.from({ length: Wh }, () => randomParam([B, N], rng)),
    pi: softmax(randomParam([B, MODES], rng)),
  };
}

test('readWeighting: shape and naive reference with modes [backward × Wh, forward × Wh, content]', () => {
  const { c, bwd, fwd, pi } = setup(1);
  const w = readWeighting(c, bwd, fwd, pi);
  assert.deepEqual(w.shape, [B, N]);
  const expected: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < N; n++) {
      const x = b * N + n;
      let v = pi.data[b * MODES + 2 * Wh]! * c.data[x]!;
      for (let h = 0; h < Wh; h++) {
        v += pi.data[b * MODES + h]! * bwd[h]!.data[x]!;
        v += pi.data[b * MODES + Wh + h]! * fwd[h]!.data[x]!;
      }
      expected.push(v);
    }
  }
  assertAllClose(w.data, expected, 1e-14, 1e-12);
});

test('readWeighting: a one-hot mode selects backward h, forward h or content', () => {
  const { c, bwd, fwd } = setup(2);
  const oneHot = (m: number): Tensor => {
    const t = Tensor.zeros([B, MODES], 'f64');
    for (let b = 0; b < B; b++) t.data[b * MODES + m] = 1;
    return t;
  };
  assert.equal(contentModeIndex(Wh), MODES - 1);
  for (let h = 0; h < Wh; h++) {
    assertAllClose(readWeighting(c, bwd, fwd, oneHot(h)).data, bwd[h]!.data, 0, 0, `backward ${h}`);
    assertAllClose(readWeighting(c, bwd, fwd, oneHot(Wh + h)).data, fwd[h]!.data, 0, 0, `forward ${h}`);
  }
  assertAllClose(readWeighting(c, bwd, fwd, oneHot(contentModeIndex(Wh))).data, c.data, 0, 0, 'content');
});

test('readWeighting: finite-difference gradients for every weighting and the mode logits', () => {
  const rng = new Rng(3);
  const { c, bwd, fwd } = setup(4);
  const logits = randomParam([B, MODES], rng);
  const p = probeWeights(B * N, rng);
  assertGradcheck(() => weightedSum(readWeighting(c, bwd, fwd, softmax(logits)), p), [c, ...bwd, ...fwd, logits]);
});

test('readWeighting: rejects modes for the wrong number of write heads, naming both shapes', () => {
  const { c, bwd, fwd } = setup(5);
  assert.throws(() => readWeighting(c, bwd, fwd, Tensor.zeros([B, 3], 'f64')), /readWeighting: read modes has shape \[2, 3\], expected \[2, 5\]/);
});
