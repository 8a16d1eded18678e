import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findPreset } from '../config/presets.js';
import { cloneConfig, type Config } from '../config/schema.js';
import { createModel } from '../models/registry.js';
import type { Batch } from '../tasks/batch.js';
import { createTask } from '../tasks/registry.js';
import { Rng } from '../tensor/random.js';
import { inspectBatch } from './inspect.js';
import type { Series } from './protocol.js';
import { OpContext } from '../tensor/context.js';

/** Sizes that differ on every axis (STYLE §4), so a swapped axis fails. */
function config(preset: string, model: Partial<Config['model']>): Config {
  const c = cloneConfig(findPreset(preset)!.config);
  Object.assign(c.model, { hiddenSize: 11, memorySlots: 7, wordSize: 5, ...model });
  return c;
}

function setup(c: Config, words: number): { model: ReturnType<typeof createModel>; batch: Batch } {
  const task = createTask(c.task);
  const model = createModel(c.model, task.inputSize, task.outputSize, new Rng(3));
  return { model, batch: task.sample(new Rng(4), 2, { length: words }) };
}

/** Batch element b alone, as a batch of one (all samples have the same length here). */
function single(batch: Batch, b: number): Batch {
  const { T, B, X, Y } = batch;
  const pick = (src: Float32Array, k: number): Float32Array => {
    const out = new Float32Array(T * k);
    for (let t = 0; t < T; t++) out.set(src.subarray((t * B + b) * k, (t * B + b + 1) * k), t * k);
    return out;
  };
  return { ...batch, B: 1, input: pick(batch.input, X), target: pick(batch.target, Y), mask: pick(batch.mask, 1), lengths: [batch.lengths[b]!], repeats: [batch.repeats[b]!] };
}

const row = (s: Series, t: number): number[] => {
  const k = s.shape.slice(1).reduce((a, d) => a * d, 1);
  return s.data.slice(t * k, (t + 1) * k) as number[];
};
const sum = (xs: number[]): number => xs.reduce((a, v) => a + v, 0);

test('NTM: every step of one batch element, with the shapes the page expects', () => {
  const c = config('ntm-copy-small', { readHeads: 2, writeHeads: 1, shiftRange: 1 });
  const { model, batch } = setup(c, 3);
  const ins = inspectBatch(model, batch, 1, 'title', 42);
  const { T } = batch;
  assert.equal(ins.model, 'ntm');
  assert.equal(ins.step, 42);
  assert.deepEqual([ins.T, ins.N, ins.W, ins.X, ins.Y], [T, 7, 5, batch.X, batch.Y]);
  assert.deepEqual(ins.input.shape, [T, batch.X]);
  assert.deepEqual(ins.output.shape, [T, batch.Y]);
  assert.deepEqual(ins.mask.shape, [T]);
  assert.deepEqual(ins.memory.shape, [T, 7, 5]);
  assert.equal(ins.writeWeights.length, 1);
  assert.equal(ins.readWeights.length, 2);
  for (const w of [...ins.writeWeights, ...ins.readWeights]) {
    assert.deepEqual(w.shape, [T, 7]);
    for (let t = 0; t < T; t++) assert.ok(Math.abs(sum(row(w, t)) - 1) < 1e-3, 'an NTM weighting sums to 1');
  }
  const heads = ins.ntm!.heads;
  assert.deepEqual(heads.map((h) => h.head), ['write 0', 'read 0', 'read 1']);
  for (const h of heads) {
    assert.deepEqual(h.gate.shape, [T]);
    assert.deepEqual(h.gamma.shape, [T]);
    assert.deepEqual(h.shift.shape, [T, 3]);
    for (let t = 0; t < T; t++) {
      assert.ok(h.gamma.data[t]! >= 1, 'γ ≥ 1');
      assert.ok(Math.abs(sum(row(h.shift, t)) - 1) < 1e-3, 'the shift is a distribution');
    }
  }
  assert.equal(ins.dnc, null);
  assert.ok(JSON.stringify(ins).length < 100_000);
});

test('the slice of batch element b equals running that element alone', () => {
  const c = config('ntm-copy-small', {});
  const { model, batch } = setup(c, 3);
  const a = inspectBatch(model, batch, 1, '', null);
  const b = inspectBatch(model, single(batch, 1), 0, '', null);
  assert.deepEqual(a.input, b.input);
  assert.deepEqual(a.mask, b.mask);
  for (const [x, y] of [[a.memory, b.memory], [a.writeWeights[0]!, b.writeWeights[0]!], [a.output, b.output]] as const) {
    x.data.forEach((v, i) => assert.ok(Math.abs(v - y.data[i]!) <= 2e-4, `value ${i}: ${v} vs ${y.data[i]}`));
  }
});

