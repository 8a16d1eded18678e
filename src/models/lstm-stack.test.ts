import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LstmStack, lstmLayerNames } from './lstm-stack.js';
import { createModel } from './registry.js';
import { countParams } from './params.js';
import { forwardFlopsPerTimeStep } from './flops.js';
import { findPreset } from '../config/presets.js';
import { applyOverrides, cloneConfig, ConfigError, DEFAULTS, estimateStepBytes, validateConfig, type Config, type ModelConfig } from '../config/schema.js';
import { describeConfig } from '../server/runs.js';
import { maskedBceLoss } from '../train/loss.js';
import { accumulateGradients, StepContext } from '../train/gradients.js';
import type { Batch } from '../tasks/batch.js';
import { kernelHeapOrNull } from '../kernels/heap.js';
import { heapAllocator, setKernels } from '../kernels/wasm.js';
import { Rng } from '../tensor/random.js';
import { type Tensor } from '../tensor/tensor.js';
import { BufferPool } from '../tensor/pool.js';
import { onTape, Tape } from '../tensor/tape.js';
import { assertAllClose, assertFinite, assertGradcheck } from '../tensor/testing.js';
import { OpContext } from '../tensor/context.js';

// Distinct sizes so a swapped axis fails: B=2 samples, X=5 inputs, H=4 wide, L=2 layers, Y=3 outputs, T=6 steps.
const B = 2, X = 5, H = 4, L = 2, Y = 3, T = 6;

function config(over: Partial<ModelConfig> = {}): ModelConfig {
  return { ...cloneConfig(DEFAULTS).model, type: 'lstm', hiddenSize: H, layers: L, clip: 20, ...over };
}

/** Sample b is scored from step 1 on; inputs and targets random bits. */
function batch(rng: Rng): Batch {
  const input = new Float32Array(T * B * X), target = new Float32Array(T * B * Y), mask = new Float32Array(T * B);
  for (let k = 0; k < input.length; k++) input[k] = rng.bit();
  for (let k = 0; k < target.length; k++) target[k] = rng.bit();
  for (let t = 1; t < T; t++) for (let b = 0; b < B; b++) mask[t * B + b] = 1;
  return { T, B, X, Y, input, target, mask, lengths: [1, 1], repeats: [1, 1] };
}

/** Parameter count by hand: per layer PyTorch's LSTM (two biases), then the output Linear from the top layer. */
function expectedCount(Xn: number, Hn: number, Ln: number, Yn: number): number {
  let n = 0;
  for (let k = 0; k < Ln; k++) n += 4 * Hn * (k === 0 ? Xn : Hn) + 4 * Hn * Hn + 2 * 4 * Hn;
  return n + (Hn + 1) * Yn;
}

test('LstmStack: parameter names, shapes and count (1, 2 and 3 layers), in creation order', () => {
  for (const layers of [1, 2, 3]) {
    const model = new LstmStack(config({ layers }), X, Y, new Rng(1), 'f64');
    assert.equal(countParams(model.params), expectedCount(X, H, layers, Y), `${layers} layers`);
    const names = [...model.params.keys()];
    const expected = [
      ...Array.from({ length: layers }, (_, k) => Object.values(lstmLayerNames(k))).flat(),
      'output.weight', 'output.bias',
    ];
    assert.deepEqual(names, expected);
    assert.deepEqual(model.params.get('lstm.0.weight_ih')!.shape, [4 * H, X]);
    assert.deepEqual(model.params.get(`lstm.${layers - 1}.weight_hh`)!.shape, [4 * H, H]);
    if (layers > 1) assert.deepEqual(model.params.get('lstm.1.weight_ih')!.shape, [4 * H, H]);
    assert.deepEqual(model.params.get('lstm.0.bias_hh')!.shape, [4 * H]);
    assert.deepEqual(model.params.get('output.weight')!.shape, [Y, H]);
    for (const t of model.params.values()) { assert.equal(t.dtype, 'f64'); assert.ok(t.requiresGrad); }
  }
  assert.equal(expectedCount(X, H, 2, Y), 4 * 4 * 5 + 4 * 4 * 4 + 32 + 4 * 4 * 4 + 4 * 4 * 4 + 32 + 15);
  // the paper's copy baseline, 3 × 256 on 8-bit copy (X = 10, Y = 8)
  assert.equal(countParams(new LstmStack(config({ hiddenSize: 256, layers: 3 }), 10, 8, new Rng(0)).params), 1_329_160);
  assert.throws(() => new LstmStack(config({ layers: 0 }), X, Y, new Rng(1)), /model.layers must be a whole number ≥ 1, got 0/);
});

