import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradcheck, probeWeights, randomParam } from './gradcheck.js';
import { addScalars, weightedSum } from './ops.js';
import { Rng } from './random.js';
import { Tensor } from './tensor.js';
import { contextOf } from './op.js';

/**
 * y = x², elementwise, with a backward of `factor`·x: factor 2 is right, anything else wrong.
 * A deliberately breakable op built from the public Tensor / OpContext API.
 */
function square(x: Tensor, factor: number): Tensor {
  const ctx = x.ctx, tape = x.requiresGrad ? ctx.tape : null;
  const yd = ctx.alloc(x.dtype, x.size);
  for (let i = 0; i < x.size; i++) yd[i] = x.data[i]! * x.data[i]!;
  const y = new Tensor(yd, x.shape, tape !== null, ctx);
  if (tape) {
    tape.push(() => {
      const gy = y.grad;
      if (gy === null) return;
      const gx = x.g();
      for (let i = 0; i < x.size; i++) gx[i]! += gy[i]! * factor * x.data[i]!;
    });
  }
  return y;
}

/** x·y elementwise; `dropSecond` forgets y's gradient (a classic bug). */
function mul(x: Tensor, y: Tensor, dropSecond: boolean): Tensor {
  const ctx = contextOf([x, y]), tape = x.requiresGrad || y.requiresGrad ? ctx.tape : null;
  const zd = ctx.alloc(x.dtype, x.size);
  for (let i = 0; i < x.size; i++) zd[i] = x.data[i]! * y.data[i]!;
  const z = new Tensor(zd, x.shape, tape !== null, ctx);
  if (tape) {
    tape.push(() => {
      const gz = z.grad!;
      if (x.requiresGrad) for (let i = 0; i < x.size; i++) x.g()[i]! += gz[i]! * y.data[i]!;
      if (y.requiresGrad && !dropSecond) for (let i = 0; i < y.size; i++) y.g()[i]! += gz[i]! * x.data[i]!;
    });
  }
  return z;
}

test('gradcheck: passes a correct backward', () => {
  const rng = new Rng(1);
  const x = randomParam([2, 3], rng);
  const c = probeWeights(6, rng);
  const r = gradcheck(() => weightedSum(square(x, 2), c), [x]);
  assert.equal(r.ok, true, r.worst);
  assert.equal(r.checked, 6);
  assert.ok(r.maxAbsErr < 1e-8, `max abs error ${r.maxAbsErr}`);
});

test('gradcheck: FAILS on a deliberately wrong backward, and names the worst element', () => {
  const rng = new Rng(2);
  const x = randomParam([2, 3], rng);
  const c = probeWeights(6, rng);
  for (const factor of [3, 1.9, 2.001, -2, 0]) {
    const r = gradcheck(() => weightedSum(square(x, factor), c), [x]);
    assert.equal(r.ok, false, `factor ${factor} should fail`);
    assert.ok(r.maxAbsErr > 0);
    assert.match(r.worst, /input 0 \[2, 3\] element \d+: analytic .*, numeric /);
  }
});

test('gradcheck: catches a gradient missing for the second input only', () => {
  const rng = new Rng(3);
  const x = randomParam([4], rng), y = randomParam([4], rng);
  const c = probeWeights(4, rng);
  assert.equal(gradcheck(() => weightedSum(mul(x, y, false), c), [x, y]).ok, true);
  const bad = gradcheck(() => weightedSum(mul(x, y, true), c), [x, y]);
  assert.equal(bad.ok, false);
  assert.match(bad.worst, /^input 1 \[4\]/);
  // checking x alone does not see y's bug
  assert.equal(gradcheck(() => weightedSum(mul(x, y, true), c), [x]).ok, true);
});

test('gradcheck: a NaN gradient fails', () => {
  const x = randomParam([3], new Rng(4));
  const r = gradcheck(() => weightedSum(square(x, NaN), [1, 1, 1]), [x]);
  assert.equal(r.ok, false);
  assert.match(r.worst, /analytic NaN/);
});

test('gradcheck: maxPerInput limits the elements checked per input; inputs are restored', () => {
  const rng = new Rng(5);
  const x = randomParam([7, 5], rng), y = randomParam([3], rng);
  const before = Float64Array.from(x.data);
  const cx = probeWeights(35, rng), cy = probeWeights(3, rng);
  const f = (): Tensor => addScalars([weightedSum(square(x, 2), cx), weightedSum(square(y, 2), cy)]);
  const r = gradcheck(f, [x, y], { maxPerInput: 4 });
  assert.equal(r.ok, true, r.worst);
  assert.equal(r.checked, 4 + 3);
  assert.deepEqual(Array.from(x.data), Array.from(before));
});

test('gradcheck: rejects float32 inputs and inputs that need no gradient', () => {
  const f32 = Tensor.zeros([2], 'f32', true);
  assert.throws(() => gradcheck(() => weightedSum(f32, [1, 1]), [f32]), /gradcheck: inputs must be float64 tensors/);
  const noGrad = Tensor.zeros([2], 'f64', false);
  assert.throws(() => gradcheck(() => weightedSum(noGrad, [1, 1]), [noGrad]), /gradcheck: inputs must require gradients/);
});

test('randomParam and probeWeights: float64, requiring gradients, seeded', () => {
  const a = randomParam([2, 7], new Rng(6), 3), b = randomParam([2, 7], new Rng(6), 3);
  assert.equal(a.dtype, 'f64');
  assert.equal(a.requiresGrad, true);
  assert.deepEqual(a.shape, [2, 7]);
  assert.deepEqual(Array.from(a.data), Array.from(b.data));
  assert.ok(a.data.some((v) => Math.abs(v) > 1), 'scale 3 reaches beyond ±1');
  const p = probeWeights(5, new Rng(6));
  assert.equal(p.length, 5);
  assert.ok(p.every((v) => Number.isFinite(v) && v !== 0));
});
