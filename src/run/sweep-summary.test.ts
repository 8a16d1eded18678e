import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSummary, quantile, seedResult, spreadOf, summariseCombos, type RunOutcome } from './sweep-summary.js';
import { planSweep } from './sweep-plan.js';

test('quantile interpolates between the nearest values (numpy\'s default)', () => {
  assert.equal(quantile([], 0.5), null);
  assert.equal(quantile([4], 0.9), 4);
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110], 0.1), 20);
  assert.ok(Math.abs(quantile([0, 10], 0.9)! - 9) < 1e-12);
  assert.deepEqual(spreadOf([3, 1, 2]), { median: 2, p10: 1.2, p90: 2.8 });
});

test('summariseCombos counts learned seeds per combination and spreads only theirs', () => {
  const runs = planSweep({ preset: 'ntm-copy-small', seeds: [1, 2, 3], grid: [['optimizer.lr', ['0.01', '0.02']]], set: [] });
  const outcomes = new Map<string, RunOutcome>();
  const learned = [100, 300, null, 200, null, null];
  runs.forEach((r, i) => outcomes.set(r.name, {
    name: r.name, combo: r.combo, seed: r.seed, status: i === 5 ? 'failed' : 'finished', learnedStep: learned[i]!,
    learnedSec: learned[i] === null ? null : learned[i]! / 100, lastStep: 400, lastBitErrorsPerSeq: 0,
  }));
  const s = summariseCombos(runs, outcomes);
  assert.equal(s.length, 2);
  assert.deepEqual([s[0]!.learned, s[0]!.seeds, s[0]!.finished, s[0]!.failed], [2, 3, 3, 0]);
  assert.deepEqual(s[0]!.steps, { median: 200, p10: 120, p90: 280 });
  assert.deepEqual(s[0]!.seconds, { median: 2, p10: 1.2, p90: 2.8 });
  assert.deepEqual([s[1]!.learned, s[1]!.failed, s[1]!.steps.median], [1, 1, 200]);
  assert.equal(s[0]!.threshold, 0.05, "the preset's train.untilBitErrors");
  const table = formatSummary(s).split('\n');
  assert.equal(table.length, 3);
  assert.match(table[1]!, /^optimizer\.lr=0\.01\s+2\/3\s+200 \(120\.\.280\)\s+2\.0 \(1\.2\.\.2\.8\)$/);
  assert.match(table[2]!, /1\/3 \(1 failed\)/);
});

test('seedResult: with a growing curriculum, only an evaluation on the whole range counts as learned', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-seed-'));
  try {
    const rec = (step: number, bitErrorsPerSeq: number, level?: number): string =>
      JSON.stringify({ step, loss: 0.1, bitsPerSeq: 1, bitErrorsPerSeq, trainLoss: 0.1, elapsedSec: step / 100, skippedSteps: 0, ...(level === undefined ? {} : { level }) });
    // below the threshold at levels 3 and 7 of 0..9, then on the whole range at step 900
    writeFileSync(join(dir, 'metrics.jsonl'), [rec(300, 0.05, 3), rec(500, 2, 4), rec(700, 0.01, 7), rec(800, 0.5, 9), rec(900, 0.05, 9)].join('\n') + '\n');
    assert.equal(seedResult(1, dir, 0.1, 9).learnedStep, 900);
    assert.equal(seedResult(1, dir, 0.1, 9).learnedSec, 9);
    assert.equal(seedResult(1, dir, 0.1, 7).learnedStep, 700, 'a task of 8 levels: level 7 is its whole range');
    // a run that never reached the whole range has not learned, however low its errors
    writeFileSync(join(dir, 'metrics.jsonl'), [rec(300, 0.05, 3), rec(700, 0.01, 7)].join('\n') + '\n');
    assert.equal(seedResult(1, dir, 0.1, 9).learnedStep, null);
    // records without a level (no curriculum) are on the whole range
    writeFileSync(join(dir, 'metrics.jsonl'), [rec(300, 0.5), rec(400, 0.05)].join('\n') + '\n');
    assert.equal(seedResult(1, dir, 0.1, 9).learnedStep, 400);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
