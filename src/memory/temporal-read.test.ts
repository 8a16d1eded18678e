import { test } from 'node:test';
import assert from 'node:assert/strict';
import { followLinks, followLinksBoth } from './temporal-read.js';
import { updateLink, updatePrecedence } from './linkage.js';
import { addScalars, weightedSum } from '../tensor/ops.js';
import { probeWeights, randomParam } from '../tensor/gradcheck.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { assertAllClose, assertGradcheck } from '../tensor/testing.js';

// Distinct sizes so a swapped axis fails: B=2, N=7.
const B = 2, N = 7;

function naive(L: ArrayLike<number>, w: ArrayLike<number>, forward: boolean): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let k = 0; k < N; k++) {
      let s = 0;
      for (let m = 0; m < N; m++) {
        // forward: f[k] = Σ_m L[k, m] w[m];  backward: b[k] = Σ_m L[m, k] w[m]
        const l = forward ? L[(b * N + k) * N + m]! : L[(b * N + m) * N + k]!;
        s += l * w[b * N + m]!;
      }
      out.push(s);
    }
  }
  return out;
}

test('followLinks: shape and naive reference in both directions on a non-symmetric link', () => {
  const rng = new Rng(1);
  const L = randomParam([B, N, N], rng), w = randomParam([B, N], rng);
  for (const dir of ['forward', 'backward'] as const) {
    const y = followLinks(L, w, dir);
    assert.deepEqual(y.shape, [B, N]);
    assertAllClose(y.data, naive(L.data, w.data, dir === 'forward'), 1e-14, 1e-12, dir);
  }
});

test('followLinks: after writing slots 2 then 5, reading at 2 goes forward to 5 and reading at 5 goes back to 2', () => {
  let link = Tensor.zeros([B, N, N], 'f64');
  let prec = Tensor.zeros([B, N], 'f64');
  for (const slot of [2, 5]) {
    const w = Tensor.zeros([B, N], 'f64');
    for (let b = 0; b < B; b++) w.data[b * N + slot] = 1;
    link = updateLink(link, prec, w);
    prec = updatePrecedence(prec, w);
  }
  const at = (slot: number): Tensor => {
    const w = Tensor.zeros([B, N], 'f64');
    for (let b = 0; b < B; b++) w.data[b * N + slot] = 1;
    return w;
  };
  const fwd = followLinks(link, at(2), 'forward');
  const bwd = followLinks(link, at(5), 'backward');
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < N; n++) {
      assert.equal(fwd.data[b * N + n], n === 5 ? 1 : 0);
      assert.equal(bwd.data[b * N + n], n === 2 ? 1 : 0);
    }
  }
});

test('followLinks: finite-difference gradients for link and read weights, both directions', () => {
  const rng = new Rng(2);
  const L = randomParam([B, N, N], rng), w = randomParam([B, N], rng);
  for (const dir of ['forward', 'backward'] as const) {
    const c = probeWeights(B * N, rng);
    assertGradcheck(() => weightedSum(followLinks(L, w, dir), c), [L, w]);
  }
});

test('followLinksBoth: both directions against the naive loops, with finite-difference gradients', () => {
  const B = 2, N = 7;
  const rng = new Rng(21);
  const L = randomParam([B, N, N], rng), w = randomParam([B, N], rng);
  const both = followLinksBoth(L, w);
  assertAllClose(both.forward.data, naive(L.data, w.data, true), 1e-12, 1e-12, 'forward');
  assertAllClose(both.backward.data, naive(L.data, w.data, false), 1e-12, 1e-12, 'backward');
  const cf = probeWeights(B * N, rng), cb = probeWeights(B * N, rng);
  assertGradcheck(() => {
    const r = followLinksBoth(L, w);
    return addScalars([weightedSum(r.forward, cf), weightedSum(r.backward, cb)]);
  }, [L, w]);
  // only one direction used: the other's gradient is absent, not NaN
  assertGradcheck(() => weightedSum(followLinksBoth(L, w).backward, cb), [L, w]);
});
