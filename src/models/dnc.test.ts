import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dnc, type DncState } from './dnc.js';
import { createModel } from './registry.js';
import { countParams } from './params.js';
import type { StepSnapshot } from './model.js';
import { DEFAULTS, type ModelConfig } from '../config/schema.js';
import { maskedBceLoss } from '../train/loss.js';
import type { Batch } from '../tasks/batch.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { onTape, Tape } from '../tensor/tape.js';
import { assertFinite, assertGradcheck } from '../tensor/testing.js';
import { OpContext } from '../tensor/context.js';

// Distinct sizes so a swapped axis fails: B=2, Wh=2 (per-head arrays), R=3, X=4, W=5, H=6, N=7, Y=8, T=4.
const B = 2, R = 3, X = 4, W = 5, H = 6, N = 7, Y = 8, T = 4, Wh = 2;

const small: ModelConfig = {
  ...DEFAULTS.model, type: 'dnc', controller: 'lstm', hiddenSize: H, memorySlots: N, wordSize: W, readHeads: R, writeHeads: Wh,
};

function batch(rng: Rng): Batch {
  const input = new Float32Array(T * B * X), target = new Float32Array(T * B * Y), mask = new Float32Array(T * B);
  for (let k = 0; k < input.length; k++) input[k] = rng.bit();
  for (let k = 0; k < target.length; k++) target[k] = rng.bit();
  for (let t = 1; t < T; t++) for (let b = 0; b < B; b++) mask[t * B + b] = 1;
  return { T, B, X, Y, input, target, mask, lengths: [1, 1], repeats: [1, 1] };
}

test('Dnc: the dnc-repeat-copy reference config has exactly 44,236 parameters, named per head part', () => {
  const cfg: ModelConfig = { ...small, hiddenSize: 64, memorySlots: 16, wordSize: 16, readHeads: 4, writeHeads: 1 };
  const model = new Dnc(cfg, 6, 5, new Rng(1));
  assert.equal(countParams(model.params), 44_236);
  for (const part of ['key', 'beta', 'erase', 'vector', 'allocGate', 'writeGate']) {
    assert.ok(model.params.has(`heads.write.0.${part}.weight`), `heads.write.0.${part}`);
  }
  for (const part of ['key', 'beta', 'free', 'mode']) assert.ok(model.params.has(`heads.read.3.${part}.bias`), `heads.read.3.${part}`);
  assert.deepEqual(model.params.get('heads.read.0.mode.weight')!.shape, [3, 64]); // 2·Wh + 1 modes
  assert.ok(createModel(cfg, 6, 5, new Rng(1)) instanceof Dnc);
});

test('Dnc: initial state (h, c, usage, precedence, link 0; memory and reads 1e-6; weightings one-hot on slot 0)', () => {
  const s = new Dnc(small, X, Y, new Rng(2), 'f64').initialState(OpContext.plain, B);
  assert.ok(s.memory.data.every((v) => v === 1e-6));
  assert.equal(s.reads.length, R);
  assert.ok(s.reads.every((r) => r.data.every((v) => v === 1e-6)));
  for (const w of [...s.readWeights, ...s.writeWeights]) {
    assert.deepEqual(w.shape, [B, N]);
    for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) assert.equal(w.data[b * N + n], n === 0 ? 1 : 0);
  }
  assert.equal(s.writeWeights.length, Wh);
  assert.ok(s.usage.data.every((v) => v === 0));
  assert.equal(s.links.length, Wh);
  assert.deepEqual(s.links[0]!.shape, [B, N, N]);
  assert.ok([...s.links, ...s.precedences, s.h, s.c].every((t) => t.data.every((v) => v === 0)));
});

test('Dnc: forward shapes, and the observer sees every signal with its shape', () => {
  const model = new Dnc(small, X, Y, new Rng(3));
  const snaps: StepSnapshot[] = [];
  const out = model.forward(OpContext.plain, batch(new Rng(4)).input, T, B, (_t, s) => snaps.push(s));
  assert.equal(out.length, T);
  for (const z of out) { assert.deepEqual(z.shape, [B, Y]); assertFinite(z.data, 'logits'); }
  assert.equal(snaps.length, T);
  const s = snaps[T - 1]!;
  assert.deepEqual(s.memory.shape, [B, N, W]);
  assert.equal(s.writeWeights.length, Wh);
  assert.equal(s.readWeights.length, R);
  const shapes: Record<string, number[]> = {
    usage: [B, N], link: [B, Wh, N, N], precedence: [B, Wh, N],
    'write.1.allocation': [B, N], 'write.1.content': [B, N], 'write.1.key': [B, W], 'write.1.beta': [B, 1],
    'write.1.erase': [B, W], 'write.1.vector': [B, W], 'write.1.allocGate': [B, 1], 'write.1.writeGate': [B, 1],
    'read.2.free': [B, 1], 'read.2.mode': [B, 2 * Wh + 1], 'read.2.content': [B, N], 'read.2.key': [B, W], 'read.2.beta': [B, 1],
  };
  for (const [k, shape] of Object.entries(shapes)) assert.deepEqual(s.signals[k]?.shape, shape, k);
  for (const v of s.signals.usage!.data) assert.ok(v >= 0 && v <= 1);
  for (const w of s.readWeights) {
    for (let b = 0; b < B; b++) {
      let sum = 0;
      for (let n = 0; n < N; n++) sum += w.data[b * N + n]!;
      assert.ok(sum <= 1 + 1e-5, `read weights sum ${sum}`);
    }
  }
});

