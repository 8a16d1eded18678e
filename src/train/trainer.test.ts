import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findPreset } from '../config/presets.js';
import { cloneConfig, type Config } from '../config/schema.js';
import { createModel, releaseModel } from '../models/registry.js';
import { kernelHeapOrNull } from '../kernels/heap.js';
import { createTask } from '../tasks/registry.js';
import { Rng } from '../tensor/random.js';
import { NonFiniteError, seedStreams, Trainer } from './trainer.js';
import { OpContext } from '../tensor/context.js';

function trainer(edit: (c: Config) => void = () => {}): Trainer {
  const config = cloneConfig(findPreset('ntm-copy-small')!.config);
  config.train.batchSize = 4;
  config.train.evalBatches = 1;
  edit(config);
  const streams = seedStreams(config.seed);
  const task = createTask(config.task);
  return new Trainer(createModel(config.model, task.inputSize, task.outputSize, streams.init), task, config, streams);
}

/** Every weight and optimiser value, and the optimiser's step. */
function everything(tr: Trainer): { values: number[][]; optimizerStep: number } {
  const s = tr.optimizer.state();
  return { values: [...[...tr.model.params.values()].map((p) => Array.from(p.data)), ...[...s.buffers.values()].map((b) => Array.from(b))], optimizerStep: s.step };
}

test('a NaN in one gradient value: the step is skipped and counted, weights and optimiser untouched', () => {
  const tr = trainer();
  tr.trainStep();
  tr.gradientHook = (step, params) => {
    if (step === 2) params.get('output.bias')!.g()[1] = NaN;
  };
  const before = everything(tr);
  const r = tr.trainStep();
  assert.equal(r.skipped, true);
  assert.ok(Number.isNaN(r.gradNorm));
  assert.deepEqual(everything(tr), before);
  assert.equal(tr.skippedSteps, 1);
  assert.equal(tr.badInARow, 1);
  assert.equal(tr.step, 2, 'a skipped step still uses up its batch and its step number');
  assert.equal(tr.trainStep().skipped, false);
  assert.equal(tr.badInARow, 0, 'a good step ends the streak');
  assert.equal(tr.skippedSteps, 1);
  assert.equal(tr.lossCount, 2, 'the running training loss leaves out the skipped step');
});

test('an update that overflows (finite gradients, huge lr) is undone', () => {
  const tr = trainer((c) => {
    c.optimizer.lr = 1e39; // finite in float64, infinite once applied to float32 weights
    c.optimizer.clipNorm = 0;
  });
  const before = everything(tr);
  const r = tr.trainStep();
  assert.ok(Number.isFinite(r.loss) && Number.isFinite(r.gradNorm));
  assert.equal(r.skipped, true);
  assert.deepEqual(everything(tr), before);
});

test('train.maxBadSteps in a row stop training with NonFiniteError, the weights those from before the streak', () => {
  const tr = trainer((c) => (c.train.maxBadSteps = 3));
  tr.trainStep();
  const before = everything(tr);
  tr.gradientHook = (_step, params) => {
    params.get('output.weight')!.g()[0] = Infinity;
  };
  tr.trainStep();
  tr.trainStep();
  assert.throws(() => tr.trainStep(), (e: Error) => e instanceof NonFiniteError &&
    /^3 non-finite steps in a row up to step 4 \(last: loss [\d.e-]+, gradient norm Infinity\); lower optimizer\.lr or raise train\.maxBadSteps$/.test(e.message));
  assert.deepEqual(everything(tr), before);
  assert.equal(tr.skippedSteps, 3);
});

test('an off-schedule evaluation changes nothing that later training or evaluation sees', () => {
  const a = trainer(), b = trainer();
  for (const tr of [a, b]) for (let i = 0; i < 3; i++) tr.trainStep();
  const side = a.evalRecord(0, false);
  assert.equal(side.step, 3);
  assert.equal(a.lossCount, 3, 'the running loss is kept');
  for (let i = 0; i < 2; i++) {
    a.trainStep();
    b.trainStep();
  }
  assert.deepEqual(a.evalRecord(0), b.evalRecord(0));
  assert.deepEqual(everything(a), everything(b));
});

test('dispose and releaseModel give the kernel heap back: trainer after trainer stays bounded; a released model still computes the same', () => {
  const heap = kernelHeapOrNull()!;
  const config = cloneConfig(findPreset('ntm-copy-small')!.config);
  const cycle = (): number => {
    const streams = seedStreams(config.seed);
    const task = createTask(config.task);
    const model = createModel(config.model, task.inputSize, task.outputSize, streams.init);
    const trainer = new Trainer(model, task, config, streams);
    for (let i = 0; i < 3; i++) trainer.trainStep();
    const batch = task.sample(new Rng(8), 2);
    const before = model.forward(OpContext.plain, batch.input, batch.T, batch.B).map((t) => Array.from(t.data));
    trainer.dispose();
    releaseModel(model);
    assert.ok([...model.params.values()].every((p) => !heap.owns(p.data) && !heap.owns(p.grad)), 'parameters off the heap');
    assert.deepEqual(model.forward(OpContext.plain, batch.input, batch.T, batch.B).map((t) => Array.from(t.data)), before, 'the same outputs');
    assert.throws(() => trainer.trainStep(), /disposed/);
    assert.equal(Number.isFinite(trainer.optimizer.state().step), true, 'the optimiser state is still readable');
    return heap.bytes;
  };
  cycle();
  const after = cycle();
  for (let i = 0; i < 3; i++) assert.equal(cycle(), after, 'no growth from one trainer to the next');
});

