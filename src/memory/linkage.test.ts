import { test } from 'node:test';
import assert from 'node:assert/strict';
import { updateLink, updateLinkage, updatePrecedence } from './linkage.js';
import { addScalars, weightedSum } from '../tensor/ops.js';
import { probeWeights } from '../tensor/gradcheck.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { assertAllClose, assertFinite, assertGradcheck } from '../tensor/testing.js';

// Distinct sizes so a swapped axis fails: B=2, N=7.
const B = 2, N = 7;

/** Rows of nonnegative weights summing to `total` ([B, N]); one-hot on a random slot when `oneHot`. */
function weights(rng: Rng, total: number, oneHot = false): Tensor {
  const t = Tensor.zeros([B, N], 'f64', true);
  for (let b = 0; b < B; b++) {
    if (oneHot) { t.data[b * N + rng.int(0, N - 1)] = total; continue; }
    let s = 0;
    for (let n = 0; n < N; n++) s += (t.data[b * N + n] = Math.exp(2 * rng.normal()));
    for (let n = 0; n < N; n++) t.data[b * N + n]! *= total / s;
  }
  return t;
}

/** A valid link (entries in [0, 1], zero diagonal, rows and columns ≤ 1) and precedence after some steps. */
function history(rng: Rng, steps: number): { link: Tensor; prec: Tensor } {
  let link = Tensor.zeros([B, N, N], 'f64');
  let prec = Tensor.zeros([B, N], 'f64');
  for (let s = 0; s < steps; s++) {
    const w = weights(rng, rng.uniform());
    link = updateLink(link, prec, w);
    prec = updatePrecedence(prec, w);
  }
  return { link: new Tensor(link.data, link.shape, true), prec: new Tensor(prec.data, prec.shape, true) };
}

function naiveLink(L: ArrayLike<number>, p: ArrayLike<number>, w: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        const wi = w[b * N + i]!, wj = w[b * N + j]!;
        out.push(i === j ? 0 : (1 - wi - wj) * L[(b * N + i) * N + j]! + wi * p[b * N + j]!);
      }
    }
  }
  return out;
}

test('updateLink and updatePrecedence: shapes and naive reference', () => {
  const rng = new Rng(1);
  const { link, prec } = history(rng, 3);
  const w = weights(rng, 0.8);
  const L = updateLink(link, prec, w);
  assert.deepEqual(L.shape, [B, N, N]);
  assertAllClose(L.data, naiveLink(link.data, prec.data, w.data), 1e-15, 1e-12);
  const p = updatePrecedence(prec, w);
  assert.deepEqual(p.shape, [B, N]);
  const expected: number[] = [];
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let n = 0; n < N; n++) s += w.data[b * N + n]!;
    for (let n = 0; n < N; n++) expected.push((1 - s) * prec.data[b * N + n]! + w.data[b * N + n]!);
  }
  assertAllClose(p.data, expected, 1e-15, 1e-12);
});

test('linkage: writing slots 2, 5, 1 in turn links 5 after 2 and 1 after 5', () => {
  let link = Tensor.zeros([B, N, N], 'f64');
  let prec = Tensor.zeros([B, N], 'f64');
  for (const slot of [2, 5, 1]) {
    const w = Tensor.zeros([B, N], 'f64');
    for (let b = 0; b < B; b++) w.data[b * N + slot] = 1;
    link = updateLink(link, prec, w);
    prec = updatePrecedence(prec, w);
  }
  const at = (b: number, i: number, j: number): number => link.data[(b * N + i) * N + j]!;
  for (let b = 0; b < B; b++) {
    assert.equal(at(b, 5, 2), 1); // L[i, j]: i written right after j
    assert.equal(at(b, 1, 5), 1);
    assert.equal(at(b, 2, 5), 0);
    assert.equal(at(b, 1, 2), 0); // overwritten: slot 1's only predecessor is 5
    let total = 0;
    for (let x = b * N * N; x < (b + 1) * N * N; x++) total += link.data[x]!;
    assert.equal(total, 2);
    assert.equal(prec.data[b * N + 1], 1);
  }
});

test('linkage invariants over many steps: entries in [0, 1], zero diagonal, rows and columns ≤ 1, Σ p ≤ 1', () => {
  const rng = new Rng(2);
  // float32 updateLinkage is the fused kernel (when built), the rest the TypeScript ops
  for (const [dtype, fused] of [['f64', false], ['f32', false], ['f32', true]] as const) {
    let link = Tensor.zeros([B, N, N], dtype);
    let prec = Tensor.zeros([B, N], dtype);
    const tol = dtype === 'f64' ? 1e-12 : 1e-5;
    for (let s = 0; s < 40; s++) {
      const w64 = weights(rng, s % 5 === 0 ? 1 : rng.uniform(), s % 3 === 0);
      const w = Tensor.from(w64.data, [B, N], dtype);
      if (fused) {
        ({ link, precedence: prec } = updateLinkage(link, prec, w));
      } else {
        link = updateLink(link, prec, w);
        prec = updatePrecedence(prec, w);
      }
      for (let b = 0; b < B; b++) {
        let ps = 0;
        for (let i = 0; i < N; i++) {
          const pv = prec.data[b * N + i]!;
          assert.ok(pv >= -tol, `precedence ${pv} < 0`);
          ps += pv;
          assert.equal(link.data[(b * N + i) * N + i], 0, 'diagonal');
          let row = 0, col = 0;
          for (let j = 0; j < N; j++) {
            const v = link.data[(b * N + i) * N + j]!;
            assert.ok(v >= -tol && v <= 1 + tol, `link entry ${v}`);
            row += v;
            col += link.data[(b * N + j) * N + i]!;
          }
          assert.ok(row <= 1 + tol && col <= 1 + tol, `row sum ${row}, column sum ${col}`);
        }
        assert.ok(ps <= 1 + tol, `Σ p = ${ps}`);
      }
    }
  }
});

