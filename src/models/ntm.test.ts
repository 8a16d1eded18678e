import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ntm, ntmReadParts, ntmWriteParts } from './ntm.js';
import { MEMORY_INIT } from './recurrent.js';
import { clampOutput } from './controller.js';
import { countParams } from './params.js';
import type { StepSnapshot } from './model.js';
import { cloneConfig, DEFAULTS, type ModelConfig } from '../config/schema.js';
import { copyTask } from '../tasks/copy.js';
import { maskedBceLoss } from '../train/loss.js';
import { circularShift } from '../memory/shift.js';
import { contentWeights } from '../memory/content.js';
import { interpolate } from '../memory/interpolate.js';
import { readMemory } from '../memory/read.js';
import { sharpen } from '../memory/sharpen.js';
import { writeMemory } from '../memory/write.js';
import { initLstm, lstmCell } from '../nn/lstm.js';
import { linear } from '../nn/linear.js';
import { clamp, oneplus, sigmoid, softmax, softplus, tanh, weightedSum } from '../tensor/ops.js';
import { concat } from '../nn/columns.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { onTape, Tape } from '../tensor/tape.js';
import { assertAllClose, assertFinite, assertGradcheck } from '../tensor/testing.js';
import { OpContext } from '../tensor/context.js';

// Distinct sizes so a swapped axis fails: H=3, N=7, W=5, R=2 read heads, Wh=2 write heads, X=6, Y=4.
const H = 3, N = 7, W = 5, R = 2, Wh = 2;
const task = copyTask({ bits: 4, minWords: 1, maxWords: 2 });
const X = task.inputSize, Y = task.outputSize;

function tinyConfig(over: Partial<ModelConfig> = {}): ModelConfig {
  const c = cloneConfig(DEFAULTS).model;
  return { ...c, hiddenSize: H, memorySlots: N, wordSize: W, readHeads: R, writeHeads: Wh, shiftRange: 1, clip: 20, ...over };
}

/** Parameter count by hand: PyTorch LSTM (two biases) or Linear controller, one Linear per head part, output Linear. */
function expectedCount(c: ModelConfig, X: number, Y: number): number {
  const z = X + c.readHeads * c.wordSize;
  const H = c.hiddenSize;
  const controller = c.controller === 'lstm' ? 4 * H * z + 4 * H * H + 2 * 4 * H : H * z + H;
  const S = 2 * c.shiftRange + 1;
  const readOut = c.wordSize + 1 + 1 + S + 1; // key, β, g, s, γ
  const writeOut = readOut + 2 * c.wordSize; // + erase, add
  const heads = c.writeHeads * (H + 1) * writeOut + c.readHeads * (H + 1) * readOut;
  const output = (H + c.readHeads * c.wordSize + 1) * Y;
  return controller + heads + output;
}

test('Ntm: the reference ntm-copy config has 63,060 trainable parameters', () => {
  const model = new Ntm(cloneConfig(DEFAULTS).model, 10, 8, new Rng(1));
  assert.equal(countParams(model.params), 63_060);
  assert.equal(expectedCount(DEFAULTS.model, 10, 8), 63_060);
  assert.deepEqual(model.params.get('controller.lstm.weight_ih')!.shape, [400, 30]);
  assert.deepEqual(model.params.get('controller.lstm.weight_hh')!.shape, [400, 100]);
  assert.deepEqual(model.params.get('heads.write.0.shift.weight')!.shape, [3, 100]);
  assert.deepEqual(model.params.get('output.weight')!.shape, [8, 120]);
});

