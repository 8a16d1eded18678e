/**
 * No ambient state: a step's pool, tape and replay recorder are its OpContext's, carried by its
 * tensors, so two steps in one thread do not meet. Two DNC steps (every memory op, the fused
 * LSTM cell, the heads' linears) run interleaved, one time step of each in turn, each on its own
 * heap-backed pool and tape, give the same logits, loss and gradients, to the bit, as the same
 * two steps run one after the other; and a tensor of one step given to an op with a tensor of
 * the other is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dnc, type DncState } from './dnc.js';
import { DEFAULTS, type ModelConfig } from '../config/schema.js';
import { maskedBceLoss } from '../train/loss.js';
import type { Batch } from '../tasks/batch.js';
import { heapAllocator } from '../kernels/wasm.js';
import { adoptParams } from '../kernels/adopt.js';
import { fusedHeadPart } from './params.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { Tape } from '../tensor/tape.js';
import { BufferPool } from '../tensor/pool.js';
import { OpContext } from '../tensor/context.js';
import { addScalars, weightedSum } from '../tensor/ops.js';

const B = 2, X = 4, Y = 3, T = 5;
const cfg: ModelConfig = { ...DEFAULTS.model, type: 'dnc', controller: 'lstm', hiddenSize: 8, memorySlots: 6, wordSize: 4, readHeads: 2, writeHeads: 2 };

function batch(rng: Rng): Batch {
  const input = new Float32Array(T * B * X), target = new Float32Array(T * B * Y), mask = new Float32Array(T * B).fill(1);
  for (let k = 0; k < input.length; k++) input[k] = rng.bit();
  for (let k = 0; k < target.length; k++) target[k] = rng.bit();
  return { T, B, X, Y, input, target, mask, lengths: [T, T], repeats: [1, 1] };
}

/** One training step of a model, run a time step at a time (DNC.step), in its own context. */
class Stepper {
  readonly model: Dnc;
  readonly pool = new BufferPool(heapAllocator());
  readonly tape = new Tape();
  readonly ctx: OpContext;
  private state: DncState;
  readonly logits: Tensor[] = [];

  constructor(seed: number, readonly batch: Batch) {
    this.model = new Dnc(cfg, X, Y, new Rng(seed));
    adoptParams(this.model.params, fusedHeadPart); // on the kernel heap, as a trainer's model
    for (const p of this.model.params.values()) p.g();
    this.ctx = OpContext.step(this.pool, this.tape);
    this.state = this.model.initialState(this.ctx, B);
  }

  timeStep(t: number): void {
    const x = new Tensor(this.ctx.alloc('f32', B * X), [B, X], false, this.ctx);
    x.data.set(this.batch.input.subarray(t * B * X, (t + 1) * B * X));
    const r = this.model.step(this.state, x, t);
    this.state = r.state;
    this.logits.push(r.logits);
  }

  /** The loss, its backward pass, and what the step gave: logits, loss, every gradient. */
  finish(): number[][] {
    const loss = maskedBceLoss(this.logits, this.batch);
    this.tape.backward(loss);
    return [...this.logits.map((z) => Array.from(z.data)), Array.from(loss.data), ...[...this.model.params.values()].map((p) => Array.from(p.grad!))];
  }
}

test('two step contexts used interleaved in one thread give what they give one after the other, to the bit', () => {
  const b1 = batch(new Rng(1)), b2 = batch(new Rng(2));
  // one after the other
  const a1 = new Stepper(11, b1);
  for (let t = 0; t < T; t++) a1.timeStep(t);
  const seq1 = a1.finish();
  const a2 = new Stepper(12, b2);
  for (let t = 0; t < T; t++) a2.timeStep(t);
  const seq2 = a2.finish();
  // interleaved: a time step of each in turn, and the backward passes in the other order
  const i1 = new Stepper(11, b1), i2 = new Stepper(12, b2);
  for (let t = 0; t < T; t++) {
    i1.timeStep(t);
    i2.timeStep(t);
  }
  const int2 = i2.finish();
  const int1 = i1.finish();
  assert.deepEqual(int1, seq1);
  assert.deepEqual(int2, seq2);
  // each step's buffers are its own pool's, its backward passes its own tape's
  assert.ok(i1.pool.fresh > 0 && i2.pool.fresh > 0);
  assert.equal(i1.logits[0]!.ctx, i1.ctx);
  assert.equal(i2.logits[0]!.ctx, i2.ctx);
  const own = (s: Stepper, b: ArrayBufferView): boolean => [...s.pool.buffers()].includes(b as Float32Array);
  assert.ok(own(i1, i1.logits[T - 1]!.data) && !own(i2, i1.logits[T - 1]!.data));
  for (const s of [a1, a2, i1, i2]) s.pool.clear();
});

test('an op given tensors of two step contexts refuses them', () => {
  const c1 = new OpContext(null, new Tape(), null), c2 = new OpContext(null, new Tape(), null);
  const a = Tensor.from([1, 2], [2], 'f32', true, c1), b = Tensor.from([3, 4], [2], 'f32', true, c2);
  assert.throws(() => addScalars([weightedSum(a, [1, 1]), weightedSum(b, [1, 1])]), /two different step contexts/);
  // a parameter (plain) gives way to either
  const p = Tensor.from([5, 6], [2], 'f32', true);
  const s = addScalars([weightedSum(a, [1, 1]), weightedSum(p, [1, 1])]);
  assert.equal(s.ctx, c1);
});