test('createModel builds an LstmStack for model.type=lstm; its memory and head keys change nothing', () => {
  const a = createModel(config(), X, Y, new Rng(2), 'f64');
  assert.ok(a instanceof LstmStack);
  const b = createModel(config({ memorySlots: 3, wordSize: 1, readHeads: 7, writeHeads: 5, shiftRange: 9, controller: 'feedforward' }), X, Y, new Rng(2), 'f64');
  const x = batch(new Rng(3));
  assert.deepEqual([...a.params.keys()], [...b.params.keys()]);
  assert.deepEqual(a.forward(OpContext.plain, x.input, T, B).map((z) => Array.from(z.data)), b.forward(OpContext.plain, x.input, T, B).map((z) => Array.from(z.data)));
});

test('LstmStack.forward: T logits of [B, Y], finite, within ±clip; the observer is never called; a wrong input length is named', () => {
  const model = new LstmStack(config(), X, Y, new Rng(4), 'f64');
  const x = batch(new Rng(5));
  let calls = 0;
  const logits = model.forward(OpContext.plain, x.input, T, B, () => calls++);
  assert.equal(logits.length, T);
  for (const z of logits) { assert.deepEqual(z.shape, [B, Y]); assertFinite(z.data); }
  assert.equal(calls, 0);
  assert.ok(logits.some((z) => z.data.some((v) => v !== logits[0]!.data[0])), 'the logits vary');
  // a small clip is applied to the logits
  for (const z of new LstmStack(config({ clip: 0.05 }), X, Y, new Rng(4), 'f64').forward(OpContext.plain, x.input, T, B)) {
    for (const v of z.data) assert.ok(Math.abs(v) <= 0.05);
  }
  assert.throws(() => model.forward(OpContext.plain, new Float32Array(7), T, B), /LstmStack.forward: input has 7 values, expected T·B·X = 6·2·5/);
});

const sigma = (v: number): number => 1 / (1 + Math.exp(-v));

/**
 * The stack as plain float64 loops over the parameters' arrays: per step, per layer, the gates
 * i, f, g, o from both products and both biases, c = f·c + i·g, h = o·tanh(c) clamped to ±clip;
 * the logits Linear(h of the top layer) clamped to ±clip.
 */
function naiveLogits(model: LstmStack, input: ArrayLike<number>, Tn: number, Bn: number): number[] {
  const { hiddenSize: Hn, layers: Ln, clip } = model.config;
  const Xn = model.inputSize, Yn = model.outputSize;
  const P = (name: string): ArrayLike<number> => model.params.get(name)!.data;
  const h = Array.from({ length: Ln }, () => new Float64Array(Bn * Hn));
  const c = Array.from({ length: Ln }, () => new Float64Array(Bn * Hn));
  const out: number[] = [];
  for (let t = 0; t < Tn; t++) {
    for (let b = 0; b < Bn; b++) {
      let below: number[] = Array.from({ length: Xn }, (_, i) => input[(t * Bn + b) * Xn + i]!);
      for (let k = 0; k < Ln; k++) {
        const n = lstmLayerNames(k);
        const wih = P(n.weightIh), whh = P(n.weightHh), bih = P(n.biasIh), bhh = P(n.biasHh);
        const I = below.length;
        const gate = (j: number): number => {
          let s = bih[j]! + bhh[j]!;
          for (let i = 0; i < I; i++) s += wih[j * I + i]! * below[i]!;
          for (let i = 0; i < Hn; i++) s += whh[j * Hn + i]! * h[k]![b * Hn + i]!;
          return s;
        };
        const next: number[] = [];
        const cNext: number[] = [];
        for (let j = 0; j < Hn; j++) {
          const ig = sigma(gate(j)), fg = sigma(gate(Hn + j)), gg = Math.tanh(gate(2 * Hn + j)), og = sigma(gate(3 * Hn + j));
          const cv = fg * c[k]![b * Hn + j]! + ig * gg;
          cNext.push(cv);
          next.push(Math.max(-clip, Math.min(clip, og * Math.tanh(cv))));
        }
        h[k]!.set(next, b * Hn);
        c[k]!.set(cNext, b * Hn);
        below = next;
      }
      const w = P('output.weight'), bias = P('output.bias');
      for (let y = 0; y < Yn; y++) {
        let s = bias[y]!;
        for (let i = 0; i < Hn; i++) s += w[y * Hn + i]! * below[i]!;
        out[(t * Bn + b) * Yn + y] = Math.max(-clip, Math.min(clip, s));
      }
    }
  }
  return out;
}