test('DNC: usage, allocation, gates, read modes and the link matrix', () => {
  const c = config('dnc-repeat-copy', { readHeads: 3, writeHeads: 1 });
  const { model, batch } = setup(c, 2);
  const ins = inspectBatch(model, batch, 0, '', null);
  const { T } = batch;
  const d = ins.dnc!;
  assert.equal(ins.model, 'dnc');
  assert.deepEqual(d.usage.shape, [T, 7]);
  assert.ok(d.usage.data.every((u) => u >= 0 && u <= 1), 'usage in [0, 1]');
  assert.equal(d.writeHeads.length, 1);
  assert.deepEqual(d.writeHeads[0]!.allocation.shape, [T, 7]);
  assert.deepEqual(d.writeHeads[0]!.writeGate.shape, [T]);
  assert.deepEqual(d.writeHeads[0]!.allocGate.shape, [T]);
  assert.equal(d.readHeads.length, 3);
  assert.deepEqual(d.modeNames, ['backward 0', 'forward 0', 'content']);
  for (const r of d.readHeads) {
    assert.deepEqual(r.free.shape, [T]);
    assert.deepEqual(r.modes.shape, [T, 3]);
    for (let t = 0; t < T; t++) assert.ok(Math.abs(sum(row(r.modes, t)) - 1) < 1e-3, 'read modes sum to 1');
  }
  assert.deepEqual(d.link!.shape, [T, 1, 7, 7]);
  for (let t = 0; t < T; t++) {
    const L = row(d.link!, t);
    for (let i = 0; i < 7; i++) assert.equal(L[i * 7 + i], 0, 'the link matrix has a zero diagonal');
    assert.ok(L.every((v) => v >= 0 && v <= 1));
  }
  for (const w of ins.readWeights) {
    assert.deepEqual(w.shape, [T, 7]);
    for (let t = 0; t < T; t++) assert.ok(sum(row(w, t)) <= 1 + 1e-3, 'a DNC read weighting sums to at most 1');
  }
  assert.equal(ins.ntm, null);
});

test('LSTM baseline: the bit grids and σ(logits) of the element; no memory (N = W = 0), no heads, no NTM or DNC signals', () => {
  const c = config('lstm-copy-small', { layers: 3 });
  const { model, batch } = setup(c, 3);
  const ins = inspectBatch(model, batch, 1, 'title', 7);
  const { T, B, Y } = batch;
  assert.equal(ins.model, 'lstm');
  assert.deepEqual([ins.T, ins.N, ins.W, ins.X, ins.Y, ins.words], [T, 0, 0, batch.X, batch.Y, 3]);
  assert.deepEqual(ins.memory, { shape: [T, 0, 0], data: [] });
  assert.deepEqual([ins.writeWeights, ins.readWeights, ins.ntm, ins.dnc], [[], [], null, null]);
  const logits = model.forward(OpContext.plain, batch.input, T, B);
  assert.deepEqual(ins.output.shape, [T, Y]);
  for (let t = 0; t < T; t++) {
    for (let y = 0; y < Y; y++) {
      const want = 1 / (1 + Math.exp(-logits[t]!.data[Y + y]!));
      assert.ok(Math.abs(ins.output.data[t * Y + y]! - want) <= 1e-4, `output ${t}, ${y}`);
      assert.equal(ins.target.data[t * Y + y], batch.target[(t * B + 1) * Y + y]);
    }
  }
  assert.doesNotThrow(() => JSON.stringify(ins));
});

test('an element outside the batch is an error', () => {
  const { model, batch } = setup(config('ntm-copy-small', {}), 2);
  assert.throws(() => inspectBatch(model, batch, 2, '', null), /element 2 is outside the batch of 2/);
});

test('the report inspects sample 0 alone, cut to its own length (firstSample), and names what its length counts', async () => {
  const { firstSample } = await import('./report.js');
  const task = createTask({ ...cloneConfig(findPreset('ntm-associative-recall-small')!.config).task });
  // a batch whose sample 0 is shorter than its longest: 2 items among 4
  let batch: Batch | null = null;
  for (let seed = 0; batch === null; seed++) {
    const b = task.sample(new Rng(seed), 6);
    if (b.lengths[0] === 2 && Math.max(...b.lengths) === 4) batch = b;
  }
  const one = firstSample(batch);
  assert.equal(one.B, 1);
  assert.equal(one.T, task.steps(2)); // (2 + 2)·(1 + 1) = 8 time steps, not the batch's 12
  assert.ok(batch.T > one.T);
  for (let t = 0; t < one.T; t++) {
    assert.deepEqual([...one.input.subarray(t * one.X, (t + 1) * one.X)], [...batch.input.subarray(t * batch.B * batch.X, (t * batch.B) * batch.X + batch.X)]);
    assert.equal(one.mask[t], batch.mask[t * batch.B]);
  }
  const model = createModel(cloneConfig(findPreset('ntm-associative-recall-small')!.config).model, task.inputSize, task.outputSize, new Rng(1), 'f32', { kernelHeap: false });
  const insp = inspectBatch(model, one, 0, 'report', null, task.lengthName);
  assert.equal(insp.T, one.T);
  assert.equal(insp.words, 2);
  assert.equal(insp.lengthName, 'items');
});
