import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findPreset } from '../config/presets.js';
import { cloneConfig, type Config } from '../config/schema.js';
import { createModel } from '../models/registry.js';
import { createTask } from '../tasks/registry.js';
import { Rng } from '../tensor/random.js';
import { BufferPool } from '../tensor/pool.js';
import { kernelBuild, kernelHeapOrNull } from '../kernels/heap.js';
import { setKernels } from '../kernels/wasm.js';
import { adoptedLayout, releaseParams } from '../kernels/adopt.js';
import { assertAllClose } from '../tensor/testing.js';
import { accumulateGradients, StepContext } from './gradients.js';
import { GradientWorkerError, ParallelGradients, sliceSize } from './parallel.js';
import { State, waitWhile } from './parallel-protocol.js';
import { Worker } from 'node:worker_threads';
import { seedStreams, Trainer } from './trainer.js';

test('sliceSize: contiguous slices as equal as possible, never more slices than samples', () => {
  const sizes = (B: number, parts: number): number[] => Array.from({ length: parts }, (_, i) => sliceSize(B, parts, i));
  assert.deepEqual(sizes(16, 2), [8, 8]);
  assert.deepEqual(sizes(7, 3), [3, 2, 2]);
  assert.deepEqual(sizes(2, 4), [1, 1, 0, 0]);
  assert.deepEqual(sizes(5, 1), [5]);
});

function setup(name: string, kernelHeap = true): { config: Config; model: ReturnType<typeof createModel>; batch: ReturnType<ReturnType<typeof createTask>['sample']> } {
  const config = cloneConfig(findPreset(name)!.config);
  config.train.batchSize = 7; // odd, so the slices differ in size
  const task = createTask(config.task);
  const model = createModel(config.model, task.inputSize, task.outputSize, new Rng(3), 'f32', { kernelHeap });
  return { config, model, batch: task.sample(new Rng(4), config.train.batchSize) };
}

// kernelHeap false: this thread's parameters are ordinary arrays, so the shared buffers hold them
// back to back and go across one parameter at a time (the workers' own, on their heaps, too);
// else the model's block of parameters is laid out in them as it is and goes across whole.
/**
 * Asserts that 3 threads give `batch` the loss and gradients one thread gives the padded batch
 * (float32 rounding only); `then` runs while the workers are up.
 */
function threadsMatchOne(config: Config, model: ReturnType<typeof createModel>, batch: ReturnType<ReturnType<typeof createTask>['sample']>, then?: (par: ParallelGradients) => void): void {
  const params = [...model.params.values()];
  for (const p of params) p.g().fill(0);
  const single = accumulateGradients(model, batch, new StepContext(new BufferPool()));
  const expected = params.map((p) => Float32Array.from(p.grad!));
  for (const p of params) p.g().fill(0);
  const par = new ParallelGradients(model, config, 3);
  try {
    const loss = par.accumulate(model, batch, new StepContext(new BufferPool()));
    assert.ok(Math.abs(loss - single) <= 1e-6 * Math.abs(single), `loss ${loss} vs ${single}`);
    const scale = Math.max(...expected.map((g) => Math.max(...Array.from(g, Math.abs))));
    params.forEach((p, i) => assertAllClose(p.grad!, expected[i]!, 1e-5 * scale, 1e-4, `gradient ${i}`));
    then?.(par);
  } finally {
    par.close();
  }
}

// kernelHeap false: this thread's parameters are ordinary arrays, so the shared buffers hold them
// back to back and go across one parameter at a time (the workers' own, on their heaps, too);
// else the model's block of parameters is laid out in them as it is and goes across whole.
// groupSize 0: contiguous slices of the padded batch; else whole length groups dealt to threads,
// atOnce of them side by side (0: all of a thread's).
for (const [name, kernelHeap, groupSize, atOnce] of [['ntm-copy-small', true, 4, 0], ['dnc-repeat-copy-small', true, 4, 0], ['dnc-repeat-copy-small', false, 4, 0], ['ntm-copy-small', true, 0, 0], ['dnc-repeat-copy-small', true, 2, 0], ['dnc-repeat-copy-small', true, 2, 1], ['ntm-copy-small', true, 1, 2], ['lstm-copy-small', true, 4, 0], ['lstm-copy-small', false, 0, 0]] as const) {
  test(`${name}${kernelHeap ? '' : ' (parameters off the kernel heap)'}, ${groupSize > 0 ? `length groups of ${groupSize}, ${atOnce === 0 ? 'all' : atOnce} at once` : 'whole batches'}: gradients from 3 threads equal the single-thread gradients (float32 rounding only)`, () => {
    const { config, model, batch } = setup(name, kernelHeap);
    config.train.lengthGroupSize = groupSize;
    config.train.lengthGroupsAtOnce = atOnce;
    assert.equal(adoptedLayout(model.params) !== undefined, kernelHeap);
    threadsMatchOne(config, model, batch, (par) => {
      // a second step with other weights uses the new weights
      const params = [...model.params.values()];
      for (const p of params) { p.data[0]! += 0.5; p.g().fill(0); }
      const again = par.accumulate(model, batch, new StepContext(new BufferPool()));
      for (const p of params) p.g().fill(0);
      const ref = accumulateGradients(model, batch, new StepContext(new BufferPool()));
      assert.ok(Math.abs(again - ref) <= 1e-6 * Math.abs(ref), `after a weight change: ${again} vs ${ref}`);
    });
  });
}

