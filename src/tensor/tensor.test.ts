import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addScalars, sigmoid, weightedSum } from './ops.js';
import { dtypeOf, expectShape, sizeOf, Tensor } from './tensor.js';
import { BufferPool } from './pool.js';
import { OpContext } from './context.js';
import { onTape, Tape } from './tape.js';

test('Tensor: constructor rejects a buffer of the wrong size, naming the shape and both sizes', () => {
  assert.throws(
    () => new Tensor(new Float32Array(6), [2, 7]),
    /Tensor: shape \[2, 7\] needs 14 elements, buffer has 6/,
  );
});

test('Tensor: zeros, from, full, dtype, size and the lazily allocated gradient', () => {
  assert.equal(sizeOf([2, 7, 5]), 70);
  assert.equal(sizeOf([]), 1);
  assert.equal(dtypeOf(new Float64Array(1)), 'f64');
  assert.equal(dtypeOf(new Float32Array(1)), 'f32');

  const z = Tensor.zeros([2, 3], 'f64', true);
  assert.equal(z.dtype, 'f64');
  assert.equal(z.size, 6);
  assert.equal(z.requiresGrad, true);
  assert.deepEqual(Array.from(z.data), [0, 0, 0, 0, 0, 0]);
  assert.equal(Tensor.zeros([1]).dtype, 'f32');

  const f = Tensor.from([1, 2, 3, 4, 5, 6], [3, 2]);
  assert.deepEqual(f.shape, [3, 2]);
  assert.ok(f.data instanceof Float32Array);
  assert.deepEqual(Array.from(f.data), [1, 2, 3, 4, 5, 6]);
  assert.equal(f.requiresGrad, false);

  const full = Tensor.full([2, 2], 0.25, 'f64');
  assert.deepEqual(Array.from(full.data), [0.25, 0.25, 0.25, 0.25]);

  assert.equal(f.grad, null);
  const g = f.g();
  assert.ok(g instanceof Float32Array);
  assert.equal(g.length, 6);
  g[2] = 7;
  assert.equal(f.g()[2], 7, 'g() returns the same buffer on later calls');
});

test('a tensor carries its context; an op takes its context from its inputs, and records only where that has a tape', () => {
  const x = Tensor.from([0.5, -1], [2], 'f64', true);
  assert.equal(x.ctx, OpContext.plain, 'made outside a step: the plain context (no pool, no tape)');
  const y = sigmoid(x);
  assert.equal(y.requiresGrad, false, 'an op on plain tensors gives an output that needs no gradient');
  const tape = new Tape();
  const ctx = new OpContext(null, tape, null);
  const c = Tensor.from([0.5, -1], [2], 'f64', false, ctx);
  const a = sigmoid(c);
  assert.equal(a.requiresGrad, false, 'no input requires a gradient: nothing to record');
  assert.equal(tape.length, 0);
  assert.equal(a.ctx, ctx, 'the output carries the context of its input');
  const b = addScalars([weightedSum(x, [1, 1]), weightedSum(a, [1, 1])]);
  assert.equal(b.ctx, ctx, 'a plain input gives way to one in a context');
  assert.equal(b.requiresGrad, false, 'x (plain) needs a gradient, but it is recorded only in a context with a tape: here, through x\'s own context, none');
});

test('onTape: the leaves record on the tape while fn runs, and get their own context back after, also when fn throws', () => {
  const x = Tensor.from([0.5, -1], [2], 'f64', true);
  const c = Tensor.from([0.5, -1], [2], 'f64', false);
  const tape = new Tape();
  const out = onTape(tape, [x, c], () => {
    assert.equal(x.ctx.tape, tape);
    const a = sigmoid(c);
    assert.equal(a.requiresGrad, false);
    assert.equal(tape.length, 0);
    const b = sigmoid(x);
    assert.equal(b.requiresGrad, true);
    assert.equal(tape.length, 1);
    return 42;
  });
  assert.equal(out, 42);
  assert.equal(x.ctx, OpContext.plain);
  assert.throws(() => onTape(tape, [x], () => { throw new Error('boom'); }), /boom/);
  assert.equal(x.ctx, OpContext.plain);
  assert.equal(sigmoid(x).requiresGrad, false, 'outside onTape: nothing recorded');
});

test('OpContext.alloc: ordinary arrays of the dtype without a pool, the pool\'s with one', () => {
  assert.ok(OpContext.plain.alloc('f64', 3) instanceof Float64Array);
  assert.ok(OpContext.plain.alloc('f32', 3) instanceof Float32Array);
  const pool = new BufferPool();
  const first = OpContext.step(pool).alloc('f32', 4);
  const again = OpContext.step(pool).alloc('f32', 4);
  assert.equal(again, first, 'the next step of the pool is handed the same buffer');
  const t = Tensor.zeros([2, 2], 'f32', true, OpContext.step(pool));
  assert.equal(t.data, first, 'a tensor made in a context takes its buffer from its pool');
});

test('Tape.backward: seeds 1, accumulates into a tensor used twice, and empties the tape', () => {
  const x = Tensor.from([1, 2, 3], [3], 'f64', true);
  const tape = new Tape();
  const loss = onTape(tape, [x], () => addScalars([weightedSum(x, [1, 2, 3]), weightedSum(x, [10, 20, 30])]));
  assert.equal(loss.data[0], 1 * 1 + 2 * 2 + 3 * 3 + 10 * 1 + 20 * 2 + 30 * 3);
  assert.equal(tape.length, 3);
  tape.backward(loss);
  assert.deepEqual(Array.from(x.grad!), [11, 22, 33]);
  assert.equal(loss.grad![0], 1);
  assert.equal(tape.length, 0);
});

test('Tape.backward: rejects a non-scalar loss, naming its shape', () => {
  const tape = new Tape();
  assert.throws(() => tape.backward(Tensor.zeros([2, 3])), /backward: loss must be a scalar, got shape \[2, 3\]/);
});

test('expectShape: passes on equal shapes; the error names the op, the tensor and both shapes', () => {
  expectShape('myOp', 'thing', Tensor.zeros([2, 7]), [2, 7]);
  assert.throws(() => expectShape('myOp', 'thing', Tensor.zeros([2, 7]), [7, 2]), /myOp: thing has shape \[2, 7\], expected \[7, 2\]/);
  assert.throws(() => expectShape('myOp', 'thing', Tensor.zeros([14]), [2, 7]), /myOp: thing has shape \[14\], expected \[2, 7\]/);
});
