import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULTS, type ModelConfig } from '../config/schema.js';
import { maskedBceLoss } from '../train/loss.js';
import type { Batch } from '../tasks/batch.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { onTape, Tape } from '../tensor/tape.js';
import { assertAllClose, assertGradcheck } from '../tensor/testing.js';
import { Dnc } from './dnc.js';
import type { MemoryModel } from './model.js';
import { Ntm } from './ntm.js';
import { LstmStack } from './lstm-stack.js';
import { checkRows, keepRows } from './recurrent.js';
import { OpContext } from '../tensor/context.js';

// Distinct sizes: B=5 samples, T=6 steps, X=3, Y=4; the samples stop scoring after 6, 6, 4, 3, 1 steps.
const B = 5, T = 6, X = 3, Y = 4;
const NEEDS = [6, 6, 4, 3, 1];
/** the samples still needing steps: all five at step 0, then four, four, three, two, two */
const ROWS = [5, 4, 4, 3, 2, 2];

const models: [string, (rng: Rng, dt: 'f32' | 'f64') => MemoryModel][] = [
  ['Ntm', (rng, dt) => new Ntm({ ...DEFAULTS.model, type: 'ntm', hiddenSize: 6, memorySlots: 7, wordSize: 5, readHeads: 2, writeHeads: 1 }, X, Y, rng, dt)],
  ['Dnc', (rng, dt) => new Dnc({ ...DEFAULTS.model, type: 'dnc', hiddenSize: 6, memorySlots: 7, wordSize: 5, readHeads: 2, writeHeads: 2 } as ModelConfig, X, Y, rng, dt, { stopWriteGradientInUsage: false })],
  ['LstmStack', (rng, dt) => new LstmStack({ ...DEFAULTS.model, type: 'lstm', hiddenSize: 6, layers: 2 }, X, Y, rng, dt)],
];

/** Sample b is scored at steps 1..NEEDS[b]−1 (none after: a batch sorted longest first). */
function batch(rng: Rng): Batch {
  const input = new Float32Array(T * B * X), target = new Float32Array(T * B * Y), mask = new Float32Array(T * B);
  for (let k = 0; k < input.length; k++) input[k] = rng.bit();
  for (let k = 0; k < target.length; k++) target[k] = rng.bit();
  for (let b = 0; b < B; b++) for (let t = 0; t < NEEDS[b]!; t++) mask[t * B + b] = t === 0 && NEEDS[b]! > 1 ? 0 : 1;
  return { T, B, X, Y, input, target, mask, lengths: NEEDS.map(() => 1), repeats: NEEDS.map(() => 1) };
}

for (const [name, make] of models) {
  test(`${name}.forward with rows: step t runs the first rows[t] samples, each with the logits of the whole batch to the bit`, () => {
    const model = make(new Rng(1), 'f32');
    const b = batch(new Rng(2));
    const whole = model.forward(OpContext.plain, b.input, T, B);
    const part = model.forward(OpContext.plain, b.input, T, B, undefined, ROWS);
    for (let t = 0; t < T; t++) {
      assert.deepEqual(part[t]!.shape, [ROWS[t], Y]);
      assert.deepEqual(part[t]!.data, whole[t]!.data.subarray(0, ROWS[t]! * Y), `step ${t}`);
    }
  });

  test(`${name}: the loss of a forward with rows, and its gradients, are the whole batch's (float64); finite differences agree`, () => {
    const model = make(new Rng(3), 'f64');
    const b = batch(new Rng(4));
    const params = [...model.params.values()];
    const grads = (rows?: number[]): { loss: number; g: Float64Array[] } => {
      for (const p of params) p.grad = null;
      const tape = new Tape();
      const loss = maskedBceLoss(model.forward(new OpContext(null, tape, null), b.input, T, B, undefined, rows), b);
      tape.backward(loss);
      return { loss: loss.data[0]!, g: params.map((p) => Float64Array.from(p.grad ?? new Float64Array(p.size))) };
    };
    const whole = grads(), part = grads(ROWS);
    assertAllClose([part.loss], [whole.loss], 0, 1e-12, 'loss');
    part.g.forEach((g, i) => assertAllClose(g, whole.g[i]!, 1e-15, 1e-9, `gradient ${i}`));
    assertGradcheck((ctx) => maskedBceLoss(model.forward(ctx, b.input, T, B, undefined, ROWS), b), params, { maxPerInput: 4, eps: 1e-5, atol: 1e-10, rtol: 1e-4 });
  });
}

test('checkRows: T whole numbers from 1 to B, none above the one before; each mistake named', () => {
  checkRows('M', ROWS, T, B);
  checkRows('M', [5, 5, 5, 5, 5, 5, 9], T, B); // (entries past T are not read)
  assert.throws(() => checkRows('M', [5, 4], T, B), /M.forward: rows has 2 entries for T=6 time steps/);
  assert.throws(() => checkRows('M', [6, 4, 4, 3, 2, 2], T, B), /M.forward: rows\[0\] = 6; each must be a whole number from 1 to the one before \(and to B=5\)/);
  assert.throws(() => checkRows('M', [5, 4, 5, 3, 2, 2], T, B), /rows\[2\] = 5/);
  // a loss given logits without a row that is still scored says so
  const model0 = models[0]![1](new Rng(7), 'f32'), b0 = batch(new Rng(8));
  assert.throws(() => maskedBceLoss(model0.forward(OpContext.plain, b0.input, T, B, undefined, [5, 4, 3, 3, 2, 2]), b0), /maskedBceLoss: logits at step 2 have 3 rows, but sample 3 is scored there/);
  assert.throws(() => checkRows('M', [5, 4, 3, 0, 0, 0], T, B), /rows\[3\] = 0/);
  assert.throws(() => checkRows('M', [5, 2.5, 2, 2, 2, 2], T, B), /rows\[1\] = 2.5/);
  const model = models[0]![1](new Rng(5), 'f32');
  assert.throws(() => model.forward(OpContext.plain, batch(new Rng(6)).input, T, B, undefined, [5, 6, 1, 1, 1, 1]), /Ntm.forward: rows\[1\] = 6/);
});

test('keepRows: every tensor of a state, alone or in an array, cut to its first rows; other fields kept', () => {
  const state = { h: Tensor.from([1, 2, 3, 4, 5, 6], [3, 2]), heads: [Tensor.from([1, 2, 3], [3]), 'x'], step: 7 };
  const cut = keepRows(state, 2);
  assert.deepEqual(Array.from(cut.h.data), [1, 2, 3, 4]);
  assert.deepEqual((cut.heads[0] as Tensor).shape, [2]);
  assert.equal(cut.heads[1], 'x');
  assert.equal(cut.step, 7);
  assert.deepEqual(Array.from(state.h.data), [1, 2, 3, 4, 5, 6], 'the state itself is unchanged');
});
