import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fmtNum, fmtTick } from './format.js';

test('chart ticks: small values keep their digits (a log axis over 1e-6..1 never reads "0")', () => {
  const decades = [1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10, 1e6];
  assert.deepEqual(decades.map(fmtTick), ['1e-6', '1e-5', '1e-4', '0.001', '0.01', '0.1', '1', '10', '1e6']);
  assert.deepEqual([2e-4, 5e-4, 2.5e-5, -3e-7, 1.25e7].map(fmtTick), ['2e-4', '5e-4', '2.5e-5', '-3e-7', '1.25e7']);
  // neighbours on a linear axis stay apart
  assert.deepEqual([0.014, 0.0145, 0.015, 0, 100000].map(fmtTick), ['0.014', '0.0145', '0.015', '0', '100000']);
  // every tick a log axis may draw from 1e-8 to 1e3 has a label of its own, and none is 0
  const ticks: number[] = [];
  for (let e = -8; e <= 3; e++) for (let m = 1; m <= 9; m++) ticks.push(Number(`${m}e${e}`));
  const labels = ticks.map(fmtTick);
  assert.equal(new Set(labels).size, ticks.length);
  for (const [i, l] of labels.entries()) {
    assert.notEqual(Number(l), 0, `${ticks[i]} → ${l}`);
    assert.ok(Math.abs(Number(l) / ticks[i]! - 1) < 1e-9, `${ticks[i]} → ${l}`);
  }
});

test('cards and tables: 3 significant digits, an exponent for the very small', () => {
  assert.deepEqual([0.5, 0.0145, 1234.5, 1e-4, 2e6, 0, NaN, null, undefined].map(fmtNum), ['0.5', '0.0145', '1230', '1.00e-4', '2.00e+6', '0', '–', '–', '–']);
});