test('Ntm: parameter count and names for the tiny config, LSTM and feed-forward', () => {
  for (const controller of ['lstm', 'feedforward'] as const) {
    const c = tinyConfig({ controller });
    const model = new Ntm(c, X, Y, new Rng(2), 'f64');
    assert.equal(countParams(model.params), expectedCount(c, X, Y), controller);
    for (const t of model.params.values()) { assert.equal(t.dtype, 'f64'); assert.ok(t.requiresGrad); }
    for (let h = 0; h < Wh; h++) for (const p of ntmWriteParts(W, 1)) assert.ok(model.params.has(`heads.write.${h}.${p.name}.weight`));
    for (let h = 0; h < R; h++) for (const p of ntmReadParts(W, 1)) assert.ok(model.params.has(`heads.read.${h}.${p.name}.bias`));
    assert.equal(model.params.has('heads.write.2.key.weight'), false);
    assert.equal(model.params.has('controller.ff.weight'), controller === 'feedforward');
  }
  assert.equal(expectedCount(tinyConfig(), X, Y), 564);
});

test('Ntm: initial state — h, c = 0; memory and reads 1e-6; every previous weighting one-hot on slot 0', () => {
  const model = new Ntm(tinyConfig(), X, Y, new Rng(3), 'f64');
  const B = 2;
  const s = model.initialState(OpContext.plain, B);
  assert.equal(MEMORY_INIT, 1e-6);
  assert.deepEqual(s.h.shape, [B, H]);
  assert.deepEqual(s.c.shape, [B, H]);
  assert.ok(s.h.data.every((v) => v === 0) && s.c.data.every((v) => v === 0));
  assert.deepEqual(s.memory.shape, [B, N, W]);
  assert.ok(s.memory.data.every((v) => v === 1e-6));
  assert.equal(s.reads.length, R);
  for (const r of s.reads) { assert.deepEqual(r.shape, [B, W]); assert.ok(r.data.every((v) => v === 1e-6)); }
  assert.equal(s.readWeights.length, R);
  assert.equal(s.writeWeights.length, Wh);
  const oneHot = [1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const w of [...s.readWeights, ...s.writeWeights]) {
    assert.deepEqual(w.shape, [B, N]);
    assert.deepEqual(Array.from(w.data), oneHot);
    assert.equal(w.requiresGrad, false);
  }
  assert.ok(s.memory.data instanceof Float64Array);
  // a float32 model starts from the same state in float32
  const s32 = new Ntm(tinyConfig(), X, Y, new Rng(3)).initialState(OpContext.plain, B);
  assert.ok(s32.memory.data instanceof Float32Array);
  assert.ok(s32.memory.data.every((v) => v === Math.fround(1e-6)));
  // the initial state is fresh for every call: mutating one does not leak into the next
  s.memory.data[0] = 5;
  assert.equal(model.initialState(OpContext.plain, B).memory.data[0], 1e-6);
});

test('Ntm.forward: T logits of [B, Y] within ±clip, every step observed with valid weightings', () => {
  const model = new Ntm(tinyConfig(), X, Y, new Rng(4), 'f64');
  const batch = task.sample(new Rng(5), 2, { length: 2 });
  const seen: [number, StepSnapshot][] = [];
  const logits = model.forward(OpContext.plain, batch.input, batch.T, batch.B, (t, s) => seen.push([t, s]));
  assert.equal(logits.length, batch.T);
  for (const z of logits) { assert.deepEqual(z.shape, [2, Y]); assertFinite(z.data); for (const v of z.data) assert.ok(Math.abs(v) <= 20); }
  assert.deepEqual(seen.map(([t]) => t), [0, 1, 2, 3, 4, 5]);
  for (const [, s] of seen) {
    assert.deepEqual(s.memory.shape, [2, N, W]);
    assert.equal(s.writeWeights.length, Wh);
    assert.equal(s.readWeights.length, R);
    for (const w of [...s.writeWeights, ...s.readWeights]) {
      assert.deepEqual(w.shape, [2, N]);
      for (let b = 0; b < 2; b++) {
        let sum = 0;
        for (let i = 0; i < N; i++) { const v = w.data[b * N + i]!; assert.ok(v >= 0); sum += v; }
        assert.ok(sum <= 1 + 1e-12 && sum > 0.99, `weighting sums to ${sum}`);
      }
    }
    for (const key of ['write.0.gate', 'write.1.erase', 'write.1.add', 'read.1.shift', 'read.0.gamma', 'read.0.content']) {
      assert.ok(key in s.signals, `signal ${key}`);
    }
    for (const g of [s.signals['read.0.gamma']!, s.signals['write.1.gamma']!]) for (const v of g.data) assert.ok(v >= 1);
    assert.deepEqual(s.signals['read.1.shift']!.shape, [2, 3]);
  }
  // the first step's write changed memory away from the constant start
  assert.ok(seen[0]![1].memory.data.some((v) => Math.abs(v - 1e-6) > 1e-3));
});