test('LstmStack.forward equals a plain-loop float64 stack (2 layers; clip 20 and a clip that bites, 0.3)', () => {
  for (const clip of [20, 0.3]) {
    const model = new LstmStack(config({ clip }), X, Y, new Rng(6), 'f64');
    // wider weights, so gates saturate and the hidden states differ clearly from layer to layer
    for (const p of model.params.values()) for (let i = 0; i < p.size; i++) p.data[i]! *= 2;
    const rng = new Rng(7);
    const input = Float64Array.from({ length: T * B * X }, () => rng.normal());
    const got = model.forward(OpContext.plain, input, T, B).flatMap((z) => Array.from(z.data));
    const want = naiveLogits(model, input, T, B);
    assertAllClose(got, want, 1e-14, 1e-12, `logits, clip ${clip}`);
    if (clip < 1) assert.ok(got.some((v) => Math.abs(v) === clip), 'some logit clamped');
  }
});

test('LstmStack: same seed, same outputs; a float32 model agrees with the float64 one to float32 precision', () => {
  const x = batch(new Rng(8));
  const run = (dtype: 'f32' | 'f64'): number[] =>
    new LstmStack(config(), X, Y, new Rng(9), dtype).forward(OpContext.plain, x.input, T, B).flatMap((z) => Array.from(z.data));
  const a = run('f64');
  assert.deepEqual(run('f64'), a);
  assertAllClose(run('f32'), a, 1e-5, 1e-4);
});

test('LstmStack: finite-difference gradient of the masked loss for EVERY element of every parameter (2 layers, float64)', () => {
  const model = new LstmStack(config(), X, Y, new Rng(10), 'f64');
  // scale the small init up a little so every path carries a gradient well above round-off
  for (const p of model.params.values()) for (let i = 0; i < p.size; i++) p.data[i]! *= 1.5;
  const x = batch(new Rng(11));
  const params = [...model.params.values()];
  assertGradcheck((ctx) => maskedBceLoss(model.forward(ctx, x.input, T, B), x), params, { atol: 1e-9, rtol: 1e-5 });
  for (const [name, p] of model.params) {
    assert.ok(p.grad !== null, `${name} has no gradient`);
    assertFinite(p.grad, name);
    assert.ok(p.grad.some((v) => v !== 0), `${name} gradient is all zero`);
  }
});

test('LstmStack: WASM kernels (the fused LSTM cell, on the kernel heap) against the TypeScript twins: logits, loss and every gradient', { skip: kernelHeapOrNull() === null && 'the WASM kernels are not built' }, () => {
  const cfg = config({ hiddenSize: 12, layers: 3 });
  const x = batch(new Rng(12));
  const heap = kernelHeapOrNull()!;
  const run = (kind: 'wasm' | 'ts'): { loss: number; logits: number[]; grads: Float32Array[]; cells: number } => {
    setKernels(kind);
    const k = heap.k;
    let cells = 0;
    heap.k = { ...k, lstmForward: (...args: Parameters<typeof k.lstmForward>) => { cells++; k.lstmForward(...args); } };
    try {
      const model = createModel(cfg, X, Y, new Rng(13));
      for (const p of model.params.values()) p.g().fill(0);
      const logits = model.forward(OpContext.plain, x.input, T, B).flatMap((z) => Array.from(z.data));
      const forwardCells = cells; // (a training step's calls go through the kernels' call lists, not heap.k)
      const steps = new StepContext(new BufferPool(heapAllocator()));
      const loss = accumulateGradients(model, x, steps);
      const grads = [...model.params.values()].map((p) => Float32Array.from(p.grad!));
      steps.pool.clear();
      return { loss, logits, grads, cells: forwardCells };
    } finally {
      heap.k = k;
      setKernels('wasm');
    }
  };
  const w = run('wasm'), t = run('ts');
  assert.equal(w.cells, T * 3, 'one kernel call per layer and step');
  assert.equal(t.cells, 0);
  assertAllClose(w.logits, t.logits, 1e-5, 1e-5, 'logits');
  assert.ok(Math.abs(w.loss - t.loss) < 1e-6, `loss ${w.loss} vs ${t.loss}`);
  w.grads.forEach((g, i) => assertAllClose(g, t.grads[i]!, 1e-5, 1e-4, `gradient of parameter ${i}`));
});

