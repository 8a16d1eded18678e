import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findPreset } from '../src/config/presets.js';
import { cloneConfig } from '../src/config/schema.js';
import { createModel } from '../src/models/registry.js';
import { completeTask, createTask, registerTask, type UserTask } from '../src/tasks/registry.js';
import { Rng } from '../src/tensor/random.js';
import { seedStreams, Trainer } from '../src/train/trainer.js';
import { engram, ROOT, tempDir } from './helpers.js';

const EXAMPLE = join(ROOT, 'examples', 'reverse-task.js');

function assertOneLineError(r: { status: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(r.status, 2, `exit status ${r.status}, stderr: ${r.stderr}`);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.match(r.stderr, pattern);
}

test('the README\'s example task: reverse puts word t out at step 2n + 2 − t, scored there only', async () => {
  const make = (await import(pathToFileURL(EXAMPLE).href) as { default: (c: unknown) => UserTask }).default;
  const cfg = { ...cloneConfig(findPreset('ntm-copy-small')!.config).task, minWords: 1, maxWords: 4 };
  const task = completeTask(make(cfg), cfg);
  const batch = task.sample(new Rng(3), 3, { length: 3 });
  const { X, Y, B } = batch;
  assert.equal(batch.T, 8);
  assert.equal(task.steps(3), 8);
  for (let b = 0; b < B; b++) {
    for (let t = 1; t <= 3; t++) {
      const word = [...batch.input.subarray((t * B + b) * X, (t * B + b) * X + Y)];
      assert.deepEqual([...batch.target.subarray(((8 - t) * B + b) * Y, ((8 - t) * B + b + 1) * Y)], word);
    }
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((t) => batch.mask[t * B + b]), [0, 0, 0, 0, 0, 1, 1, 1]);
  }
});

test('a task registered through the library trains with the Trainer and is built by createTask from its config', () => {
  const config = cloneConfig(findPreset('ntm-copy-small')!.config);
  // a constant task: always output 1 after a start bit (learnable in a few steps)
  registerTask('ones', () => ({
    name: 'ones', inputSize: 1, outputSize: 2,
    sample: (_rng, B) => {
      const T = 2;
      const input = new Float32Array(T * B), target = new Float32Array(T * B * 2).fill(1), mask = new Float32Array(T * B);
      for (let b = 0; b < B; b++) {
        input[b] = 1;
        mask[B + b] = 1;
      }
      return { T, B, X: 1, Y: 2, input, target, mask, lengths: new Array<number>(B).fill(1), repeats: new Array<number>(B).fill(1) };
    },
  }));
  config.task.name = 'ones';
  config.task.module = '(registered)';
  const task = createTask(config.task);
  assert.equal(task.lengthName, 'words');
  assert.deepEqual(task.lengths, [config.task.minWords, config.task.maxWords]);
  assert.equal(task.steps(5), 2);
  const streams = seedStreams(1);
  const model = createModel(config.model, task.inputSize, task.outputSize, streams.init);
  const trainer = new Trainer(model, task, config, streams);
  const before = trainer.evaluate(2).bitsPerSeq;
  for (let i = 0; i < 30; i++) trainer.trainStep();
  const after = trainer.evaluate(2).bitsPerSeq;
  assert.ok(after < before / 2, `bits per sequence ${before} → ${after}`);
  trainer.dispose();
  assert.throws(() => registerTask('copy', () => ({}) as UserTask), /cannot take the built-in name "copy"/);
});

test('engram train --task FILE trains a user\'s module; engram test needs --task again to run it', () => {
  const dir = join(tempDir(), 'run');
  const r = engram(['train', '--preset', 'ntm-copy-small', '--task', EXAMPLE, '--steps', '200', '--eval-every', '100', '--run-dir', dir]);
  assert.equal(r.status, 0, r.stderr);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { task: { name: string; module: string } };
  assert.equal(config.task.name, 'reverse');
  assert.equal(config.task.module, EXAMPLE);
  assert.match(r.stdout, new RegExp(`test --run-dir \\S+ --task ${EXAMPLE.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
  assertOneLineError(engram(['test', '--run-dir', dir]), /the task "reverse" comes from the module .*reverse-task\.js; pass --task .*reverse-task\.js to load it/);
  const t = engram(['test', '--run-dir', dir, '--task', EXAMPLE, '--lengths', '2,3', '--batches', '2', '--json']);
  assert.equal(t.status, 0, t.stderr);
  const out = JSON.parse(t.stdout.trim().split('\n').pop()!) as { rows: { length: number; bitErrorsPerSeq: number }[] };
  assert.deepEqual(out.rows.map((x) => x.length), [2, 3]);
  // resuming needs it too, and goes on with it
  assertOneLineError(engram(['train', '--run-dir', dir, '--resume', '--steps', '300']), /pass --task/);
  const res = engram(['train', '--run-dir', dir, '--resume', '--steps', '300', '--task', EXAMPLE]);
  assert.equal(res.status, 0, res.stderr);
  // and so does the first command again with --resume added
  const again = engram(['train', '--preset', 'ntm-copy-small', '--task', EXAMPLE, '--steps', '400', '--eval-every', '100', '--run-dir', dir, '--resume']);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /resuming .* at step 300/);
  assert.equal((JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { train: { steps: number } }).train.steps, 400);
});

test('a module that is not a task is one line naming what is missing', () => {
  const d = tempDir();
  const write = (name: string, text: string): string => {
    const p = join(d, name);
    writeFileSync(p, text);
    return p;
  };
  const train = (file: string) => engram(['train', '--preset', 'ntm-copy-small', '--task', file, '--steps', '1', '--run-dir', join(d, `run-${Math.random()}`)]);
  assertOneLineError(train(join(d, 'missing.js')), /--task .*missing\.js: no such file/);
  assertOneLineError(train(write('none.js', 'export const x = 1;\n')), /has no default export/);
  assertOneLineError(train(write('nosample.js', 'export default () => ({ name: "t", inputSize: 2, outputSize: 2 });\n')), /the task "t" from .* needs a sample\(rng, batchSize, options\) function/);
  assertOneLineError(train(write('width.js', 'export default { name: "t", inputSize: 0, outputSize: 2, sample() {} };\n')), /needs inputSize, a whole number ≥ 1/);
  assertOneLineError(train(write('throws.js', 'export default () => { throw new Error("boom"); };\n')), /making the task failed: boom/);
  assertOneLineError(train(write('syntax.js', 'export default (\n')), /cannot load it/);
  assertOneLineError(train(write('builtin.js', 'export default { name: "copy", inputSize: 2, outputSize: 2, sample() {} };\n')), /cannot take the built-in name "copy"/);
});
