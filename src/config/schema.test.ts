import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PRESETS } from './presets.js';
import { applyOverride, applyOverrides, cloneConfig, ConfigError, DEFAULTS, estimateStepBytes, validateConfig } from './schema.js';

test('every preset and the defaults validate', () => {
  validateConfig(cloneConfig(DEFAULTS));
  for (const p of PRESETS) validateConfig(cloneConfig(p.config));
});

test('--set parses by the key\'s type and rejects what the streams or models cannot take', () => {
  const c = cloneConfig(DEFAULTS);
  applyOverride(c, 'optimizer.lr=1e-3');
  assert.equal(c.optimizer.lr, 1e-3);
  applyOverride(c, 'seed=4294967295');
  assert.equal(c.seed, 4294967295);
  const bad: [string, RegExp][] = [
    ['seed=-1', /seed must be in 0\.\.4294967295/], // would alias seed 2^32 − 1 in the uint32 streams
    ['seed=4294967296', /seed must be in 0\.\.4294967295/], // would alias seed 0
    ['seed=1.5', /seed must be an integer/],
    ['model.memorySlots=1', /model\.shiftRange must be in 0\.\.0 for 1 slots/],
    ['task.bits=0', /task\.bits must be > 0/],
    ['optimizer.lr=-1', /optimizer\.lr must be > 0/],
    ['model.readHeads=0', /model\.readHeads must be > 0/],
    ['model.clip=1e400', /model\.clip must be a number/],
    ['optimizer.eps=0', /optimizer\.eps must be > 0/], // 0/0 wherever a gradient element is 0
    ['model.bogus=1', /unknown config key "model\.bogus"; valid keys: /],
  ];
  for (const [assignment, message] of bad) {
    assert.throws(() => applyOverride(cloneConfig(DEFAULTS), assignment), (err: unknown) => err instanceof ConfigError && message.test(err.message), assignment);
  }
});

test('the associative-recall, dynamic-ngrams and priority-sort ranges: each out-of-range setting is a one-line error naming its key', () => {
  const bad: [string[], RegExp][] = [
    [['task.name=associative-recall', 'task.minItems=1'], /^task\.minItems must be at least 2 \(the query needs an item after it\), got 1$/],
    [['task.name=associative-recall', 'task.minItems=4', 'task.maxItems=3'], /^task\.maxItems \(3\) is below task\.minItems \(4\)$/],
    [['task.name=associative-recall', 'task.bits=1', 'task.itemSize=2', 'task.minItems=2', 'task.maxItems=5'], /^task\.maxItems must be at most 4 \(the distinct items of task\.itemSize × task\.bits = 2 × 1 bits\), got 5$/],
    [['task.name=associative-recall', 'task.itemSize=0'], /^task\.itemSize must be at least 1, got 0$/],
    [['task.name=priority-sort', 'task.sortInputs=4', 'task.sortOutputs=5'], /^task\.sortOutputs must be in 1\.\.task\.sortInputs \(4\), got 5$/],
    [['task.name=priority-sort', 'task.sortOutputs=0'], /^task\.sortOutputs must be at least 1, got 0$/],
    [['task.name=dynamic-ngrams', 'task.ngram=1'], /^task\.ngram must be at least 2 \(a bit predicted from the ones before it\), got 1$/],
    [['task.name=dynamic-ngrams', 'task.sequenceBits=0'], /^task\.sequenceBits must be at least 1, got 0$/],
  ];
  for (const [assignments, message] of bad) {
    assert.throws(() => applyOverrides(cloneConfig(DEFAULTS), assignments), (err: unknown) => err instanceof ConfigError && message.test(err.message) && !err.message.includes('\n'), assignments.join(' '));
  }
  // the same settings are fine for a task that does not use them, and the edges of the ranges are fine
  applyOverrides(cloneConfig(DEFAULTS), ['task.minItems=1', 'task.ngram=1', 'task.sortOutputs=40']);
  applyOverrides(cloneConfig(DEFAULTS), ['task.name=associative-recall', 'task.bits=1', 'task.itemSize=2', 'task.minItems=2', 'task.maxItems=4']);
  applyOverrides(cloneConfig(DEFAULTS), ['task.name=priority-sort', 'task.sortInputs=4', 'task.sortOutputs=4']);
  applyOverrides(cloneConfig(DEFAULTS), ['task.name=dynamic-ngrams', 'task.ngram=2']);
});

