import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPreset } from '../config/presets.js';
import { cloneConfig } from '../config/schema.js';
import { createModel } from '../models/registry.js';
import { createTask } from '../tasks/registry.js';
import { seedStreams, Trainer } from '../train/trainer.js';
import { applyWeights, CheckpointError, configDifferences, encodeCheckpointFile, loadCheckpoint, saveCheckpoint, statePath, weightsPath, type TrainingState } from './checkpoint.js';
import { decodeSafetensors } from './safetensors.js';

function setup(): { trainer: Trainer; state: () => TrainingState; dir: string } {
  const config = cloneConfig(findPreset('ntm-copy-small')!.config);
  config.train.batchSize = 4;
  const streams = seedStreams(config.seed);
  const task = createTask(config.task);
  const trainer = new Trainer(createModel(config.model, task.inputSize, task.outputSize, streams.init), task, config, streams);
  for (let i = 0; i < 3; i++) trainer.trainStep();
  const state = (): TrainingState => ({
    step: trainer.step, optimizerStep: trainer.optimizer.state().step,
    rng: { train: streams.train.getState(), eval: streams.eval.getState() },
    best: { step: 3, bitErrorsPerSeq: 1.5, loss: 0.25 }, skippedSteps: 0, badInARow: 0, elapsedSec: 1.25, config,
    runningLoss: { sum: trainer.lossSum, count: trainer.lossCount },
  });
  const dir = mkdtempSync(join(tmpdir(), 'engram-ckpt-'));
  made.push(dir);
  return { trainer, state, dir };
}

const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

test('save then load gives back the weights, the optimiser buffers and the whole state exactly', () => {
  const { trainer, state, dir } = setup();
  saveCheckpoint(dir, 'last', trainer.model.params, trainer.optimizer.state(), state());
  const ck = loadCheckpoint(dir, 'last');
  assert.deepEqual(ck.state, { ...state(), optimizerStep: 3 });
  assert.equal(ck.weights.step, 3);
  for (const [k, p] of trainer.model.params) assert.deepEqual(Array.from(ck.weights.tensors.get(k)!.data), Array.from(p.data), k);
  for (const [k, b] of trainer.optimizer.state().buffers) assert.deepEqual(Array.from(ck.optimizer.get(k)!), Array.from(b), k);
  const fresh = setup().trainer; // same seed: same init, different from the trained weights
  applyWeights(fresh.model.params, ck.weights.tensors, 'x');
  fresh.optimizer.loadState(ck.state.optimizerStep, ck.optimizer);
  assert.deepEqual(fresh.optimizer.state().step, 3);
});

test('one pair saved under two names (a new best is also the last): the same bytes under each, and each loads', () => {
  const { trainer, state, dir } = setup();
  saveCheckpoint(dir, 'last', trainer.model.params, trainer.optimizer.state(), state());
  const older = readFileSync(weightsPath(dir, 'last'));
  trainer.trainStep();
  saveCheckpoint(dir, ['best', 'last'], trainer.model.params, trainer.optimizer.state(), state());
  for (const path of [weightsPath, statePath]) assert.ok(readFileSync(path(dir, 'best')).equals(readFileSync(path(dir, 'last'))), path.name);
  assert.ok(!older.equals(readFileSync(weightsPath(dir, 'last'))), 'the last pair was replaced');
  for (const name of ['best', 'last']) assert.equal(loadCheckpoint(dir, name).weights.step, 4, name);
});

test('the sha256 catches a change anywhere, metadata included; a missing state field is named', () => {
  const { trainer, state, dir } = setup();
  saveCheckpoint(dir, 'last', trainer.model.params, trainer.optimizer.state(), state());
  const sp = statePath(dir, 'last');
  const original = readFileSync(sp);
  const { tensors, metadata } = decodeSafetensors(original);
  // same length, one digit of the step changed: still valid JSON and valid safetensors
  assert.ok(original.toString('latin1').includes('\\"step\\":3,'));
  const edited = Buffer.from(original.toString('latin1').replace('\\"step\\":3,', '\\"step\\":4,'), 'latin1');
  writeFileSync(sp, edited);
  assert.throws(() => loadCheckpoint(dir, 'last'), (e: Error) => e instanceof CheckpointError && /is corrupt: its sha256 does not match/.test(e.message));
  const s = JSON.parse(metadata.state!) as Record<string, unknown>;
  delete s.runningLoss;
  writeFileSync(sp, encodeCheckpointFile(tensors, { ...metadata, state: JSON.stringify(s) }));
  assert.throws(() => loadCheckpoint(dir, 'last'), /training state's "runningLoss" is missing or invalid/);
  s.runningLoss = { sum: 0, count: 0 };
  s.rng = { train: [1, 2, 3], eval: [1, 2, 3, 4] };
  writeFileSync(sp, encodeCheckpointFile(tensors, { ...metadata, state: JSON.stringify(s) }));
  assert.throws(() => loadCheckpoint(dir, 'last'), /training state's "rng" is missing or invalid/);
});

test('configDifferences names the differing keys', () => {
  assert.deepEqual(configDifferences({ a: { b: 1, c: 2 }, d: 'x' }, { a: { b: 1, c: 3 }, d: 'y' }), ['a.c', 'd']);
  assert.deepEqual(configDifferences({ a: 1 }, { a: 1, e: 2 }), ['e']);
  assert.deepEqual(configDifferences({ a: 1 }, { a: 1 }), []);
});
