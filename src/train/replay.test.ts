import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findPreset } from '../config/presets.js';
import { cloneConfig, type Config } from '../config/schema.js';
import { createModel } from '../models/registry.js';
import type { MemoryModel } from '../models/model.js';
import { createTask } from '../tasks/registry.js';
import type { Batch, Task } from '../tasks/batch.js';
import { LengthGroups } from '../tasks/groups.js';
import { lossScale, maskedBceLoss } from './loss.js';
import { Rng } from '../tensor/random.js';
import { Tensor, type Buf } from '../tensor/tensor.js';
import { BufferPool, type F32Allocator } from '../tensor/pool.js';
import { Tape } from '../tensor/tape.js';
import { OpContext as LibraryOpContext } from '../index.js';
import { concat } from '../nn/columns.js';
import { linear } from '../nn/linear.js';
import { releaseParams } from '../kernels/adopt.js';
import { kernelHeapOrNull } from '../kernels/heap.js';
import { heapAllocator } from '../kernels/wasm.js';
import { accumulateGradients, forwardLogits, replayFor, StepContext } from './gradients.js';
import { StepReplay, type ReplayStats } from './replay.js';
import { seedStreams, Trainer } from './trainer.js';
import { OpContext, type JsRecorder } from '../tensor/context.js';

const heap = kernelHeapOrNull();
const skip = heap === null ? 'the WASM kernels are not built' : false;

interface Run {
  losses: number[];
  weights: Float32Array[];
  stats: ReplayStats | null;
  /** two evaluations, after the steps */
  evals: unknown[];
  evalStats: ReplayStats | null;
  /** forward and backward passes the training steps made (one per step with a scored sample) */
  passes: number;
  /** step shapes (T, B and, in length groups, the rows schedule) that ran under more than one loss normaliser */
  shapesUnderSeveralNormalisers: number;
}

interface Options {
  /** changes the model */
  wrap?: (m: MemoryModel, task: Task) => MemoryModel;
  /** changes the task's batches */
  batches?: (batch: Batch, n: number) => void;
  threads?: number;
  model?: Partial<Config['model']>;
  /** train.lengthGroupSize (default 0: each step one pass over the padded batch) */
  groupSize?: number;
  /** train.batchSize (default: the preset's) */
  batchSize?: number;
}

/** `steps` training steps from seed 5, with step replay on or off. */
function train(preset: string, steps: number, replay: boolean, { wrap, batches, threads = 1, model: changes = {}, groupSize = 0, batchSize }: Options = {}): Run {
  const config: Config = cloneConfig(findPreset(preset)!.config);
  config.train.threads = threads;
  config.train.lengthGroupSize = groupSize;
  if (batchSize !== undefined) config.train.batchSize = batchSize;
  Object.assign(config.model, changes);
  const streams = seedStreams(5);
  const inner = createTask(config.task);
  let n = 0, passes = 0;
  const normalisers = new Map<string, Set<number>>();
  const task: Task = { ...inner, sample: (rng, B, options) => {
    const b = inner.sample(rng, B, options);
    n++;
    batches?.(b, n);
    if (n <= steps) {
      // the training steps' batches come first
      const g = new LengthGroups();
      if (groupSize === 0 || g.plan(b, groupSize) > 0) {
        passes++;
        let shape = `${b.T},${b.B}`;
        if (groupSize > 0) {
          const s = g.sideBySide(b);
          shape = `${s.T},${s.B}: ${g.schedule.slice(0, s.T).join(' ')}`;
        }
        if (!normalisers.has(shape)) normalisers.set(shape, new Set());
        normalisers.get(shape)!.add(lossScale(b));
      }
    }
    return b;
  } };
  let model = createModel(config.model, task.inputSize, task.outputSize, streams.init);
  if (wrap) model = wrap(model, task);
  const trainer = new Trainer(model, task, config, streams, { replay });
  try {
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) losses.push(trainer.trainStep().loss);
    const evals = [trainer.evaluate(12), trainer.evaluate(12)];
    const { train: stats, eval: evalStats } = trainer.replayStats();
    if (!replay) assert.deepEqual([stats, evalStats], [null, null]);
    const shapesUnderSeveralNormalisers = [...normalisers.values()].filter((set) => set.size > 1).length;
    return { losses, weights: [...model.params.values()].map((p) => Float32Array.from(p.data)), stats, evals, evalStats, passes, shapesUnderSeveralNormalisers };
  } finally {
    trainer.dispose();
  }
}

