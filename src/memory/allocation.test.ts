import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advanceUsage, ALLOCATION_EPS, allocationWeights, writeAllocations } from './allocation.js';
import { addScalars, weightedSum } from '../tensor/ops.js';
import { probeWeights } from '../tensor/gradcheck.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { onTape, Tape } from '../tensor/tape.js';
import { assertAllClose, assertFinite, assertGradcheck } from '../tensor/testing.js';

// Distinct sizes so a swapped axis fails: B=2, N=7, Wh=3.
const B = 2, N = 7, Wh = 3;
const EPS = ALLOCATION_EPS;

function tensor(values: number[], shape: number[], requiresGrad = true): Tensor {
  return Tensor.from(values, shape, 'f64', requiresGrad);
}

/**
 * Naive allocation of one row: repeatedly take the freest remaining slot (lowest index on ties),
 * giving it (1 − û) times the product of the û already taken.
 */
function naiveRow(u: number[]): number[] {
  const hat = u.map((v) => EPS + (1 - EPS) * v);
  const a = new Array<number>(u.length).fill(0);
  const taken = new Set<number>();
  let prod = 1;
  while (taken.size < u.length) {
    let best = -1;
    for (let n = 0; n < u.length; n++) if (!taken.has(n) && (best < 0 || hat[n]! < hat[best]!)) best = n;
    taken.add(best);
    a[best] = (1 - hat[best]!) * prod;
    prod *= hat[best]!;
  }
  return a;
}

function naive(u: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++) out.push(...naiveRow(Array.from(u).slice(b * N, (b + 1) * N)));
  return out;
}

/** Usage rows with no near-ties: a permutation of well-separated values in (0, 1). */
function separatedUsage(rng: Rng): Tensor {
  const t = Tensor.zeros([B, N], 'f64', true);
  for (let b = 0; b < B; b++) {
    const vals = Array.from({ length: N }, (_, i) => (i + 0.5 + 0.3 * (rng.uniform() - 0.5)) / N);
    for (let i = N - 1; i > 0; i--) { const j = rng.int(0, i); [vals[i], vals[j]] = [vals[j]!, vals[i]!]; }
    for (let n = 0; n < N; n++) t.data[b * N + n] = vals[n]!;
  }
  return t;
}

const TIES = [0.5, 0.2, 0.5, 0.2, 0.9, 0.2, 0, /* row 2 */ 0.3, 0.3, 0.3, 0.1, 1, 1, 0.1];

test('allocationWeights: shape and naive reference on random usage', () => {
  const u = separatedUsage(new Rng(1));
  const a = allocationWeights(u);
  assert.deepEqual(a.shape, [B, N]);
  assertAllClose(a.data, naive(u.data), 1e-15, 1e-12);
});

test('allocationWeights: ties go to the lower index first', () => {
  const a = allocationWeights(tensor(TIES, [B, N]));
  assertAllClose(a.data, naive(TIES), 1e-15, 1e-12);
  // row 0: slot 6 (u = 0) first, then slots 1, 3, 5 (u = 0.2) in that order
  const h = (v: number): number => EPS + (1 - EPS) * v;
  assert.ok(Math.abs(a.data[6]! - (1 - h(0))) < 1e-15);
  assert.ok(Math.abs(a.data[1]! - (1 - h(0.2)) * h(0)) < 1e-15);
  assert.ok(Math.abs(a.data[3]! - (1 - h(0.2)) * h(0) * h(0.2)) < 1e-15);
  assert.ok(a.data[1]! > a.data[3]! && a.data[3]! > a.data[5]!);
});

test('allocationWeights: all-free memory allocates slot 0, all-used memory allocates nothing', () => {
  const free = allocationWeights(Tensor.zeros([B, N], 'f64'));
  assertAllClose(free.data, naive(new Array(B * N).fill(0)), 1e-15, 1e-12);
  for (let b = 0; b < B; b++) {
    assert.equal(free.data[b * N], 1 - EPS);
    for (let n = 1; n < N; n++) assert.ok(free.data[b * N + n]! < 1e-5);
  }
  const used = allocationWeights(Tensor.full([B, N], 1, 'f64'));
  for (const v of used.data) assert.equal(v, 0);
});

test('allocationWeights: entries ≥ 0 and Σ a = 1 − Π û ≤ 1, float32 too', () => {
  const rng = new Rng(2);
  for (const dtype of ['f64', 'f32'] as const) {
    for (let trial = 0; trial < 10; trial++) {
      const u = Tensor.zeros([B, N], dtype);
      for (let k = 0; k < u.size; k++) u.data[k] = trial % 3 === 0 ? rng.int(0, 2) / 2 : rng.uniform();
      const a = allocationWeights(u);
      for (let b = 0; b < B; b++) {
        let s = 0, p = 1;
        for (let n = 0; n < N; n++) {
          assert.ok(a.data[b * N + n]! >= 0);
          s += a.data[b * N + n]!;
          p *= EPS + (1 - EPS) * u.data[b * N + n]!;
        }
        assert.ok(s <= 1 + 1e-6, `Σ a = ${s}`);
        assert.ok(Math.abs(s - (1 - p)) < (dtype === 'f64' ? 1e-12 : 1e-5));
      }
    }
  }
});