test('Dnc: the stacked link signal holds each write head’s link', () => {
  const model = new Dnc(small, X, Y, new Rng(5), 'f64');
  const x = new Tensor(new Float64Array(B * X).fill(1), [B, X]);
  let snap: StepSnapshot | undefined;
  const r1 = model.step(model.initialState(OpContext.plain, B), x);
  const r2 = model.step(r1.state, x, 1, (_t, s) => { snap = s; });
  const link = snap!.signals.link!;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Wh; h++) {
      const own = r2.state.links[h]!.data.subarray(b * N * N, (b + 1) * N * N);
      assert.deepEqual(Array.from(link.data.subarray((b * Wh + h) * N * N, (b * Wh + h + 1) * N * N)), Array.from(own));
    }
  }
  assert.ok(r2.state.links[1]!.data.some((v) => v > 0));
});

test('Dnc: with allocation and write gates open, the first step writes the freest slots, not slot 0', () => {
  const model = new Dnc(small, X, Y, new Rng(6), 'f64');
  for (let h = 0; h < Wh; h++) {
    for (const part of ['allocGate', 'writeGate']) {
      model.params.get(`heads.write.${h}.${part}.weight`)!.data.fill(0);
      model.params.get(`heads.write.${h}.${part}.bias`)!.data.fill(30);
    }
  }
  for (let i = 0; i < R; i++) { // free nothing, so slot 0 (the initial write weighting) stays used
    model.params.get(`heads.read.${i}.free.weight`)!.data.fill(0);
    model.params.get(`heads.read.${i}.free.bias`)!.data.fill(-30);
  }
  let snap: StepSnapshot | undefined;
  model.step(model.initialState(OpContext.plain, B), Tensor.zeros([B, X], 'f64'), 0, (_t, s) => { snap = s; });
  const argmax = (t: Tensor, b: number): number => {
    const row = Array.from(t.data.subarray(b * N, (b + 1) * N));
    return row.indexOf(Math.max(...row));
  };
  for (let b = 0; b < B; b++) {
    assert.ok(snap!.signals.usage!.data[b * N]! > 0.999, 'slot 0 is used after the initial write weighting');
    assert.equal(argmax(snap!.writeWeights[0]!, b), 1, 'head 0 takes the lowest-index free slot');
    assert.ok(snap!.writeWeights[0]!.data[b * N + 1]! > 0.99);
    const second = argmax(snap!.writeWeights[1]!, b);
    assert.ok(second !== 0 && second !== 1, `head 1 wrote slot ${second}, already taken`);
  }
});

test('Dnc: finite-difference gradients of maskedBceLoss for every parameter over 4 steps (float64)', () => {
  const model = new Dnc(small, X, Y, new Rng(7), 'f64', { stopWriteGradientInUsage: false });
  const b = batch(new Rng(8));
  const params = [...model.params.values()];
  // The usage stop-gradient is lifted: finite differences see the true derivative, with it.
  // The loss's gradients are ~1e-9..1e-4, so atol sits far below them; eps 1e-5 keeps the
  // central difference's round-off (∝ 1/eps) under 1e-11.
  assertGradcheck((ctx) => maskedBceLoss(model.forward(ctx, b.input, T, B), b), params, { maxPerInput: 6, eps: 1e-5, atol: 1e-10, rtol: 1e-4 });
});

test('Dnc: the usage stop-gradient changes the gradient only through the write weights of earlier steps', () => {
  const b = batch(new Rng(9));
  const grads = (stop: boolean, steps: number): Float64Array[] => {
    const model = new Dnc(small, X, Y, new Rng(10), 'f64', { stopWriteGradientInUsage: stop });
    const bb: Batch = { ...b, T: steps };
    const tape = new Tape();
    tape.backward(maskedBceLoss(model.forward(new OpContext(null, tape, null), b.input.subarray(0, steps * B * X), steps, B), bb));
    return [...model.params.values()].map((p) => Float64Array.from(p.grad ?? []));
  };
  const same = (a: Float64Array[], c: Float64Array[]): boolean => a.every((g, i) => g.every((v, k) => v === c[i]![k]));
  // at t = 0 the previous write weights are the constant initial one-hot: no difference
  assert.ok(same(grads(true, 1), grads(false, 1)));
  assert.ok(!same(grads(true, T), grads(false, T)));
});

test('Dnc: saturated gates (huge logits) and all-zero memory give finite outputs and gradients', () => {
  const model = new Dnc(small, X, Y, new Rng(11));
  for (const p of model.params.values()) for (let k = 0; k < p.size; k++) p.data[k]! *= 1e4;
  const b = batch(new Rng(12));
  const tape = new Tape();
  const loss = maskedBceLoss(model.forward(new OpContext(null, tape, null), b.input, T, B), b);
  tape.backward(loss);
  assertFinite(loss.data, 'loss');
  for (const [name, p] of model.params) assertFinite(p.grad ?? [], name);

  const fresh = new Dnc(small, X, Y, new Rng(13));
  const tape2 = new Tape();
  const ctx2 = new OpContext(null, tape2, null);
  const s0 = fresh.initialState(ctx2, B);
  const zeroed: DncState = { ...s0, memory: Tensor.zeros([B, N, W], 'f32', false, ctx2), reads: s0.reads.map(() => Tensor.zeros([B, W], 'f32', false, ctx2)) };
  let state: DncState = zeroed;
  const logits: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    const r = fresh.step(state, Tensor.zeros([B, X], 'f32', false, ctx2), t);
    state = r.state;
    logits.push(r.logits);
  }
  for (const z of logits) assertFinite(z.data, 'logits from zero memory');
  tape2.backward(maskedBceLoss(logits, b));
  for (const [name, p] of fresh.params) assertFinite(p.grad ?? [], name);
});
