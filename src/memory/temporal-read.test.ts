import { test } from 'node:test';
import assert from 'node:assert/strict';
import { followLinks, followLinksBoth, followLinksHeads } from './temporal-read.js';
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

test('followLinksHeads: every read head against the naive loops, with finite-difference gradients', () => {
  const rng = new Rng(31);
  const L = randomParam([B, N, N], rng);
  const ws = [0, 1, 2].map(() => randomParam([B, N], rng));
  const heads = followLinksHeads(L, ws);
  assert.equal(heads.forward.length, 3);
  assert.equal(heads.backward.length, 3);
  ws.forEach((w, i) => {
    assert.deepEqual(heads.forward[i]!.shape, [B, N]);
    assertAllClose(heads.forward[i]!.data, naive(L.data, w.data, true), 1e-12, 1e-12, `forward ${i}`);
    assertAllClose(heads.backward[i]!.data, naive(L.data, w.data, false), 1e-12, 1e-12, `backward ${i}`);
  });
  const cf = ws.map(() => probeWeights(B * N, rng)), cb = ws.map(() => probeWeights(B * N, rng));
  assertGradcheck(() => {
    const r = followLinksHeads(L, ws);
    return addScalars([...r.forward.map((f, i) => weightedSum(f, cf[i]!)), ...r.backward.map((b, i) => weightedSum(b, cb[i]!))]);
  }, [L, ...ws]);
  // outputs left unused (absent gradients): one direction of head 0, both of head 1
  assertGradcheck(() => {
    const r = followLinksHeads(L, ws);
    return addScalars([weightedSum(r.backward[0]!, cb[0]!), weightedSum(r.forward[2]!, cf[2]!)]);
  }, [L, ...ws]);
});

test('followLinksHeads: on a valid link, f and b are nonnegative and sum to at most Σ w, in float32 and float64', () => {
  // columns of L sum to ≤ 1, so Σ_i f[i] = Σ_j (Σ_i L[i,j]) w[j] ≤ Σ w; rows likewise for b
  const rng = new Rng(32);
  for (const dtype of ['f64', 'f32'] as const) {
    let link = Tensor.zeros([B, N, N], dtype);
    let prec = Tensor.zeros([B, N], dtype);
    for (let s = 0; s < 6; s++) {
      const w = Tensor.zeros([B, N], dtype);
      for (let b = 0; b < B; b++) w.data[b * N + rng.int(0, N - 1)] = 0.5 + 0.5 * rng.uniform();
      link = updateLink(link, prec, w);
      prec = updatePrecedence(prec, w);
    }
    const ws = [0, 1].map(() => {
      const w = Tensor.zeros([B, N], dtype);
      for (let x = 0; x < B * N; x++) w.data[x] = rng.uniform() / N;
      return w;
    });
    const r = followLinksHeads(link, ws);
    const tol = dtype === 'f64' ? 1e-12 : 1e-6;
    ws.forEach((w, i) => {
      for (let b = 0; b < B; b++) {
        let sw = 0, sf = 0, sb = 0;
        for (let n = 0; n < N; n++) {
          const x = b * N + n;
          assert.ok(r.forward[i]!.data[x]! >= 0 && r.backward[i]!.data[x]! >= 0, 'nonnegative');
          sw += w.data[x]!; sf += r.forward[i]!.data[x]!; sb += r.backward[i]!.data[x]!;
        }
        assert.ok(sf <= sw + tol && sb <= sw + tol, `Σ f = ${sf}, Σ b = ${sb}, Σ w = ${sw}`);
      }
    });
  }
});

test('followLinksHeads: rejects read weights of the wrong size, naming both shapes', () => {
  assert.throws(
    () => followLinksHeads(Tensor.zeros([B, N, N]), [Tensor.zeros([B, N]), Tensor.zeros([B, N + 1])]),
    /followLinksHeads: read weights has shape \[2, 8\], expected \[2, 7\]/,
  );
});