function assertSameRun(a: Run, b: Run): void {
  assert.equal(a.losses.length, b.losses.length);
  a.losses.forEach((l, i) => assert.ok(Object.is(l, b.losses[i]), `loss of step ${i + 1}: ${l} vs ${b.losses[i]}`));
  a.weights.forEach((w, i) => assert.deepEqual(w, b.weights[i], `parameter ${i}`));
  assert.deepEqual(a.evals, b.evals);
}

/**
 * Leaves every other batch's last two time steps unscored: those batches need two steps fewer
 * than they are padded to (copy's lengths differ by two), so a step shape in length groups
 * (which runs only the steps needed) comes under two loss normalisers (which count the padded
 * steps), and one recorded under one is replayed under the other.
 */
function unscoredLastSteps(b: Batch, n: number): void {
  if (n % 2 === 1) b.mask.fill(0, Math.max(b.T - 2, 0) * b.B, b.T * b.B);
}

for (const [preset, groupSize, batchSize] of [
  ['ntm-copy-small', 0, undefined], ['dnc-repeat-copy-small', 0, undefined], ['lstm-copy-small', 0, undefined],
  ['ntm-copy-small', 2, 4], ['dnc-repeat-copy-small', 2, 4], ['lstm-copy-small', 2, 4],
] as const) {
  test(`${preset}${groupSize > 0 ? ` in length groups of ${groupSize}` : ''}: steps replayed from their recordings give the ordinary steps' losses, weights and evaluations, to the bit`, { skip }, () => {
    // (in length groups, more steps: the rows schedules make more step shapes)
    const batches = groupSize > 0 ? unscoredLastSteps : undefined, steps = groupSize > 0 ? 80 : 40;
    const off = train(preset, steps, false, { groupSize, batchSize, batches });
    const on = train(preset, steps, true, { groupSize, batchSize, batches });
    assertSameRun(on, off);
    const s = on.stats!;
    assert.deepEqual(s.failed, []);
    assert.equal(s.replayed + s.ordinary, on.passes);
    if (groupSize > 0) assert.ok(on.shapesUnderSeveralNormalisers >= 1, 'some step shape ran under two loss normalisers');
    assert.ok(s.checked >= 1 && s.replayed >= on.passes / 2, `recorded ${s.recorded}, checked ${s.checked}, replayed ${s.replayed} of ${on.passes}`);
    // every kernel call of a replay goes through runCalls's lists
    assert.ok(s.listedCalls > 0 && s.unlistedCalls === 0, `listed ${s.listedCalls}, unlisted ${s.unlistedCalls}`);
    const e = on.evalStats!;
    assert.deepEqual(e.failed, []);
    assert.ok(e.listedCalls > 0 && e.unlistedCalls === 0, `evaluation: listed ${e.listedCalls}, unlisted ${e.unlistedCalls}`);
    assert.ok(e.replayed >= 4, `evaluation: recorded ${e.recorded}, checked ${e.checked}, replayed ${e.replayed} of 24 forward passes`);
  });
}

for (const [preset, groupSize] of [['dnc-repeat-copy-small', 0], ['dnc-repeat-copy-small', 2], ['lstm-copy-small', 2]] as const) {
  test(`step replay with two gradient threads${groupSize > 0 ? ` and length groups of ${groupSize}` : ''} (${preset}): the same losses and weights as without it`, { skip }, () => {
    const off = train(preset, 12, false, { threads: 2, groupSize });
    const on = train(preset, 12, true, { threads: 2, groupSize });
    assertSameRun(on, off);
  });
}