test('the weights and gradients the workers share are blocks of the kernel heap, given back when the workers stop', async () => {
  const heap = kernelHeapOrNull()!;
  const { config, model } = setup('ntm-copy-small');
  const size = adoptedLayout(model.params)!.data.length; // the shared buffers are laid out as the model's block
  const par = new ParallelGradients(model, config, 3);
  const blocks = [0, 1, 2].map(() => heap.alloc(size)!); // after the pool's three (weights, two workers' gradients)
  for (const b of blocks) heap.release(b);
  await par.close();
  await par.close(); // a second close gives nothing back twice
  assert.throws(() => par.accumulate(model, setup('ntm-copy-small').batch, new StepContext(new BufferPool())), /closed/);
  // the three blocks ParallelGradients took are free again: three more allocations of that size reuse blocks, not the top
  const top = heap.bytes;
  const again = [0, 1, 2, 3, 4, 5].map(() => heap.alloc(size)!);
  assert.equal(heap.bytes, top, 'no growth: six blocks of that size were free');
  assert.equal(new Set(again.map((b) => b.byteOffset)).size, 6, 'six different blocks');
  for (const b of again) heap.release(b);
});

for (const preset of ['ntm-copy-small', 'lstm-copy-small']) test(`training with 2 threads is deterministic and close to training with 1 (${preset})`, () => {
  const run = (threads: number): number[] => {
    const config = cloneConfig(findPreset(preset)!.config);
    config.train.threads = threads;
    config.train.evalBatches = 2;
    const streams = seedStreams(config.seed);
    const task = createTask(config.task);
    const trainer = new Trainer(createModel(config.model, task.inputSize, task.outputSize, streams.init), task, config, streams);
    try {
      const losses: number[] = [];
      for (let i = 0; i < 20; i++) losses.push(trainer.trainStep().loss);
      return losses;
    } finally {
      trainer.close();
    }
  };
  const a = run(2), b = run(2), one = run(1);
  assert.deepEqual(a, b);
  // the same batches and (up to rounding) the same gradients: the first losses agree closely
  assert.ok(Math.abs(a[0]! - one[0]!) <= 1e-6 * one[0]!, `${a[0]} vs ${one[0]}`);
  assert.ok(Math.abs(a[19]! - one[19]!) <= 1e-2 * one[19]!, `${a[19]} vs ${one[19]}`);
});

test('gradient workers run their trainer\'s build of the kernels, whatever their environment says: an evaluation split over 3 threads matches one thread to the bit', () => {
  const before = process.env.ENGRAM_FMA;
  // a worker's environment is a copy of this one when it starts: ask it for the other build
  process.env.ENGRAM_FMA = kernelBuild() === 'fma' ? '0' : '1';
  try {
    const { trainer, one } = threeAndOne('dnc-repeat-copy-small');
    try {
      trainer.trainStep(); // starts the workers
      assert.deepEqual(trainer.evaluate(3, undefined, new Rng(5)), one.evaluate(3, undefined, new Rng(5)));
    } finally {
      trainer.close();
    }
  } finally {
    if (before === undefined) delete process.env.ENGRAM_FMA;
    else process.env.ENGRAM_FMA = before;
  }
});

/** A trainer on 3 threads (batch 7: slices of 3, 2 and 2) and one on 1, sharing one model. */
function threeAndOne(name: string): { model: ReturnType<typeof createModel>; trainer: Trainer; one: Trainer } {
  const config = cloneConfig(findPreset(name)!.config);
  config.train.threads = 3;
  config.train.batchSize = 7;
  const streams = seedStreams(config.seed);
  const task = createTask(config.task);
  const model = createModel(config.model, task.inputSize, task.outputSize, streams.init);
  const trainer = new Trainer(model, task, config, streams);
  return { model, trainer, one: new Trainer(model, task, { ...config, train: { ...config.train, threads: 1 } }, streams) };
}

for (const name of ['ntm-copy-small', 'dnc-repeat-copy-small', 'lstm-copy-small']) {
  test(`${name}: an evaluation split over 3 threads gives the metrics of one thread, to the bit`, () => {
    const { trainer, one } = threeAndOne(name);
    try {
      for (let i = 0; i < 3; i++) trainer.trainStep(); // starts the workers; the weights move on
      for (let round = 0; round < 2; round++) {
        const split = trainer.evaluate(5, undefined, new Rng(11 + round));
        const whole = one.evaluate(5, undefined, new Rng(11 + round));
        assert.deepEqual(split, whole);
        assert.ok(split.loss > 0 && Number.isFinite(split.loss));
      }
    } finally {
      trainer.close();
    }
  });
}

