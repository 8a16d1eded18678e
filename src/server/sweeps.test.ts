import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPreset } from '../config/presets.js';
import type { SweepCurves, SweepListing } from './protocol.js';
import { startDashboard } from './server.js';
import { listSweepDirs } from './sweeps.js';

const tmp = mkdtempSync(join(tmpdir(), 'engram-sweeps-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const config = JSON.stringify(findPreset('ntm-copy-small')!.config);
const rec = (step: number, errors: number): string => JSON.stringify({ step, loss: errors / 100, bitsPerSeq: errors * 2, bitErrorsPerSeq: errors, trainLoss: 0.01, elapsedSec: step / 100 });

/** A sweep folder of two combinations: lr=0.01 with seeds 1..3, lr=0.02 with seed 1. */
function makeSweep(dir: string): void {
  const runs: [string, number[]][] = [['optimizer.lr=0.01/seed-1', [3, 1]], ['optimizer.lr=0.01/seed-2', [5, 2]], ['optimizer.lr=0.01/seed-3', [4, 0.5]], ['optimizer.lr=0.02/seed-1', [2, 0.1]]];
  for (const [name, errs] of runs) {
    mkdirSync(join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, 'config.json'), config);
    writeFileSync(join(dir, name, 'metrics.jsonl'), errs.map((e, i) => `${rec(100 * (i + 1), e)}\n`).join(''));
  }
  const row = (combo: string, seeds: number) => ({ combo, seeds, finished: seeds, failed: 0, learned: 0, threshold: 0.05, steps: { median: null, p10: null, p90: null }, seconds: { median: null, p10: null, p90: null } });
  writeFileSync(join(dir, 'sweep.json'), JSON.stringify({
    format: 'engram-sweep', version: 1, id: 'x', complete: true, spec: { preset: 'ntm-copy-small', seeds: [1, 2, 3], grid: [['optimizer.lr', ['0.01', '0.02']]], set: [] },
    summary: [row('optimizer.lr=0.01', 3), row('optimizer.lr=0.02', 1)], runs: runs.map(([name]) => ({ name, status: 'finished' })),
  }));
}

const root = join(tmp, 'runs');
makeSweep(join(root, 'lr-sweep'));
mkdirSync(join(root, 'plain-run'));
writeFileSync(join(root, 'plain-run', 'config.json'), config);

test('sweeps are found in the folder, or as the folder itself', () => {
  assert.deepEqual([...listSweepDirs(root).keys()], ['lr-sweep']);
  assert.deepEqual([...listSweepDirs(join(root, 'lr-sweep')).keys()], ['lr-sweep']);
  assert.deepEqual([...listSweepDirs(join(root, 'plain-run')).keys()], []);
});

test('the dashboard lists sweeps and serves each combination as a median over its seeds with a band, by step or time', async () => {
  const d = await startDashboard({ host: '127.0.0.1', port: 0, title: 't', runsDir: root, webDir: tmp });
  try {
    const get = async (p: string): Promise<[number, unknown]> => {
      const r = await fetch(`${d.url.slice(0, -1)}${p}`);
      return [r.status, await r.json()];
    };
    const [, list] = await get('/api/sweeps') as [number, SweepListing[]];
    assert.equal(list.length, 1);
    assert.equal(list[0]!.description, 'ntm-copy-small, 3 seeds, optimizer.lr=0.01,0.02');
    assert.deepEqual(list[0]!.summary.map((r) => r.combo), ['optimizer.lr=0.01', 'optimizer.lr=0.02']);
    const [, runs] = await get('/api/runs') as [number, { name: string }[]];
    assert.deepEqual(runs.map((r) => r.name), ['plain-run'], 'a sweep is not a run');
    const [status, curves] = await get('/api/sweeps/lr-sweep/curves?x=step') as [number, SweepCurves[]];
    assert.equal(status, 200);
    assert.deepEqual(curves.map((c) => [c.combo, c.seeds]), [['optimizer.lr=0.01', 3], ['optimizer.lr=0.02', 1]]);
    assert.deepEqual(curves[0]!.bitErrorsPerSeq, { x: [100, 200], y: [4, 1], band: [[3, 5], [0.5, 2]] });
    assert.deepEqual(curves[1]!.bitErrorsPerSeq.band, [null, null], 'one seed: no band');
    const [, byTime] = await get('/api/sweeps/lr-sweep/curves?x=time') as [number, SweepCurves[]];
    assert.deepEqual(byTime[0]!.loss.x, [1, 2]);
    assert.equal((await get('/api/sweeps/nope/curves'))[0], 404);
    assert.equal((await get('/api/sweeps/..%2Fruns/curves'))[0], 404);
    assert.equal((await get('/api/sweeps/lr-sweep/curves?x=bad'))[0], 400);
  } finally {
    await d.close();
  }
});