/**
 * The model's logits plus K through a kernel product, K made by JavaScript: `data` adds 0.01 ×
 * the sum of the step's input and `constant` 0.25, neither telling ctx.replayJs (a replay would not
 * redo them; the constant is the same every step, so only a replay on NaN-filled buffers shows
 * that it reads what it never writes); `registered` is `data` told to the step context's replayJs.
 */
function jsWrites(kind: 'data' | 'constant' | 'registered'): (m: MemoryModel, task: Task) => MemoryModel {
  return (inner, task) => {
    const Y = task.outputSize;
    return {
      config: inner.config, inputSize: inner.inputSize, outputSize: inner.outputSize, params: inner.params,
      forward(ctx: LibraryOpContext, input, T, B, observer) {
        return inner.forward(ctx, input, T, B, observer).map((z) => {
          // step buffers not zeroed by the pool (no kernel call touches them before the product)
          const k = new Tensor(ctx.allocOverwritten('f32', B * Y), [B, Y], false, ctx);
          const sum = new Tensor(ctx.allocOverwritten('f32', 2 * Y * Y), [Y, 2 * Y], false, ctx); // [I | I]
          const write = (x: ArrayLike<number>): void => {
            k.data.fill(kind === 'constant' ? 0.25 : 0.01 * Array.from(x).reduce((a, b) => a + b, 0));
            sum.data.fill(0);
            for (let j = 0; j < Y; j++) sum.data[j * 2 * Y + j] = sum.data[j * 2 * Y + Y + j] = 1;
          };
          write(input);
          // as the library's users are told to: the same work, as a function of the batch
          if (kind === 'registered') ctx.replayJs((batch) => write(batch.input));
          return linear(concat([z, k]), sum, null);
        });
      },
    };
  };
}

for (const kind of ['data', 'constant'] as const) {
  test(`step replay: a step whose JavaScript writes (${kind === 'data' ? 'of the batch' : 'constants'}) were not recorded is never replayed`, { skip }, () => {
    const off = train('dnc-repeat-copy-small', 12, false, { wrap: jsWrites(kind) });
    const on = train('dnc-repeat-copy-small', 12, true, { wrap: jsWrites(kind) });
    assertSameRun(on, off);
    const s = on.stats!;
    assert.equal(s.replayed, 0);
    assert.ok(s.failed.length >= 1 && s.failed.every((r) => /differed from the ordinary step/.test(r)), s.failed.join('; '));
  });
}

test('step replay: JavaScript registered with replayJs (the library export) is replayed, to the bit', { skip }, () => {
  const off = train('dnc-repeat-copy-small', 12, false, { wrap: jsWrites('registered') });
  const on = train('dnc-repeat-copy-small', 12, true, { wrap: jsWrites('registered') });
  assertSameRun(on, off);
  assert.deepEqual(on.stats!.failed, []);
  assert.ok(on.stats!.replayed >= 6, `replayed ${on.stats!.replayed} of 12`);
});

test('step replay without runCalls\'s lists (no kernel in the table, as when the heap has no room for them): every call from JavaScript, to the bit', { skip }, () => {
  const h = heap!;
  const dispatchIndex = h.dispatchIndex;
  h.dispatchIndex = () => -1;
  let on: Run;
  try {
    on = train('dnc-repeat-copy-small', 16, true);
  } finally {
    h.dispatchIndex = dispatchIndex;
  }
  const off = train('dnc-repeat-copy-small', 16, false);
  assertSameRun(on, off);
  assert.deepEqual(on.stats!.failed, []);
  assert.ok(on.stats!.replayed >= 8, `replayed ${on.stats!.replayed} of 16`);
  assert.ok(on.stats!.listedCalls === 0 && on.stats!.unlistedCalls > 0, `listed ${on.stats!.listedCalls}, unlisted ${on.stats!.unlistedCalls}`);
});