test('after an error in a threaded step, the workers are replaced: no answer of the failed step is read as the next one\'s', () => {
  const { model, trainer, one } = threeAndOne('ntm-copy-small');
  try {
    for (let i = 0; i < 3; i++) trainer.trainStep();
    // this thread's slice fails while the workers compute theirs
    const forward = model.forward.bind(model);
    let fail = true;
    model.forward = (...args) => {
      if (fail) {
        fail = false;
        throw new Error('injected');
      }
      return forward(...args);
    };
    assert.throws(() => trainer.evaluate(1, undefined, new Rng(1)), /injected/);
    assert.deepEqual(trainer.evaluate(3, undefined, new Rng(11)), one.evaluate(3, undefined, new Rng(11)));
    const r = trainer.trainStep();
    assert.ok(Number.isFinite(r.loss) && !r.skipped, JSON.stringify(r));
    // the kernels are the trainer's (TrainerOptions.kernels), its workers' too: switching the
    // process's default changes neither it nor them
    setKernels('ts');
    try {
      trainer.trainStep();
      assert.deepEqual(trainer.evaluate(2, undefined, new Rng(12)), one.evaluate(2, undefined, new Rng(12)));
    } finally {
      setKernels('wasm');
    }
  } finally {
    trainer.close();
  }
});

test('waitWhile: returns at once when the word differs, when another thread changes it (spinning or asleep), and false once its time is up', async () => {
  const control = new Int32Array(new SharedArrayBuffer(4));
  control[0] = State.Done;
  assert.equal(waitWhile(control, State.Go, 1, 1000), true);
  control[0] = State.Go;
  const t0 = Date.now();
  assert.equal(waitWhile(control, State.Go, 1, 30, 5), false, 'nobody changes it: false once the time is up');
  assert.ok(Date.now() - t0 >= 30);
  for (const spinMs of [0, 50]) {
    control[0] = State.Go;
    // a thread that sets Done after 20 ms and wakes sleepers
    const w = new Worker(`const { workerData } = require('node:worker_threads'); const c = new Int32Array(workerData);
      setTimeout(() => { Atomics.store(c, 0, ${State.Done}); Atomics.notify(c, 0); }, 20);`, { eval: true, workerData: control.buffer });
    assert.equal(waitWhile(control, State.Go, spinMs, 10_000), true, `spin ${spinMs} ms`);
    assert.equal(Atomics.load(control, 0), State.Done);
    await w.terminate();
  }
});

test('a gradient worker that failed to start is reported at the next step, not after a timeout', async () => {
  const { config, model, batch } = setup('ntm-copy-small');
  const broken = cloneConfig(config);
  broken.model.hiddenSize = -5; // the worker cannot build its model
  const par = new ParallelGradients(model, broken, 2);
  try {
    await new Promise((r) => setTimeout(r, 1500)); // it has failed by now
    const t0 = Date.now();
    assert.throws(() => par.accumulate(model, batch, new StepContext(new BufferPool())), (e: Error) =>
      e instanceof GradientWorkerError && /failed to start/.test(e.message) && /train\.threads=1/.test(e.message));
    assert.ok(Date.now() - t0 < 5000);
  } finally {
    await par.close();
  }
});

test('parameters moved off the kernel heap (releaseParams) between steps: the workers still get the weights and give their gradients', () => {
  const { config, model, batch } = setup('dnc-repeat-copy-small');
  const par = new ParallelGradients(model, config, 2);
  try {
    par.accumulate(model, batch, new StepContext(new BufferPool())); // the first step on the model's block
    releaseParams(model.params);
    assert.equal(adoptedLayout(model.params), undefined);
    const params = [...model.params.values()];
    for (const p of params) { p.data[0]! += 0.25; p.g().fill(0); }
    const loss = par.accumulate(model, batch, new StepContext(new BufferPool()));
    const got = params.map((p) => Float32Array.from(p.grad!));
    for (const p of params) p.g().fill(0);
    const single = accumulateGradients(model, batch, new StepContext(new BufferPool()));
    assert.ok(Math.abs(loss - single) <= 1e-6 * Math.abs(single), `loss ${loss} vs ${single}`);
    const scale = Math.max(...params.map((p) => Math.max(...Array.from(p.grad!, Math.abs))));
    params.forEach((p, i) => assertAllClose(got[i]!, p.grad!, 1e-5 * scale, 1e-4, `gradient ${i}`));
  } finally {
    par.close();
  }
});

test('a slice longer than any before goes in a larger shared buffer: its gradients and logits are those of one thread, and later slices still are', () => {
  const { trainer, one } = threeAndOne('ntm-copy-small');
  try {
    trainer.trainStep(); // the workers start with their first buffers
    // T = 602: a worker's slice of 2 samples needs more floats than a first buffer holds
    for (const length of [300, 2, 400]) {
      assert.deepEqual(trainer.evaluate(1, length, new Rng(13)), one.evaluate(1, length, new Rng(13)), `length ${length}`);
    }
    const { config, model } = setup('ntm-copy-small');
    threadsMatchOne(config, model, createTask(config.task).sample(new Rng(5), 7, { length: 300 }));
  } finally {
    trainer.close();
  }
});