test('Ntm.forward: rejects an input of the wrong length, naming T·B·X', () => {
  const model = new Ntm(tinyConfig(), X, Y, new Rng(6), 'f64');
  assert.throws(() => model.forward(OpContext.plain, new Float32Array(10), 3, 2), /Ntm.forward: input has 10 values, expected T·B·X = 3·2·6/);
});

test('Ntm.forward: same seed, same outputs; float32 model agrees with float64 to float32 precision', () => {
  const batch = task.sample(new Rng(7), 2, { length: 2 });
  const run = (dtype: 'f32' | 'f64'): number[] =>
    new Ntm(tinyConfig(), X, Y, new Rng(8), dtype).forward(OpContext.plain, batch.input, batch.T, batch.B).flatMap((z) => Array.from(z.data));
  const a = run('f64');
  assert.deepEqual(run('f64'), a);
  assertAllClose(run('f32'), a, 1e-4, 1e-3);
});

test('Ntm.step: two steps equal one step\'s equations composed by hand (z = [x, r_{t−1}], write on M_{t−1}, read on M_t)', () => {
  const model = new Ntm(tinyConfig(), X, Y, new Rng(11), 'f64');
  const P = (name: string): Tensor => model.params.get(name)!;
  const lin = (prefix: string, x: Tensor): Tensor => linear(x, P(`${prefix}.weight`), P(`${prefix}.bias`));
  const B = 2;
  const batch = task.sample(new Rng(12), B, { length: 1 });
  const xs = [0, 1].map((t) => Tensor.from(batch.input.subarray(t * B * X, (t + 1) * B * X), [B, X], 'f64'));
  const lstm = {
    weightIh: P('controller.lstm.weight_ih'), weightHh: P('controller.lstm.weight_hh'),
    biasIh: P('controller.lstm.bias_ih'), biasHh: P('controller.lstm.bias_hh'),
  };
  assert.deepEqual(lstm.weightIh.shape, initLstm(X + R * W, H, new Rng(0), 'f64').weightIh.shape);

  // the initial state, built independently
  const oneHot = (): Tensor => { const w = Tensor.zeros([B, N], 'f64'); w.data[0] = 1; w.data[N] = 1; return w; };
  let h = Tensor.zeros([B, H], 'f64'), c = Tensor.zeros([B, H], 'f64');
  let M = Tensor.full([B, N, W], 1e-6, 'f64');
  let reads = [0, 1].map(() => Tensor.full([B, W], 1e-6, 'f64'));
  let wr = [oneHot(), oneHot()], ww = [oneHot(), oneHot()];
  const address = (prefix: string, mem: Tensor, prev: Tensor, hid: Tensor): Tensor => {
    const k = tanh(lin(`${prefix}.key`, hid)), beta = softplus(lin(`${prefix}.beta`, hid));
    const g = sigmoid(lin(`${prefix}.gate`, hid)), sh = softmax(lin(`${prefix}.shift`, hid));
    const gamma = oneplus(lin(`${prefix}.gamma`, hid));
    return sharpen(circularShift(interpolate(contentWeights(mem, k, beta), prev, g), sh), gamma);
  };
  const ref: number[] = [];
  for (const x of xs) {
    const next = lstmCell(lstm, concat([x, ...reads]), h, c);
    h = clamp(next.h, -20, 20); c = next.c;
    const hid = h;
    const writes = ww.map((prev, i) => ({
      weights: address(`heads.write.${i}`, M, prev, hid),
      erase: sigmoid(lin(`heads.write.${i}.erase`, hid)),
      add: tanh(lin(`heads.write.${i}.add`, hid)),
    }));
    M = writeMemory(M, writes);
    ww = writes.map((w) => w.weights);
    wr = wr.map((prev, i) => address(`heads.read.${i}`, M, prev, hid));
    reads = wr.map((w) => readMemory(M, w));
    ref.push(...clamp(lin('output', concat([hid, ...reads])), -20, 20).data);
  }
  let state = model.initialState(OpContext.plain, B);
  const got: number[] = [];
  for (const [t, x] of xs.entries()) {
    const r = model.step(state, x, t);
    state = r.state;
    got.push(...r.logits.data);
  }
  assertAllClose(got, ref, 1e-14, 1e-12, 'logits');
  assertAllClose(state.memory.data, M.data, 1e-14, 1e-12, 'memory');
  assertAllClose(state.h.data, h.data, 1e-14, 1e-12, 'h');
  for (let i = 0; i < R; i++) assertAllClose(state.reads[i]!.data, reads[i]!.data, 1e-14, 1e-12, `read ${i}`);
});