test('step replay: a check step that comes out NaN gives no verdict (NaN would hide NaN); the next step of the shape checks', { skip }, () => {
  // the third batch (the shape's check: its first made buffers, its second was recorded) is NaN
  const opts: Options = { wrap: jsWrites('constant'), batches: (b, n) => void (n === 3 && b.input.fill(NaN)) };
  const off = train('dnc-repeat-copy-small', 12, false, opts);
  const on = train('dnc-repeat-copy-small', 12, true, opts);
  assert.ok(Number.isNaN(off.losses[2]));
  assertSameRun(on, off);
  assert.equal(on.stats!.replayed, 0);
  assert.equal(on.stats!.failed.length, 1);
});

for (const [preset, model] of [
  ['ntm-copy-small', { controller: 'feedforward' }], ['ntm-copy-small', { writeHeads: 2 }],
  ['dnc-repeat-copy-small', { writeHeads: 2 }], ['dnc-repeat-copy-small', { controller: 'feedforward' }],
] as const) {
  test(`step replay: ${preset} with ${JSON.stringify(model)} is replayed, to the bit`, { skip }, () => {
    const off = train(preset, 16, false, { model });
    const on = train(preset, 16, true, { model });
    assertSameRun(on, off);
    assert.deepEqual(on.stats!.failed, []);
    assert.ok(on.stats!.replayed >= 8, `replayed ${on.stats!.replayed} of 16`);
  });
}

for (const preset of ['ntm-copy-small', 'dnc-repeat-copy-small', 'lstm-copy-small']) {
  test(`${preset}: once a batch shape has run, its training steps make no buffers and are replayed`, { skip }, () => {
    const config: Config = cloneConfig(findPreset(preset)!.config);
    config.task.maxWords = config.task.minWords = 2; // one batch shape
    config.train.lengthGroupSize = 0;
    const streams = seedStreams(5);
    const task = createTask(config.task);
    const trainer = new Trainer(createModel(config.model, task.inputSize, task.outputSize, streams.init), task, config, streams);
    try {
      for (let i = 0; i < 4; i++) trainer.trainStep();
      const made = trainer.trainPool.fresh;
      assert.ok(made > 0);
      for (let i = 0; i < 20; i++) assert.ok(Number.isFinite(trainer.trainStep().loss));
      assert.equal(trainer.trainPool.fresh, made, 'buffers made after the shape\'s first steps');
      const s = trainer.replayStats().train!;
      assert.deepEqual(s.failed, []);
      assert.ok(s.replayed >= 20, `replayed ${s.replayed} of 24`);
    } finally {
      trainer.dispose();
    }
  });
}

test('step replay: a step with buffers off the kernel heap is not recorded, and parameters that move are recorded again', { skip }, () => {
  const config = cloneConfig(findPreset('ntm-copy-small')!.config);
  const task = createTask(config.task);
  const model = createModel(config.model, task.inputSize, task.outputSize, new Rng(2));
  const batch = task.sample(new Rng(3), 4, { length: 2 });
  const grads = (): Float32Array[] => [...model.params.values()].map((p) => Float32Array.from(p.grad!));
  const zero = (): void => {
    for (const p of model.params.values()) p.g().fill(0);
  };
  // a pool of ordinary arrays: every kernel call copies its arguments, which a replay cannot
  const plain = new StepContext(new BufferPool());
  for (let i = 0; i < 3; i++) accumulateGradients(model, batch, plain);
  assert.match(replayFor(model, plain)!.stats.failed.join(), /off the heap|off the kernel heap/);
  assert.equal(replayFor(model, plain)!.stats.replayed, 0);

  const pool = new StepContext(new BufferPool(heapAllocator()));
  const r = replayFor(model, pool)!;
  zero();
  const first = accumulateGradients(model, batch, pool);
  const expected = grads();
  for (let i = 0; i < 3; i++) {
    zero();
    assert.ok(Object.is(accumulateGradients(model, batch, pool), first));
    assert.deepEqual(grads(), expected);
  }
  assert.ok(r.stats.replayed >= 1, `replayed ${r.stats.replayed}`);
  // parameters moved off the heap: the recordings are dropped and the steps go the ordinary way
  // (off the heap, the heads' products are not fused, so the last bits differ from the above)
  releaseParams(model.params);
  zero();
  const offHeap = accumulateGradients(model, batch, new StepContext(new BufferPool(heapAllocator()), { replay: false }));
  const offHeapGrads = grads();
  const replayedBefore = r.stats.replayed;
  for (let i = 0; i < 3; i++) {
    zero();
    assert.ok(Object.is(accumulateGradients(model, batch, pool), offHeap));
    assert.deepEqual(grads(), offHeapGrads);
  }
  assert.equal(r.stats.replayed, replayedBefore);
  assert.match(r.stats.failed.join(), /off the heap|off the kernel heap/);
  // a cleared pool drops its recordings, and their scratch blocks go back to the heap
  const before = heap!.bytes;
  for (let round = 0; round < 3; round++) {
    const p = new StepContext(new BufferPool(heapAllocator()));
    const m = createModel(config.model, task.inputSize, task.outputSize, new Rng(2));
    for (let i = 0; i < 4; i++) accumulateGradients(m, batch, p);
    assert.ok(replayFor(m, p)!.stats.replayed >= 1);
    p.pool.clear();
    releaseParams(m.params);
  }
  assert.ok(heap!.bytes - before < 1 << 20, `the heap grew by ${heap!.bytes - before} bytes over three models`);
});

