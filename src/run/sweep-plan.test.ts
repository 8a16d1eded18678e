import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../config/schema.js';
import { configOf, parseGrid, parseSeeds, planSweep } from './sweep-plan.js';
import { UserError } from './user-error.js';

test('parseSeeds reads ranges and lists, and refuses anything else in one line', () => {
  assert.deepEqual(parseSeeds('1-4'), [1, 2, 3, 4]);
  assert.deepEqual(parseSeeds('7'), [7]);
  assert.deepEqual(parseSeeds('3,1,9'), [3, 1, 9]);
  for (const bad of ['', 'x', '1-', '-3', '1.5', '1,,2', '1-x', '5-1', '1,1', '0-99999', '4294967296']) {
    assert.throws(() => parseSeeds(bad), (e: Error) => e instanceof UserError && !e.message.includes('\n'), bad);
  }
});

test('parseGrid takes a config key and distinct values', () => {
  assert.deepEqual(parseGrid('optimizer.lr=0.01, 0.02'), ['optimizer.lr', ['0.01', '0.02']]);
  assert.throws(() => parseGrid('optimizer.lr'), /--grid expects key=value1,value2/);
  assert.throws(() => parseGrid('optimizer.lr=0.1,'), /--grid expects/);
  assert.throws(() => parseGrid('model.nope=1'), /unknown config key "model.nope"/);
  assert.throws(() => parseGrid('seed=1,2'), /--seeds/);
  assert.throws(() => parseGrid('task.module=/tmp/x.js'), /built-in tasks only/);
  assert.throws(() => parseGrid('train.steps=5,5'), /twice/);
});

test('planSweep makes every combination on every seed, the first grid key varying slowest, each config validated', () => {
  const runs = planSweep({ preset: 'ntm-copy-small', seeds: [1, 2], grid: [['optimizer.lr', ['0.01', '0.02']], ['model.memorySlots', ['8', '16']]], set: ['train.steps=50'] });
  assert.equal(runs.length, 8);
  assert.deepEqual(runs.map((r) => r.name).slice(0, 3), [
    'optimizer.lr=0.01,model.memorySlots=8/seed-1', 'optimizer.lr=0.01,model.memorySlots=8/seed-2', 'optimizer.lr=0.01,model.memorySlots=16/seed-1']);
  const last = runs[7]!;
  assert.equal(last.config.optimizer.lr, 0.02);
  assert.equal(last.config.model.memorySlots, 16);
  assert.equal(last.config.seed, 2);
  assert.equal(last.config.train.steps, 50);
  assert.equal(last.config.train.threads, 1, 'one thread per run');
  // the job's spec alone makes the same config
  assert.deepEqual(configOf(last.spec), last.config);
  assert.deepEqual(planSweep({ preset: 'ntm-copy-small', seeds: [3], grid: [], set: [] }).map((r) => r.name), ['default/seed-3']);
});

test('planSweep refuses, before anything runs, a bad value in any combination and a key given twice', () => {
  assert.throws(() => planSweep({ preset: 'ntm-copy-small', seeds: [1], grid: [['model.memorySlots', ['8', '0']]], set: [] }),
    (e: Error) => e instanceof ConfigError && /^model.memorySlots=0: model.memorySlots must be > 0/.test(e.message));
  assert.throws(() => planSweep({ preset: 'ntm-copy-small', seeds: [1], grid: [['optimizer.lr', ['1']]], set: ['optimizer.lr=2'] }), /both --set and --grid/);
  assert.throws(() => planSweep({ preset: 'nope', seeds: [1], grid: [], set: [] }), /unknown preset "nope"/);
  assert.throws(() => configOf({ preset: 'ntm-copy-small', overrides: ['task.module=/tmp/evil.js'], seed: 1 }), /built-in tasks only/);
});
