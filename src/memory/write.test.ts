import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeMemory, type WriteHeadInput } from './write.js';
import { sigmoid, softmax, tanh, weightedSum } from '../tensor/ops.js';
import { probeWeights, randomParam } from '../tensor/gradcheck.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { onTape, Tape } from '../tensor/tape.js';
import { assertAllClose, assertFinite, assertGradcheck } from '../tensor/testing.js';

// Distinct sizes so a swapped axis fails: B=2, N=7, W=5; up to 3 write heads.
const B = 2, N = 7, W = 5;

/** Detaches a computed tensor into a fresh leaf that requires gradients. */
const leaf = (t: Tensor): Tensor => new Tensor(Float64Array.from(t.data), t.shape, true);

/** A head with weights on the simplex, erase in (0, 1) and add in (−1, 1), like a real head. */
function head(rng: Rng): WriteHeadInput {
  return {
    weights: leaf(softmax(randomParam([B, N], rng, 2))),
    erase: leaf(sigmoid(randomParam([B, W], rng, 2))),
    add: leaf(tanh(randomParam([B, W], rng))),
  };
}

/** M_t[b,i,j] = M[b,i,j] · Π_h (1 − w_h[b,i] e_h[b,j]) + Σ_h w_h[b,i] a_h[b,j], element by element. */
function naive(M: ArrayLike<number>, heads: readonly WriteHeadInput[]): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < W; j++) {
        let keep = 1, add = 0;
        for (const h of heads) {
          const w = h.weights.data[b * N + i]!;
          keep *= 1 - w * h.erase.data[b * W + j]!;
          add += w * h.add.data[b * W + j]!;
        }
        out.push(M[(b * N + i) * W + j]! * keep + add);
      }
    }
  }
  return out;
}

for (const H of [1, 2, 3]) {
  test(`writeMemory (${H} head${H > 1 ? 's' : ''}): shape, naive reference, input untouched`, () => {
    const rng = new Rng(H);
    const M = randomParam([B, N, W], rng);
    const before = Float64Array.from(M.data);
    const heads = Array.from({ length: H }, () => head(rng));
    const y = writeMemory(M, heads);
    assert.deepEqual(y.shape, [B, N, W]);
    assertAllClose(y.data, naive(M.data, heads), 1e-15, 1e-13);
    assert.deepEqual(Array.from(M.data), Array.from(before), 'the previous memory is not modified');
  });

  test(`writeMemory (${H} head${H > 1 ? 's' : ''}): finite-difference gradients for memory and every head input`, () => {
    const rng = new Rng(10 + H);
    const M = randomParam([B, N, W], rng);
    const heads = Array.from({ length: H }, () => ({
      weights: randomParam([B, N], rng), erase: randomParam([B, W], rng), add: randomParam([B, W], rng),
    }));
    const c = probeWeights(B * N * W, rng);
    assertGradcheck(() => weightedSum(writeMemory(M, heads), c), [M, ...heads.flatMap((h) => [h.weights, h.erase, h.add])]);
  });
}

test('writeMemory: the order of the heads does not matter (all erase before any add)', () => {
  const rng = new Rng(20);
  const M = randomParam([B, N, W], rng);
  const heads = [head(rng), head(rng), head(rng)];
  const a = writeMemory(M, heads), b = writeMemory(M, [heads[2]!, heads[0]!, heads[1]!]);
  assertAllClose(a.data, b.data, 1e-15, 1e-14);
});

test('writeMemory: erase 1 on a one-hot weighting clears that slot; other slots are untouched', () => {
  const rng = new Rng(21);
  const M = randomParam([B, N, W], rng);
  const w = Tensor.zeros([B, N], 'f64', true);
  w.data[4] = 1; // batch 0: slot 4
  w.data[N + 0] = 1; // batch 1: slot 0
  const e = Tensor.full([B, W], 1, 'f64'), zeroAdd = Tensor.zeros([B, W], 'f64');
  const cleared = writeMemory(M, [{ weights: w, erase: e, add: zeroAdd }]);
  for (let b = 0; b < B; b++) {
    const slot = b === 0 ? 4 : 0;
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < W; j++) {
        const k = (b * N + i) * W + j;
        assert.equal(cleared.data[k], i === slot ? 0 : M.data[k], `b=${b} i=${i} j=${j}`);
      }
    }
  }
  // with an add vector, the slot then holds exactly the add vector
  const a = randomParam([B, W], rng);
  const replaced = writeMemory(M, [{ weights: w, erase: e, add: a }]);
  assert.deepEqual(Array.from(replaced.data.subarray(4 * W, 5 * W)), Array.from(a.data.subarray(0, W)));
  assert.deepEqual(Array.from(replaced.data.subarray(N * W, (N + 1) * W)), Array.from(a.data.subarray(W, 2 * W)));
});

test('writeMemory: a factor of exactly 0 (erase 1, weight 1) in one head keeps the other heads\' gradients right', () => {
  const rng = new Rng(22);
  const M = randomParam([B, N, W], rng);
  const w0 = Tensor.zeros([B, N], 'f64', true);
  w0.data[2] = 1; w0.data[N + 5] = 1;
  const e0 = Tensor.zeros([B, W], 'f64', true);
  e0.data.fill(1);
  const h0 = { weights: w0, erase: e0, add: randomParam([B, W], rng) };
  const h1 = { weights: randomParam([B, N], rng), erase: randomParam([B, W], rng), add: randomParam([B, W], rng) };
  const c = probeWeights(B * N * W, rng);
  assertGradcheck(() => weightedSum(writeMemory(M, [h0, h1]), c), [M, w0, e0, h0.add, h1.weights, h1.erase, h1.add]);
  assertFinite(h1.weights.grad!);
});