test('KernelHeap recording: calls reach the recorder with their arguments; a kernel result JavaScript could read, or a second recording, is refused', { skip }, () => {
  const h = heap!;
  const calls: string[] = [], failures: string[] = [];
  const scratch: number[] = [];
  const recorder = {
    call: (_fn: unknown, args: readonly number[]) => void calls.push(args.join(',')),
    tmp: (n: number) => {
      const p = h.allocRaw(n);
      scratch.push(p, n);
      return p;
    },
    fail: (reason: string) => void failures.push(reason),
    js: () => undefined,
  };
  const b = h.alloc(8)!;
  b.fill(2);
  h.startRecording(recorder);
  try {
    assert.throws(() => h.startRecording(recorder), /already under way/);
    h.k.zeroBytes(h.ptr(b), 16);
    assert.deepEqual(calls, [`${h.ptr(b)},16`]);
    assert.deepEqual(Array.from(b), [0, 0, 0, 0, 2, 2, 2, 2], 'the call still ran');
    assert.equal(h.tmp(3), scratch[0], 'scratch comes from the recorder');
    assert.deepEqual(failures, []);
    assert.equal(h.k.sumSquares(h.ptr(b), 8), 16);
    assert.match(failures.join(), /sumSquares returned a value/);
  } finally {
    h.stopRecording();
    for (let i = 0; i < scratch.length; i += 2) h.releaseRaw(scratch[i]!, scratch[i + 1]!);
    h.release(b);
  }
  const before = calls.length, c = h.alloc(4)!;
  h.k.zeroBytes(h.ptr(c), 16);
  h.release(c);
  assert.equal(calls.length, before, 'nothing recorded after stopRecording');
});

test('step replay: forward passes and training steps of one shape on one pool are recorded apart', { skip }, () => {
  const config = cloneConfig(findPreset('ntm-copy-small')!.config);
  const task = createTask(config.task);
  const model = createModel(config.model, task.inputSize, task.outputSize, new Rng(2));
  const batch = task.sample(new Rng(3), 4, { length: 2 });
  const params = [...model.params.values()];
  const zero = (): void => params.forEach((p) => p.g().fill(0));
  zero();
  const expected = accumulateGradients(model, batch, new StepContext(new BufferPool(heapAllocator())));
  const grads = params.map((p) => Float32Array.from(p.grad!));
  const pool = new StepContext(new BufferPool(heapAllocator()));
  for (let i = 0; i < 4; i++) forwardLogits(model, batch, pool); // recorded, checked, replayed
  for (let i = 0; i < 4; i++) {
    zero();
    assert.ok(Object.is(accumulateGradients(model, batch, pool), expected), `training step ${i + 1} on the pool`);
    params.forEach((p, k) => assert.deepEqual(p.grad, grads[k], `gradient ${k}`));
  }
  assert.ok(replayFor(model, pool)!.stats.replayed >= 2);
});