test('LstmStack: the gradients of a training step (accumulateGradients, float32 on the pool) are the tape\'s', () => {
  const model = createModel(config(), X, Y, new Rng(14));
  const x = batch(new Rng(15));
  const params = [...model.params.values()];
  for (const p of params) p.g().fill(0);
  const steps = new StepContext(new BufferPool(heapAllocator()));
  const loss = accumulateGradients(model, x, steps);
  const got = params.map((p) => Float32Array.from(p.grad!));
  steps.pool.clear();
  for (const p of params) p.g().fill(0);
  const tape = new Tape();
  const ref = maskedBceLoss(model.forward(new OpContext(null, tape, null), x.input, T, B), x);
  tape.backward(ref);
  assert.ok(Math.abs(loss - ref.data[0]!) <= 1e-6 * ref.data[0]!, `${loss} vs ${ref.data[0]}`);
  params.forEach((p, i) => assertAllClose(got[i]!, p.grad!, 1e-7, 1e-5, `gradient ${i}`));
});

test('model.type=lstm config: layers defaults to 1 and is a whole number in 1..64; memory and head keys are not checked; an old config without it loads', () => {
  const lstm = (...sets: string[]): Config => {
    const c = cloneConfig(DEFAULTS);
    applyOverrides(c, ['model.type=lstm', ...sets]);
    return c;
  };
  assert.equal(DEFAULTS.model.layers, 1);
  assert.equal(lstm('model.layers=3').model.layers, 3);
  for (const [v, message] of [['0', /model\.layers must be > 0/], ['1.5', /model\.layers must be an integer/], ['65', /model\.layers must be at most 64/]] as const) {
    assert.throws(() => lstm(`model.layers=${v}`), (e: unknown) => e instanceof ConfigError && message.test(e.message), v);
  }
  // ignored keys: a shift range wider than the memory, no heads, a huge memory
  lstm('model.memorySlots=1', 'model.shiftRange=5', 'model.readHeads=0', 'model.writeHeads=0', 'model.wordSize=1000000');
  assert.throws(() => applyOverrides(cloneConfig(DEFAULTS), ['model.memorySlots=1', 'model.shiftRange=5']), /model\.shiftRange must be in/);
  assert.throws(() => applyOverrides(cloneConfig(DEFAULTS), ['model.type=rnn']), /model\.type must be one of ntm, dnc, lstm, got "rnn"/);
  // the step's buffers: no memory term; more layers, more buffers
  const a = lstm('model.layers=1'), b = lstm('model.layers=3'), huge = lstm('model.memorySlots=60000', 'model.wordSize=4000');
  assert.equal(estimateStepBytes(b), 3 * estimateStepBytes(a));
  assert.equal(estimateStepBytes(huge), estimateStepBytes(a));
  assert.ok(estimateStepBytes(a) < estimateStepBytes(cloneConfig(DEFAULTS)));
  // a config saved before model.layers existed
  const old = cloneConfig(DEFAULTS) as unknown as { model: Record<string, unknown> };
  delete old.model.layers;
  assert.equal(validateConfig(old).model.layers, 1);
});

test('forwardFlopsPerTimeStep of an LSTM stack: the cells\' products, 12 per hidden unit for gates and cell, the output product', () => {
  // a multiply-add counts 2; layer 0 reads X, the others H
  const Bn = 16, cfg = config({ hiddenSize: 32, layers: 3 });
  const cell = (inF: number): number => 2 * Bn * 4 * 32 * (inF + 32) + 12 * Bn * 32;
  assert.equal(forwardFlopsPerTimeStep(cfg, 6, 4, Bn), cell(6) + cell(32) + cell(32) + 2 * Bn * 32 * 4);
  // the memory keys change nothing
  assert.equal(forwardFlopsPerTimeStep({ ...cfg, memorySlots: 1000, readHeads: 8 }, 6, 4, Bn), forwardFlopsPerTimeStep(cfg, 6, 4, Bn));
});

test('lstm-copy-small: ntm-copy-small\'s task, optimiser and schedule with a 2 × 32 LSTM; described as such', () => {
  const preset = findPreset('lstm-copy-small')!;
  const small = findPreset('ntm-copy-small')!;
  validateConfig(cloneConfig(preset.config));
  assert.deepEqual(preset.config.task, small.config.task);
  assert.deepEqual(preset.config.optimizer, small.config.optimizer);
  assert.deepEqual(preset.config.train, small.config.train);
  assert.deepEqual([preset.config.model.type, preset.config.model.layers, preset.config.model.hiddenSize], ['lstm', 2, 32]);
  assert.equal(describeConfig(preset.config), 'LSTM 2 × 32, no memory, adam 0.003, batch 16');
  // X = 6, Y = 4 (copy of 4 bits)
  assert.equal(countParams(createModel(preset.config.model, 6, 4, new Rng(0)).params), expectedCount(6, 32, 2, 4));
  assert.equal(expectedCount(6, 32, 2, 4), 13_700);
});