test('updateLink: finite-difference gradients for link, precedence and write weights', () => {
  const rng = new Rng(3);
  const { link, prec } = history(rng, 4);
  const w = weights(rng, 0.7);
  const c = probeWeights(B * N * N, rng);
  assertGradcheck(() => weightedSum(updateLink(link, prec, w), c), [link, prec, w]);
});

test('updatePrecedence: finite-difference gradients for precedence and write weights', () => {
  const rng = new Rng(4);
  const { prec } = history(rng, 4);
  const w = weights(rng, 0.6);
  const c = probeWeights(B * N, rng);
  assertGradcheck(() => weightedSum(updatePrecedence(prec, w), c), [prec, w]);
});

test('linkage: full one-hot writes and all-zero weights give no NaN; zero weights change nothing', () => {
  const rng = new Rng(5);
  const { link, prec } = history(rng, 5);
  const full = weights(rng, 1, true);
  const L = updateLink(link, prec, full);
  const p = updatePrecedence(prec, full);
  assertFinite(L.data, 'link');
  assertAllClose(p.data, full.data, 0, 0, 'precedence after a full write');
  const zero = Tensor.zeros([B, N], 'f64', true);
  assertAllClose(updateLink(link, prec, zero).data, link.data, 0, 0, 'link after no write');
  assertAllClose(updatePrecedence(prec, zero).data, prec.data, 0, 0, 'precedence after no write');
  const c = probeWeights(B * N * N, rng);
  assertGradcheck(() => weightedSum(updateLink(link, prec, zero), c), [link, prec, zero]);
});

test('updateLink: rejects a link of the wrong size, naming both shapes', () => {
  assert.throws(
    () => updateLink(Tensor.zeros([B, N, N + 1]), Tensor.zeros([B, N]), Tensor.zeros([B, N])),
    /updateLink: link has shape \[2, 7, 8\], expected \[2, 7, 7\]/,
  );
});

test('updateLinkage: the link and precedence of updateLink and updatePrecedence, with finite-difference gradients', () => {
  const rng = new Rng(6);
  const { link, prec } = history(rng, 4);
  const w = weights(rng, 0.7);
  const r = updateLinkage(link, prec, w);
  assert.deepEqual(r.link.shape, [B, N, N]);
  assert.deepEqual(r.precedence.shape, [B, N]);
  assertAllClose(r.link.data, naiveLink(link.data, prec.data, w.data), 1e-15, 1e-12, 'link');
  assertAllClose(r.precedence.data, updatePrecedence(prec, w).data, 0, 0, 'precedence');
  const cL = probeWeights(B * N * N, rng), cp = probeWeights(B * N, rng);
  assertGradcheck(() => {
    const y = updateLinkage(link, prec, w);
    return addScalars([weightedSum(y.link, cL), weightedSum(y.precedence, cp)]);
  }, [link, prec, w]);
  // one output unused (its gradient absent), and a saturated one-hot write
  assertGradcheck(() => weightedSum(updateLinkage(link, prec, w).precedence, cp), [link, prec, w]);
  const full = weights(rng, 1, true);
  assertGradcheck(() => weightedSum(updateLinkage(link, prec, full).link, cL), [link, prec, full]);
});

test('updateLinkage in float32 agrees with updateLink and updatePrecedence on a one-hot write sequence', () => {
  // writing slots 2, 5, 1 in turn: exact 0/1 links either way
  let fused = { link: Tensor.zeros([B, N, N]), precedence: Tensor.zeros([B, N]) };
  let link = Tensor.zeros([B, N, N]);
  let prec = Tensor.zeros([B, N]);
  for (const slot of [2, 5, 1]) {
    const w = Tensor.zeros([B, N]);
    for (let b = 0; b < B; b++) w.data[b * N + slot] = 1;
    fused = updateLinkage(fused.link, fused.precedence, w);
    link = updateLink(link, prec, w);
    prec = updatePrecedence(prec, w);
  }
  assertAllClose(fused.link.data, link.data, 0, 0, 'link');
  assertAllClose(fused.precedence.data, prec.data, 0, 0, 'precedence');
});