test('step replay keeps at most its number of shapes: a new one drops the one run least recently, and is replayed', { skip }, () => {
  const config = cloneConfig(findPreset('ntm-copy-small')!.config);
  const task = createTask(config.task);
  const model = createModel(config.model, task.inputSize, task.outputSize, new Rng(4));
  const pool = new BufferPool(heapAllocator());
  const replay = new StepReplay(model, pool, heap!, 2);
  const params = [...model.params.values()];
  // three shapes (lengths 1, 2 and 3), each run four times in a row: recorded, checked, replayed
  const batches = [1, 2, 3].map((L) => task.sample(new Rng(5 + L), 4, { length: L }));
  const ordinary = (batch: Batch) => (recorder: JsRecorder | null): Buf[] => {
    const tape = new Tape();
    const loss = maskedBceLoss(model.forward(OpContext.step(pool, tape, recorder), batch.input, batch.T, batch.B), batch);
    tape.backward(loss);
    return [loss.data];
  };
  const expected = batches.map((b) => {
    params.forEach((p) => p.g().fill(0));
    return ordinary(b)(null)[0]![0]!;
  });
  for (const k of [0, 1, 2, 0]) {
    const replayedBefore = replay.stats.replayed;
    for (let i = 0; i < 4; i++) {
      params.forEach((p) => p.g().fill(0));
      const b = batches[k]!;
      assert.ok(Object.is(replay.run(b, lossScale(b), ordinary(b))[0]![0], expected[k]), `shape ${k}, run ${i + 1}`);
    }
    assert.ok(replay.stats.replayed > replayedBefore, `shape ${k} was replayed (a third shape is not left to the ordinary path)`);
  }
  // shape 0 was dropped for shape 2 (run least recently), then recorded again
  assert.equal(replay.stats.recorded, 4);
  assert.deepEqual(replay.stats.failed, []);
});

test('step replay in length groups on a pool that gives buffers back after 3 idle steps: the losses and gradients of the ordinary steps, to the bit', { skip }, () => {
  const config = cloneConfig(findPreset('dnc-repeat-copy-small')!.config);
  const task = createTask(config.task);
  const model = createModel(config.model, task.inputSize, task.outputSize, new Rng(6));
  const params = [...model.params.values()];
  const run = (replay: boolean): { out: number[][]; steps: StepContext } => {
    // a buffer given back is filled with NaN first: a replay on one would show
    const heapAlloc = heapAllocator()!;
    const poisoning: F32Allocator = { alloc: (n) => heapAlloc.alloc(n), zero: (b) => heapAlloc.zero(b), release: (b) => { b.fill(NaN); heapAlloc.release(b); } };
    const steps = new StepContext(new BufferPool(poisoning, 3), { replay }), rng = new Rng(7), out: number[][] = [];
    for (let i = 0; i < 120; i++) {
      // groups one at a time and all at once, by turns of 15 steps: the buffers only one of
      // them takes are given back during the other's turn, and made again after
      const batch = task.sample(rng, 4);
      params.forEach((p) => p.g().fill(0));
      const loss = accumulateGradients(model, batch, steps, undefined, 2, Math.floor(i / 15) % 2);
      out.push([loss, ...params.flatMap((p) => Array.from(p.grad!.subarray(0, 8)))]);
    }
    return { out, steps };
  };
  const off = run(false), on = run(true);
  on.out.forEach((row, i) => row.forEach((v, j) => assert.ok(Object.is(v, off.out[i]![j]), `step ${i + 1}, value ${j}: ${v} vs ${off.out[i]![j]}`)));
  const s = replayFor(model, on.steps)!.stats;
  assert.ok(on.steps.pool.released > 0, 'buffers were given back');
  assert.ok(s.replayed >= 30, `replayed ${s.replayed} of 120`);
  assert.deepEqual(s.failed, []);
});