test('applyOverrides validates once, after all of them: keys that constrain each other come in any order', () => {
  const c = cloneConfig(DEFAULTS); // words 5..10, 128 slots, shift range 1
  applyOverrides(c, ['task.minWords=20', 'task.maxWords=30', 'model.memorySlots=2', 'model.shiftRange=0']);
  assert.deepEqual([c.task.minWords, c.task.maxWords, c.model.memorySlots, c.model.shiftRange], [20, 30, 2, 0]);
  assert.throws(() => applyOverrides(cloneConfig(DEFAULTS), ['task.minWords=20']), /task\.maxWords \(10\) is below task\.minWords \(20\)/);
  assert.throws(() => applyOverrides(cloneConfig(DEFAULTS), ['model.hiddenSize=2.5']), /model\.hiddenSize must be an integer/);
});

test('a config saved before train.threads, train.lengthGroupSize or train.lengthGroupsAtOnce existed loads as those runs trained (one thread, whole batches, groups one at a time); other missing keys are errors', () => {
  const old = cloneConfig(DEFAULTS) as unknown as { train: Record<string, unknown>; model: Record<string, unknown> };
  delete old.train.threads;
  delete old.train.lengthGroupSize;
  delete old.train.lengthGroupsAtOnce;
  const loaded = validateConfig(old);
  assert.equal(loaded.train.threads, 1);
  assert.equal(loaded.train.lengthGroupSize, 0);
  assert.equal(loaded.train.lengthGroupsAtOnce, 1);
  assert.equal(DEFAULTS.train.lengthGroupSize, 4, 'a new config groups by length');
  assert.equal(DEFAULTS.train.lengthGroupsAtOnce, 0, 'all groups side by side');
  for (const key of ['lengthGroupSize', 'lengthGroupsAtOnce'] as const) {
    for (const bad of [-1, 1.5, 5000]) {
      const c = cloneConfig(DEFAULTS);
      c.train[key] = bad;
      assert.throws(() => validateConfig(c), new RegExp(`train\\.${key} must be`));
    }
  }
  delete old.model.wordSize;
  assert.throws(() => validateConfig(old), /config is missing "model.wordSize"/);
});

test('estimateStepBytes grows with batch, memory and length, and refuses what cannot fit', () => {
  const c = cloneConfig(DEFAULTS);
  const base = estimateStepBytes(c);
  c.train.batchSize *= 2;
  assert.ok(Math.abs(estimateStepBytes(c) - 2 * base) < 1e-6 * base);
  c.model.memorySlots = 60_000;
  c.model.wordSize = 4000;
  assert.throws(() => validateConfig(c), /GiB of buffers per training step/);
});

test('learning-rate decay: a whole number of steps ≥ 0 and a factor in (0, 1]; a run saved before the keys existed keeps a constant rate', () => {
  for (const [set, message] of [
    ['optimizer.lrDecayEvery=-1', /optimizer\.lrDecayEvery must be ≥ 0/],
    ['optimizer.lrDecayEvery=2.5', /optimizer\.lrDecayEvery must be an integer/],
    ['optimizer.lrDecayFactor=0', /optimizer\.lrDecayFactor must be in \(0, 1\], got 0/],
    ['optimizer.lrDecayFactor=1.5', /optimizer\.lrDecayFactor must be in \(0, 1\]/],
  ] as const) {
    assert.throws(() => applyOverrides(cloneConfig(DEFAULTS), [set]), (err: unknown) => err instanceof ConfigError && message.test(err.message), set);
  }
  const c = cloneConfig(DEFAULTS);
  applyOverrides(c, ['optimizer.lrDecayEvery=2000', 'optimizer.lrDecayFactor=0.25']);
  assert.deepEqual([c.optimizer.lrDecayEvery, c.optimizer.lrDecayFactor], [2000, 0.25]);
  const old = JSON.parse(JSON.stringify(DEFAULTS)) as { optimizer: Record<string, unknown> };
  delete old.optimizer.lrDecayEvery;
  delete old.optimizer.lrDecayFactor;
  assert.equal(validateConfig(old).optimizer.lrDecayEvery, 0);
});
