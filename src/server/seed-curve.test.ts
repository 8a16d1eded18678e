import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MetricRecord } from './protocol.js';
import { seedCurve } from './seed-curve.js';

const rec = (step: number, elapsedSec: number, bitErrorsPerSeq: number): MetricRecord =>
  ({ step, elapsedSec, bitErrorsPerSeq, loss: 0, bitsPerSeq: 0, trainLoss: 0 }) as MetricRecord;

test('seedCurve by step: the median at each evaluation, a run that ended carrying its last value on', () => {
  const a = [rec(100, 1, 10), rec(200, 2, 4), rec(300, 3, 1)];
  const b = [rec(100, 1.5, 20), rec(200, 3, 0.05)]; // learned and stopped at step 200
  const c = [rec(100, 0.5, 30), rec(200, 1, 8), rec(300, 1.5, 6)];
  const s = seedCurve([a, b, c], 'bitErrorsPerSeq', 'step');
  assert.deepEqual(s.x, [100, 200, 300]);
  assert.deepEqual(s.y, [20, 4, 1]);
  assert.deepEqual(s.band, [[10, 30], [0.05, 8], [0.05, 6]]);
});

test('seedCurve by time: x only grows where the seeds\' evaluations do not line up; each run counts from its first evaluation', () => {
  // a fast run that stops early and a slow one: by evaluation index the median time would go back
  const fast = [rec(100, 1, 10), rec(200, 2, 0.05)];
  const slow = [rec(100, 4, 30), rec(200, 8, 20), rec(300, 12, 5)];
  const s = seedCurve([fast, slow], 'bitErrorsPerSeq', 'time');
  assert.deepEqual(s.x, [1, 2, 4, 8, 12]);
  for (let i = 1; i < s.x.length; i++) assert.ok(s.x[i]! > s.x[i - 1]!);
  // before the slow run's first evaluation only the fast one counts; after, the fast one's last value stays
  assert.deepEqual(s.y, [10, 0.05, (0.05 + 30) / 2, (0.05 + 20) / 2, (0.05 + 5) / 2]);
  assert.deepEqual(s.band, [null, null, [0.05, 30], [0.05, 20], [0.05, 5]]);
});

test('seedCurve leaves out runs with no evaluations and values that are not finite', () => {
  const a = [rec(100, 1, 3), { ...rec(200, 2, 0), bitErrorsPerSeq: NaN }];
  const s = seedCurve([[], a], 'bitErrorsPerSeq', 'step');
  assert.deepEqual(s.x, [100, 200]);
  assert.deepEqual(s.y, [3, null]);
});