for (const controller of ['lstm', 'feedforward'] as const) {
  test(`Ntm (${controller}): finite-difference gradient of the masked loss for ALL parameters through 6 steps`, () => {
    const model = new Ntm(tinyConfig({ controller }), X, Y, new Rng(9), 'f64');
    // scale the small init up a little so every path carries a gradient well above round-off
    for (const p of model.params.values()) for (let i = 0; i < p.size; i++) p.data[i]! *= 1.5;
    const batch = task.sample(new Rng(10), 2, { length: 2 }); // T = 6, answers at t = 4, 5
    assert.equal(batch.T, 6);
    const params = [...model.params.values()];
    assertGradcheck((ctx) => maskedBceLoss(model.forward(ctx, batch.input, batch.T, batch.B), batch), params, {
      maxPerInput: 6, atol: 1e-9, rtol: 1e-5,
    });
    // and every parameter tensor received a gradient that is not all zero
    for (const [name, p] of model.params) {
      assert.ok(p.grad !== null, `${name} has no gradient`);
      assertFinite(p.grad, name);
      assert.ok(p.grad.some((v) => v !== 0), `${name} gradient is all zero`);
    }
  });
}

test('controller output clamp: skipped at clip ≥ 1 (outputs in [−1, 1]: the same values and gradients), applied below', () => {
  // the extremes an LSTM or tanh output can take, ±1 included
  const values = [-1, -0.9999999, -0.5, 0, 0.25, 0.75, 1];
  for (const clip of [1, 20, 0.5]) {
    const run = (f: (x: Tensor) => Tensor): { y: number[]; g: number[] } => {
      const x = new Tensor(Float32Array.from(values), [1, values.length], true);
      const tape = new Tape();
      const loss = onTape(tape, [x], () => weightedSum(f(x), values.map((_, i) => i + 1)));
      tape.backward(loss);
      return { y: Array.from(onTape(new Tape(), [x], () => f(x)).data), g: Array.from(x.grad!) };
    };
    const x0 = new Tensor(Float32Array.from(values), [1, values.length]);
    if (clip >= 1) assert.equal(clampOutput(x0, clip), x0, 'no op');
    else assert.notEqual(clampOutput(x0, clip), x0);
    assert.deepEqual(run((x) => clampOutput(x, clip)), run((x) => clamp(x, -clip, clip)), `clip ${clip}`);
  }
});
