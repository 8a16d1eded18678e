import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findPreset } from '../config/presets.js';
import { cloneConfig, type Config } from '../config/schema.js';
import { createModel } from '../models/registry.js';
import type { SampleOptions, Task } from '../tasks/batch.js';
import { createTask } from '../tasks/registry.js';
import { seedStreams, Trainer } from './trainer.js';

/** A trainer on ntm-copy-small's model and a copy task of 1..5 words, noting every batch's options and lengths. */
function setup(edit: (c: Config) => void): { tr: Trainer; seen: { options: SampleOptions; lengths: number[] }[] } {
  const config = cloneConfig(findPreset('ntm-copy-small')!.config);
  Object.assign(config.task, { minWords: 1, maxWords: 5, curriculum: 'grow' });
  config.train.batchSize = 8;
  config.train.evalBatches = 2;
  edit(config);
  const streams = seedStreams(2);
  const inner = createTask(config.task);
  const seen: { options: SampleOptions; lengths: number[] }[] = [];
  const task: Task = { ...inner, sample: (rng, B, options = {}) => {
    const b = inner.sample(rng, B, options);
    seen.push({ options: { ...options, store: undefined }, lengths: [...b.lengths] });
    return b;
  } };
  return { tr: new Trainer(createModel(config.model, task.inputSize, task.outputSize, streams.init), task, config, streams), seen };
}

test('grow: training starts at the shortest length and each evaluation below the threshold widens the range one step, up to the whole range', () => {
  // a threshold no evaluation stays above: every scheduled evaluation moves it up
  const { tr, seen } = setup((c) => (c.task.curriculumThreshold = 1e9));
  assert.equal(tr.task.levels, 5);
  assert.equal(tr.level, 0);
  const levels: number[] = [], ranges: string[] = [];
  for (let k = 0; k < 7; k++) {
    seen.length = 0;
    for (let i = 0; i < 3; i++) tr.trainStep();
    // every training batch drew from 1 .. 1 + level
    for (const s of seen) {
      assert.equal(s.options.level, Math.min(k, 4));
      assert.ok(s.lengths.every((n) => n >= 1 && n <= 1 + Math.min(k, 4)), `lengths ${s.lengths} at level ${k}`);
    }
    const rec = tr.evalRecord(k, true);
    levels.push(rec.level);
    ranges.push(rec.range);
  }
  assert.deepEqual(levels, [0, 1, 2, 3, 4, 4, 4]);
  assert.deepEqual(ranges, ['1 words', '1..2 words', '1..3 words', '1..4 words', '1..5 words', '1..5 words', '1..5 words']);
  assert.equal(tr.wholeRange, true);
  tr.dispose();
});

test('grow: an evaluation at or above the threshold keeps the range; an off-schedule one never moves it; uniform draws from the whole range', () => {
  const held = setup((c) => (c.task.curriculumThreshold = 0)); // no bit error count is below 0
  for (let k = 0; k < 3; k++) {
    held.tr.trainStep();
    assert.equal(held.tr.evalRecord(k, true).level, 0);
  }
  assert.ok(held.seen.every((s) => s.lengths.every((n) => n === 1)));
  held.tr.dispose();
  const off = setup((c) => (c.task.curriculumThreshold = 1e9));
  off.tr.trainStep();
  off.tr.evalRecord(1, false);
  assert.equal(off.tr.level, 0, 'the end-of-run evaluation does not move the curriculum');
  off.tr.dispose();
  const uniform = setup((c) => (c.task.curriculum = 'uniform'));
  assert.equal(uniform.tr.level, 4);
  for (let i = 0; i < 20; i++) uniform.tr.trainStep();
  const lengths = new Set(uniform.seen.flatMap((s) => s.lengths));
  assert.deepEqual([...lengths].sort(), [1, 2, 3, 4, 5]);
  assert.equal(uniform.tr.evalRecord(1).range, '1..5 words');
  uniform.tr.dispose();
});

test('grow on repeat-copy widens words and repeats together', () => {
  const { tr, seen } = setup((c) => {
    Object.assign(c.task, { name: 'repeat-copy', bits: 2, minWords: 1, maxWords: 3, minRepeats: 2, maxRepeats: 6, curriculumThreshold: 1e9 });
  });
  assert.equal(tr.task.levels, 5);
  tr.trainStep();
  assert.equal(tr.evalRecord(1).range, '1 words, 2 repeats');
  tr.trainStep();
  assert.equal(tr.evalRecord(2).range, '1..2 words, 2..3 repeats');
  for (let k = 0; k < 4; k++) tr.evalRecord(3 + k);
  assert.equal(tr.evalRecord(9).range, '1..3 words, 2..6 repeats');
  assert.ok(seen.length > 0);
  tr.dispose();
});

test('mix: every second training batch draws from the whole range, the others from the growing level; evaluations at the level', () => {
  const { tr, seen } = setup((c) => {
    c.task.curriculum = 'mix';
    c.task.curriculumThreshold = 1e9; // every scheduled evaluation moves it up
  });
  assert.equal(tr.level, 0);
  const trained: number[][] = [];
  for (let k = 0; k < 3; k++) {
    seen.length = 0;
    for (let i = 0; i < 4; i++) tr.trainStep();
    trained.push(seen.map((s) => s.options.level!));
    // between the training batches: every sample drawn at its level's range
    for (const s of seen) assert.ok(s.lengths.every((n) => n >= 1 && n <= 1 + s.options.level!), `lengths ${s.lengths} at level ${s.options.level}`);
    seen.length = 0;
    const rec = tr.evalRecord(k, true);
    assert.equal(rec.level, k);
    assert.ok(seen.length > 0 && seen.every((s) => s.options.level === k), 'evaluations draw at the growing level');
  }
  // steps 1, 3, 5, ... at the level (0, then 1, then 2); steps 2, 4, 6, ... from the whole range (level 4)
  assert.deepEqual(trained, [[0, 4, 0, 4], [1, 4, 1, 4], [2, 4, 2, 4]]);
  assert.equal(tr.wholeRange, false);
  tr.dispose();
});