test('allocationWeights: finite-difference gradient through the values (usage with no near-ties)', () => {
  const rng = new Rng(3);
  const u = separatedUsage(rng);
  const c = probeWeights(B * N, rng);
  assertGradcheck(() => weightedSum(allocationWeights(u), c), [u]);
});

test('allocationWeights: finite gradients for all-free and all-used memory', () => {
  // every slot tied: the sort is not differentiable here, so only finiteness is checked
  const c = probeWeights(B * N, new Rng(4));
  for (const fill of [0, 1]) {
    const u = Tensor.full([B, N], fill, 'f64');
    const p = new Tensor(u.data, u.shape, true);
    const tape = new Tape();
    tape.backward(onTape(tape, [p], () => weightedSum(allocationWeights(p), c)));
    assert.notEqual(p.grad, null);
    assertFinite(p.grad!, `gradient for usage ${fill}`);
  }
});

test('advanceUsage: naive reference and finite-difference gradients', () => {
  const rng = new Rng(5);
  const u = separatedUsage(rng), a = separatedUsage(rng);
  const ga = tensor([0.3, 0.8], [B, 1]), gw = tensor([0.6, 0.9], [B, 1]);
  const y = advanceUsage(u, a, ga, gw);
  const expected = Array.from(u.data, (v, x) => {
    const b = Math.floor(x / N);
    return v + (1 - v) * ga.data[b]! * gw.data[b]! * a.data[x]!;
  });
  assertAllClose(y.data, expected, 1e-15, 1e-12);
  const c = probeWeights(B * N, rng);
  assertGradcheck(() => weightedSum(advanceUsage(u, a, ga, gw), c), [u, a, ga, gw]);
});

/** Naive multi-head allocation: DeepMind's loop with a local usage copy. */
function naiveHeads(u0: ArrayLike<number>, gates: { ga: number[]; gw: number[] }[]): number[][] {
  let u = Array.from(u0);
  return gates.map(({ ga, gw }) => {
    const a = naive(u);
    u = u.map((v, x) => v + (1 - v) * ga[Math.floor(x / N)]! * gw[Math.floor(x / N)]! * a[x]!);
    return a;
  });
}

test('writeAllocations: later heads allocate from the advanced usage; stored usage untouched', () => {
  const rng = new Rng(6);
  const u = separatedUsage(rng);
  const before = Float64Array.from(u.data);
  const gates = Array.from({ length: Wh }, () => ({ ga: [rng.uniform(), rng.uniform()], gw: [rng.uniform(), rng.uniform()] }));
  const out = writeAllocations(u, gates.map((g) => ({ allocGate: tensor(g.ga, [B, 1]), writeGate: tensor(g.gw, [B, 1]) })));
  assert.equal(out.length, Wh);
  naiveHeads(u.data, gates).forEach((e, h) => assertAllClose(out[h]!.data, e, 1e-15, 1e-12, `head ${h}`));
  assert.deepEqual(Array.from(u.data), Array.from(before));
  // fully gated heads on free memory each take a different slot, head 0 the first
  const one = (): Tensor => Tensor.full([B, 1], 1, 'f64');
  const seq = writeAllocations(Tensor.zeros([B, N], 'f64'), Array.from({ length: Wh }, () => ({ allocGate: one(), writeGate: one() })));
  for (let b = 0; b < B; b++) {
    const slots = seq.map((a) => {
      const row = Array.from(a.data.subarray(b * N, (b + 1) * N));
      assert.ok(Math.max(...row) > 0.99);
      return row.indexOf(Math.max(...row));
    });
    assert.equal(slots[0], 0);
    assert.equal(new Set(slots).size, Wh, `heads allocated slots ${slots.join(', ')}`);
  }
});

test('writeAllocations: finite-difference gradients to usage and every gate', () => {
  const rng = new Rng(7);
  const u = separatedUsage(rng);
  const ga = Array.from({ length: Wh }, () => tensor([rng.uniform(), rng.uniform()], [B, 1]));
  const gw = Array.from({ length: Wh }, () => tensor([rng.uniform(), rng.uniform()], [B, 1]));
  const cs = Array.from({ length: Wh }, () => probeWeights(B * N, rng));
  const f = (): Tensor => {
    const out = writeAllocations(u, ga.map((g, h) => ({ allocGate: g, writeGate: gw[h]! })));
    return addScalars(out.map((a, h) => weightedSum(a, cs[h]!)));
  };
  // the last head's gates only advance a usage no head reads: their gradient is exactly 0
  assertGradcheck(f, [u, ...ga, ...gw]);
  assert.ok(ga[Wh - 1]!.grad === null || ga[Wh - 1]!.grad!.every((v) => v === 0));
  assert.ok(ga[0]!.grad!.some((v) => v !== 0));
});