test('two trainers in one thread, one replaying its steps and one not (TrainerOptions.replay), stepped alternately: each gives the losses and weights it gives alone, to the bit', () => {
  const make = (replay: boolean): Trainer => {
    const config = cloneConfig(findPreset('dnc-repeat-copy-small')!.config);
    config.train.batchSize = 4;
    config.train.evalBatches = 1;
    const streams = seedStreams(config.seed);
    const task = createTask(config.task);
    // T fixed, so the replaying trainer records, checks and replays within a few steps
    const fixed: typeof task = { ...task, sample: (rng, B, options) => task.sample(rng, B, { ...options, length: 3, repeats: 2 }) };
    return new Trainer(createModel(config.model, task.inputSize, task.outputSize, streams.init), fixed, config, streams, { replay });
  };
  const steps = 8;
  const alone = (replay: boolean): { losses: number[]; weights: number[][] } => {
    const tr = make(replay);
    const losses = Array.from({ length: steps }, () => tr.trainStep().loss);
    const weights = [...tr.model.params.values()].map((p) => Array.from(p.data));
    tr.dispose();
    releaseModel(tr.model);
    return { losses, weights };
  };
  const soloOn = alone(true), soloOff = alone(false);
  const on = make(true), off = make(false);
  const lossesOn: number[] = [], lossesOff: number[] = [];
  for (let i = 0; i < steps; i++) {
    lossesOn.push(on.trainStep().loss);
    lossesOff.push(off.trainStep().loss);
  }
  assert.deepEqual(lossesOn, soloOn.losses);
  assert.deepEqual(lossesOff, soloOff.losses);
  assert.deepEqual([...on.model.params.values()].map((p) => Array.from(p.data)), soloOn.weights);
  assert.deepEqual([...off.model.params.values()].map((p) => Array.from(p.data)), soloOff.weights);
  // replay changes no result: the two trainers give the same bits
  assert.deepEqual(lossesOn, lossesOff);
  assert.equal(off.replayStats().train, null);
  if (kernelHeapOrNull() !== null) assert.ok(on.replayStats().train!.replayed > 0, 'the first trainer replayed steps');
  for (const tr of [on, off]) {
    tr.dispose();
    releaseModel(tr.model);
  }
});

test('the kernels are a trainer\'s own (TrainerOptions.kernels): a trainer on the WASM kernels and one on the TypeScript twins, stepped alternately in one thread, each give the losses of their runs alone, to the bit', () => {
  const kernelsOf = (kernels: 'wasm' | 'ts', preset: string): Trainer => {
    const config = cloneConfig(findPreset(preset)!.config);
    config.train.batchSize = 4;
    config.train.evalBatches = 1;
    const streams = seedStreams(config.seed);
    const task = createTask(config.task);
    return new Trainer(createModel(config.model, task.inputSize, task.outputSize, streams.init), task, config, streams, { kernels });
  };
  const STEPS = 6;
  /** per step, the loss; then evaluation's loss */
  const run = (trainers: readonly Trainer[]): number[][] => {
    const out: number[][] = trainers.map(() => []);
    for (let i = 0; i < STEPS; i++) trainers.forEach((tr, k) => out[k]!.push(tr.trainStep().loss));
    trainers.forEach((tr, k) => out[k]!.push(tr.evaluate().loss));
    for (const tr of trainers) tr.dispose();
    return out;
  };
  for (const preset of ['ntm-copy-small', 'dnc-repeat-copy-small']) {
    // alone (the models made the same way: on the kernel heap, as the process's default kernels are the WASM ones)
    const [aloneTs] = run([kernelsOf('ts', preset)]) as [number[]];
    const [aloneWasm] = run([kernelsOf('wasm', preset)]) as [number[]];
    assert.notDeepEqual(aloneTs, aloneWasm, `${preset}: the two kernels round differently somewhere`);
    // side by side, the kernels chosen per trainer
    const wasm = kernelsOf('wasm', preset), ts = kernelsOf('ts', preset);
    assert.equal(wasm.kernels, 'wasm');
    assert.equal(ts.kernels, 'ts');
    const [both0, both1] = run([wasm, ts]) as [number[], number[]];
    assert.deepEqual(both0, aloneWasm, `${preset}: the WASM trainer beside a TypeScript one`);
    assert.deepEqual(both1, aloneTs, `${preset}: the TypeScript trainer beside a WASM one`);
  }
});
