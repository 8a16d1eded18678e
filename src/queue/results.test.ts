import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRunJob } from './results.js';

const GOOD = { sweep: '0b7c5f3e-1d2a-4c5b-9e8f-0123456789ab', run: 'optimizer.lr=0.01/seed-3', preset: 'ntm-copy-small', overrides: ['train.threads=1'], seed: 3 };

test('a job is data only: every field is checked before anything reads it', () => {
  assert.deepEqual(checkRunJob(GOOD), GOOD);
  const bad: [unknown, RegExp][] = [
    [null, /not an object/],
    [{ ...GOOD, code: 'process.exit()' }, /unknown fields \(code\)/],
    [{ ...GOOD, sweep: '../x' }, /no sweep id/],
    [{ ...GOOD, run: '../../etc/seed-1' }, /no run directory/],
    [{ ...GOOD, run: '../seed-1' }, /no run directory/],
    [{ ...GOOD, run: 'a/b/seed-1' }, /no run directory/],
    [{ ...GOOD, overrides: 'train.steps=1' }, /overrides/],
    [{ ...GOOD, overrides: [{ a: 1 }] }, /overrides/],
    [{ ...GOOD, seed: -1 }, /seed/],
    [{ ...GOOD, seed: 1.5 }, /seed/],
  ];
  for (const [data, pattern] of bad) assert.match(checkRunJob(data) as string, pattern);
});
