import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DecimatedSeries, LiveHub } from './live.js';
import type { MetricRecord, RunSummary } from './protocol.js';

test('DecimatedSeries stays bounded and each point is the mean of its stride', () => {
  const s = new DecimatedSeries(100);
  let resets = 0;
  for (let step = 1; step <= 10_000; step++) if (s.add(step, step) === 'reset') resets++;
  assert.ok(s.steps.length <= 100 && s.steps.length > 50, `${s.steps.length} points`);
  assert.ok(resets > 0);
  assert.equal(s.stride & (s.stride - 1), 0, 'the stride is a power of two');
  // the values were the steps themselves, so a point's mean is the middle of its stride
  s.steps.forEach((last, i) => {
    assert.equal(last, (i + 1) * s.stride, `point ${i} ends a stride`);
    assert.equal(s.values[i], last - (s.stride - 1) / 2, `point ${i} is its stride's mean`);
  });
  assert.equal(s.add(10_001, NaN), null, 'a skipped step adds nothing');
});

const run: RunSummary = { name: 'r', model: 'ntm', task: 'copy', description: '', totalSteps: 1000, last: null, evaluations: 0, hasCheckpoint: false, live: true, updated: null };
const record = (step: number): MetricRecord => ({ step, loss: 0.01, bitsPerSeq: 1, bitErrorsPerSeq: 0.5, trainLoss: 0.01, elapsedSec: step / 10 });

test('LiveHub reports progress, rate and time left from its own clock', () => {
  let now = 0;
  const hub = new LiveHub({ run, total: 1000, now: () => now });
  for (let step = 1; step <= 100; step++) {
    now += 10; // 100 steps per second
    hub.onStep(step, 0.01);
  }
  const p = hub.progress();
  assert.equal(p.step, 100);
  assert.ok(Math.abs(p.stepsPerSec - 100) < 1, `rate ${p.stepsPerSec}`);
  assert.ok(Math.abs(p.etaSec! - 9) < 0.2, `eta ${p.etaSec}`);
  assert.ok(Math.abs(p.elapsedSec - 1) < 1e-9);
  hub.onEval(record(100), null);
  assert.equal(hub.snapshot().evals.length, 1);
  hub.finish('done');
  assert.equal(hub.progress().state, 'done');
  assert.equal(hub.progress().etaSec, 0);
  // it stopped at step 100 of 1000 (it learned): the bar ends full
  assert.deepEqual([hub.progress().step, hub.progress().total], [100, 100]);
});

test('a run stopped by a signal keeps its total: the bar shows how far it got', () => {
  const hub = new LiveHub({ run, total: 1000, now: () => 0 });
  hub.onStep(300, 0.01);
  hub.finish('stopped');
  assert.deepEqual([hub.progress().step, hub.progress().total, hub.progress().state], [300, 1000, 'stopped']);
});

test('a resumed run starts from its evaluations and their elapsed time', () => {
  let now = 0;
  const hub = new LiveHub({ run, total: 1000, evals: [record(100), record(200)], now: () => now });
  now = 2000;
  const p = hub.progress();
  assert.equal(p.step, 200);
  assert.ok(Math.abs(p.elapsedSec - 22) < 1e-9, 'elapsed = 20 s before + 2 s now');
  assert.equal(hub.snapshot().evals.length, 2);
});

test('LiveHub shows the training speed the run reports with each step (the terminal\'s), not one of its own', () => {
  let now = 0;
  const hub = new LiveHub({ run, total: 1000, now: () => now });
  for (let step = 1; step <= 100; step++) {
    now += 10; // 100 steps per second by the hub's clock
    hub.onStep(step, 0.01, 42.5);
  }
  assert.equal(hub.progress().stepsPerSec, 42.5);
  assert.ok(Math.abs(hub.progress().etaSec! - 900 / 42.5) < 1e-9);
});
