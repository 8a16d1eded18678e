/**
 * The longest sequence of a task is written twice: by each task's steps() (and the batches it
 * draws), and by the config layer's longestSequence, which bounds a run's memory before any task
 * is built (the config layer cannot import the tasks). These must agree, for every preset and for
 * other ranges and sizes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { longestSequence, type TaskConfig } from '../config/schema.js';
import { PRESETS } from '../config/presets.js';
import { Rng } from '../tensor/random.js';
import { createTask } from './registry.js';

/** Every preset's task config, and each with other sizes of its ranged keys. */
function configs(): TaskConfig[] {
  const out: TaskConfig[] = [];
  const seen = new Set<string>();
  for (const p of PRESETS) {
    const t = p.config.task;
    const variants: Partial<TaskConfig>[] = [
      {},
      { maxWords: t.maxWords + 3, maxRepeats: t.maxRepeats + 2 },
      { maxItems: t.maxItems + 1, itemSize: t.itemSize + 2 },
      { sequenceBits: t.sequenceBits + 7, ngram: Math.max(2, t.ngram - 1) },
      { sortInputs: t.sortInputs + 4, sortOutputs: t.sortOutputs + 1 },
    ];
    for (const v of variants) {
      const c = { ...t, ...v } as TaskConfig;
      const key = JSON.stringify(c);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(c);
      }
    }
  }
  return out;
}

test('longestSequence equals the task\'s steps() at the top of its ranges, for every built-in task', () => {
  const names = new Set<string>();
  for (const c of configs()) {
    const task = createTask(c);
    names.add(task.name);
    const steps = task.steps(task.lengths[1], task.repeats?.[1]);
    assert.equal(longestSequence(c), steps, `${task.name} ${JSON.stringify(c)}`);
  }
  assert.deepEqual([...names].sort(), ['associative-recall', 'copy', 'dynamic-ngrams', 'priority-sort', 'repeat-copy']);
});

test('no batch a task draws is longer than longestSequence, and the longest samples reach it', () => {
  for (const c of configs()) {
    const task = createTask(c);
    const rng = new Rng(7);
    let longest = 0;
    for (let i = 0; i < 20; i++) longest = Math.max(longest, task.sample(rng, 16).T);
    assert.ok(longest <= longestSequence(c), `${task.name}: a batch of ${longest} steps, longestSequence ${longestSequence(c)}`);
    // a batch at the top of the ranges, drawn as an evaluation at one length does
    const top = task.sample(rng, 2, { length: task.lengths[1], repeats: task.repeats?.[1] });
    assert.equal(top.T, longestSequence(c), `${task.name}: the longest sample's T`);
  }
});