test('writeMemory: invariants — zero weights change nothing; erase in [0,1] never grows |M| before the add', () => {
  const rng = new Rng(23);
  const M = randomParam([B, N, W], rng);
  const zeroW = { weights: Tensor.zeros([B, N], 'f64'), erase: Tensor.full([B, W], 1, 'f64'), add: randomParam([B, W], rng) };
  assert.deepEqual(Array.from(writeMemory(M, [zeroW]).data), Array.from(M.data));
  assert.deepEqual(Array.from(writeMemory(M, []).data), Array.from(M.data), 'no heads: a copy of the memory');
  const heads = [head(rng), head(rng), head(rng)].map((h) => ({ ...h, add: Tensor.zeros([B, W], 'f64') }));
  const erased = writeMemory(M, heads);
  for (let k = 0; k < M.size; k++) {
    assert.ok(Math.abs(erased.data[k]!) <= Math.abs(M.data[k]!) + 1e-15);
    assert.ok(Math.sign(erased.data[k]!) === Math.sign(M.data[k]!) || erased.data[k] === 0);
  }
});

test('writeMemory: large add vectors and saturated erase stay finite with finite gradients', () => {
  const rng = new Rng(24);
  const M = randomParam([B, N, W], rng, 1e3);
  const heads = [0, 1, 2].map(() => ({
    weights: leaf(softmax(randomParam([B, N], rng, 50))),
    erase: Tensor.full([B, W], 1, 'f64'),
    add: randomParam([B, W], rng, 1e3),
  }));
  const tape = new Tape();
  const loss = onTape(tape, [M, ...heads.flatMap((h) => [h.weights, h.add])], () => {
    const y = writeMemory(M, heads);
    assertFinite(y.data);
    return weightedSum(y, probeWeights(B * N * W, rng));
  });
  tape.backward(loss);
  assertFinite(M.grad!);
  for (const h of heads) { assertFinite(h.weights.grad!); assertFinite(h.add.grad!); }
});

test('writeMemory: rejects head inputs of the wrong shape, naming both shapes', () => {
  const M = Tensor.zeros([B, N, W]);
  const ok = { weights: Tensor.zeros([B, N]), erase: Tensor.zeros([B, W]), add: Tensor.zeros([B, W]) };
  assert.throws(() => writeMemory(M, [ok, { ...ok, weights: Tensor.zeros([B, W]) }]), /writeMemory: write weights has shape \[2, 5\], expected \[2, 7\]/);
  assert.throws(() => writeMemory(M, [{ ...ok, erase: Tensor.zeros([B, N]) }]), /writeMemory: erase vector has shape \[2, 7\], expected \[2, 5\]/);
  assert.throws(() => writeMemory(M, [{ ...ok, add: Tensor.zeros([W]) }]), /writeMemory: add vector has shape \[5\], expected \[2, 5\]/);
});

test('writeMemory: float32 agrees with float64 (values and gradients), 1 and 3 heads, W = 5 and a wider W = 20', () => {
  for (const [b, n, w, H] of [[B, N, W, 1], [B, N, W, 3], [3, 16, 20, 2]] as const) {
    const rng = new Rng(30 + H);
    const M = randomParam([b, n, w], rng);
    const heads = Array.from({ length: H }, () => ({
      weights: leaf(softmax(randomParam([b, n], rng, 2))),
      erase: leaf(sigmoid(randomParam([b, w], rng, 2))),
      add: leaf(tanh(randomParam([b, w], rng))),
    }));
    const f32 = (t: Tensor): Tensor => Tensor.from(t.data, t.shape, 'f32', true);
    const M32 = f32(M);
    const heads32 = heads.map((h) => ({ weights: f32(h.weights), erase: f32(h.erase), add: f32(h.add) }));
    const c = probeWeights(b * n * w, rng);
    const t64 = new Tape(), t32 = new Tape();
    const leaves = (m: Tensor, hs: typeof heads): Tensor[] => [m, ...hs.flatMap((h) => [h.weights, h.erase, h.add])];
    const y64 = onTape(t64, leaves(M, heads), () => writeMemory(M, heads));
    const y32 = onTape(t32, leaves(M32, heads32), () => writeMemory(M32, heads32));
    t64.backward(weightedSum(y64, c));
    t32.backward(weightedSum(y32, c));
    const what = `(B=${b}, N=${n}, W=${w}, ${H} heads)`;
    assert.ok(y32.data instanceof Float32Array);
    assertAllClose(y32.data, y64.data, 1e-5, 1e-5, `M_t ${what}`);
    assertAllClose(M32.grad!, M.grad!, 1e-5, 1e-5, `dM ${what}`);
    heads.forEach((h, i) => {
      assertAllClose(heads32[i]!.weights.grad!, h.weights.grad!, 1e-4, 1e-4, `dw head ${i} ${what}`);
      assertAllClose(heads32[i]!.erase.grad!, h.erase.grad!, 1e-4, 1e-4, `de head ${i} ${what}`);
      assertAllClose(heads32[i]!.add.grad!, h.add.grad!, 1e-4, 1e-4, `da head ${i} ${what}`);
    });
  }
});
