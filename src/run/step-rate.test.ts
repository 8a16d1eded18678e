import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StepRate } from './step-rate.js';

test('StepRate: steps per second over the last 5 s of training, evaluations left out', () => {
  let now = 0;
  const rate = new StepRate(() => now);
  assert.equal(rate.perSec(), 0);
  // 100 steps/s for 10 s: the rate over the last 5 s
  for (let step = 1; step <= 1000; step++) {
    now += 10;
    rate.mark(step);
  }
  assert.equal(Math.round(rate.perSec()), 100);
  // then 20 steps/s: after 5 s the window holds only those
  for (let step = 1001; step <= 1100; step++) {
    now += 50;
    rate.mark(step);
  }
  assert.equal(Math.round(rate.perSec()), 20);
  // a 3 s evaluation, left out: the rate is unchanged by it
  now += 3000;
  rate.exclude(3000);
  now += 50;
  rate.mark(1101);
  assert.equal(Math.round(rate.perSec()), 20);
  // the same pause not left out lowers it
  const other = new StepRate(() => now);
  other.mark(0);
  now += 1000;
  other.mark(20);
  now += 3000;
  other.mark(21);
  assert.ok(other.perSec() < 10);
});
