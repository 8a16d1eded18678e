import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint } from '../src/checkpoint/checkpoint.js';
import { findPreset } from '../src/config/presets.js';
import { summariseDir } from '../src/server/runs.js';
import {
  assertOneLineError, assertUnchanged, checkpointContents, engramEnv as engram, metrics, readSafetensorsIndependently, snapshot, trainArgs,
} from './checkpoint-helpers.js';
import { BIN, ROOT, tempDir } from './helpers.js';

// the run never stopped: 200 steps, evaluated and saved every 50
const STEPS = 200, EVERY = 50;
let REF = '';
before(() => {
  REF = join(tempDir(), 'ref');
  const r = engram(trainArgs(REF, STEPS, EVERY));
  assert.equal(r.status, 0, r.stderr);
});

/** The last checkpoint of `dir` equals the reference's: every weight and optimiser value, and the state. */
function assertSameCheckpoint(dir: string, ignore: string[] = [], ref = REF): void {
  const a = checkpointContents(dir), b = checkpointContents(ref);
  assert.deepEqual(a.tensors, b.tensors, 'weights and optimiser buffers bit-identical');
  // config.train.steps is whatever --steps the first segment had; the rest of the state must agree
  for (const s of [a.state, b.state]) {
    delete (s.config as { train: { steps?: number } }).train.steps;
    for (const k of ignore) delete s[k];
  }
  assert.deepEqual(a.state, b.state);
}

function resume(dir: string, env: Record<string, string> = {}): ReturnType<typeof engram> {
  return engram(['train', '--run-dir', dir, '--resume', '--steps', String(STEPS)], env);
}

test('a run stopped at an evaluation (--steps) and resumed is bit-identical to one never stopped', () => {
  const dir = join(tempDir(), 'run');
  assert.equal(engram(trainArgs(dir, 100, EVERY)).status, 0);
  const r = resume(dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /resuming .* at step 100/);
  assert.deepEqual(metrics(dir), metrics(REF));
  assertSameCheckpoint(dir);
});

/** train.steps of config.json, of the last checkpoint's state and of its weights file. */
function savedTotals(dir: string): { config: number; state: number; weights: number } {
  const steps = (json: string): number => (JSON.parse(json) as { train: { steps: number } }).train.steps;
  const ckpt = join(dir, 'checkpoints');
  const state = JSON.parse(readSafetensorsIndependently(join(ckpt, 'last.state.safetensors')).metadata.state!) as { config: unknown };
  return {
    config: steps(readFileSync(join(dir, 'config.json'), 'utf8')),
    state: steps(JSON.stringify(state.config)),
    weights: steps(readSafetensorsIndependently(join(ckpt, 'last.safetensors')).metadata.config!),
  };
}

test('--resume --steps N: N becomes the run\'s train.steps in config.json and in its checkpoints, so the past-runs table shows it', () => {
  const dir = join(tempDir(), 'run');
  assert.equal(engram(trainArgs(dir, 100, EVERY)).status, 0);
  assert.deepEqual(savedTotals(dir), { config: 100, state: 100, weights: 100 });
  const r = resume(dir);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(savedTotals(dir), { config: STEPS, state: STEPS, weights: STEPS });
  const summary = summariseDir('run', dir);
  assert.equal(`${summary.last?.step} / ${summary.totalSteps}`, `${STEPS} / ${STEPS}`);
  // --resume alone now goes to the new total: nothing left to train
  const again = engram(['train', '--run-dir', dir, '--resume']);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`already at step ${STEPS}`));
  assert.deepEqual(metrics(dir), metrics(REF));
});

test('--resume --steps below the step the run is at: one line naming both, and nothing in the run changes', () => {
  const dir = join(tempDir(), 'run');
  assert.equal(engram(trainArgs(dir, 100, EVERY)).status, 0);
  const before = snapshot(dir);
  assertOneLineError(engram(['train', '--run-dir', dir, '--resume', '--steps', '60']),
    /--resume --steps 60: .*run is already at step 100; pass --steps 100 or more \(the total to train to, not the steps to add\)$/);
  assertUnchanged(dir, before);
  assert.deepEqual([...snapshot(dir).keys()].sort(), [...before.keys()].sort());
  // the step it is at: nothing to do, and no error
  const same = engram(['train', '--run-dir', dir, '--resume', '--steps', '100']);
  assert.equal(same.status, 0, same.stderr);
  assert.match(same.stdout, /already at step 100/);
  assertUnchanged(dir, before, (p) => p !== 'train.log');
});

test('the first command again with --resume added goes on; a flag that changes the config is refused, naming the key and both values', () => {
  const dir = join(tempDir(), 'run');
  assert.equal(engram(trainArgs(dir, 100, EVERY, '--seed', '1', '--until-bit-errors', '0.05')).status, 0);
  const before = snapshot(dir);
  const lr = findPreset('ntm-copy-small')!.config.optimizer.lr;
  const refused: [string[], RegExp][] = [
    [trainArgs(dir, STEPS, EVERY, '--resume', '--set', 'optimizer.lr=0.5'),
      new RegExp(`--resume: optimizer\\.lr is ${lr} in .*run/config\\.json, not 0\\.5; a resumed run keeps its config`)],
    [['train', '--run-dir', dir, '--resume', '--seed', '7'], /--resume: seed is 1 in .*config\.json, not 7;/],
    [['train', '--run-dir', dir, '--resume', '--eval-every', '25'], /--resume: train\.evalEvery is 50 in .*config\.json, not 25;/],
    [['train', '--run-dir', dir, '--resume', '--until-bit-errors', '0.5'], /--resume: train\.untilBitErrors is 0\.05 in .*config\.json, not 0\.5;/],
    // the preset alone, without the --set flags the run was made with
    [['train', '--preset', 'ntm-copy-small', '--run-dir', dir, '--resume'], /--resume: train\.batchSize is 8 in .*config\.json, not 16 \(and train\.evalEvery, train\.evalBatches\);/],
    [['train', '--preset', 'dnc-repeat-copy', '--run-dir', dir, '--resume'], /--resume: task\.name is "copy" in .*config\.json, not "repeat-copy" \(and /],
  ];
  for (const [args, pattern] of refused) {
    assertOneLineError(engram(args), pattern);
    assertUnchanged(dir, before);
  }
  // flags that give the run's own config are fine: the same values again (train.steps=150 is the new
  // total, as --steps 150 would be), or the whole first command
  const same = engram(['train', '--run-dir', dir, '--resume', '--seed', '1', '--set', 'train.batchSize=8', '--set', 'train.steps=150']);
  assert.equal(same.status, 0, same.stderr);
  assert.equal((JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { train: { steps: number } }).train.steps, 150);
  const r = engram(trainArgs(dir, STEPS, EVERY, '--seed', '1', '--until-bit-errors', '0.05', '--resume'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /resuming .* at step 150/);
  assert.deepEqual(metrics(dir), metrics(REF));
  assertSameCheckpoint(dir);
});

test('a run stopped between evaluations (--steps 75) and resumed: the same scheduled metrics, plus its own end-of-run line', () => {
  const dir = join(tempDir(), 'run');
  assert.equal(engram(trainArgs(dir, 75, EVERY)).status, 0);
  assert.deepEqual(metrics(dir).map((m) => m.step), [50, 75]);
  const r = resume(dir);
  assert.equal(r.status, 0, r.stderr);
  const m = metrics(dir);
  assert.deepEqual(m.map((x) => x.step), [50, 75, 100, 150, 200]);
  assert.deepEqual(m.filter((x) => x.step !== 75), metrics(REF));
  // the line at 75 evaluated on a copy of the eval stream: the same batches as the evaluation at 100
  assertSameCheckpoint(dir, ['best']);
});

/** Runs `engram args`, sends `signal` `delayMs` after stdout matches `when`, and resolves on exit. */
function signalledRun(args: string[], when: RegExp, signal: NodeJS.Signals, delayMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT });
    let stdout = '', stderr = '', sent = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!sent && when.test(stdout)) {
        sent = true;
        setTimeout(() => child.kill(signal), delayMs); // a few steps past the evaluation: mid-interval
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The command a stopped run printed, as arguments to engram. */
function resumeCommand(stdout: string): string[] {
  const m = /resume with: npx engram (train .*)$/m.exec(stdout);
  assert.ok(m, `no resume command in:\n${stdout}`);
  return m[1]!.split(' ');
}

test('SIGINT and SIGTERM mid-interval save a checkpoint, exit 130 and print the resume command; resuming is bit-identical', async (t) => {
  const dir = join(tempDir(), 'run');
  const stops: number[] = [];
  const check = (r: Awaited<ReturnType<typeof signalledRun>>, sig: string): void => {
    assert.equal(r.status, 130, r.stderr);
    assert.equal(r.stderr, '');
    const saved = new RegExp(`^${sig}: saved step (\\d+) to .*last\\.safetensors$`, 'm').exec(r.stdout);
    assert.ok(saved, r.stdout);
    stops.push(Number(saved[1]));
    assert.deepEqual(resumeCommand(r.stdout), ['train', '--run-dir', dir, '--resume']);
    assert.equal(loadCheckpoint(join(dir, 'checkpoints'), 'last').state.step, stops[stops.length - 1]);
  };
  // a longer run than REF's: each signal must land before the run ends (with 200 steps the
  // kernels sometimes finished first, and with 400 replayed steps too)
  const LONG = 1500;
  const ref = join(tempDir(), 'ref-long');
  assert.equal(engram(trainArgs(ref, LONG, EVERY)).status, 0);
  const first = await signalledRun(trainArgs(dir, LONG, EVERY), /^step 50 \|/m, 'SIGINT', 60);
  check(first, 'SIGINT');
  // the resumed run's first evaluation comes at the next multiple of EVERY after the first stop
  const second = await signalledRun(['train', '--run-dir', dir, '--resume'], /^step \d+ \|/m, 'SIGTERM', 60);
  check(second, 'SIGTERM');
  assert.ok(stops[0]! >= 50 && stops[1]! > stops[0]! && stops[1]! < LONG, `stopped at ${stops.join(', ')}`);
  t.diagnostic(`stopped at steps ${stops.join(' and ')}`);
  const r = engram(resumeCommand(second.stdout));
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(metrics(dir), metrics(ref), `stopped at steps ${stops.join(' and ')}`);
  assertSameCheckpoint(dir, [], ref);
});

test('a NaN gradient never reaches the weights: the step is skipped and counted in metrics.jsonl', () => {
  const dir = join(tempDir(), 'run');
  const r = engram(trainArgs(dir, 100, EVERY), { ENGRAM_TEST_NAN_STEPS: '60-62' });
  assert.equal(r.status, 0, r.stderr);
  const m = metrics(dir);
  assert.deepEqual(m.map((x) => x.skippedSteps), [0, 3]);
  for (const x of m) for (const k of ['loss', 'bitsPerSeq', 'bitErrorsPerSeq', 'trainLoss']) assert.ok(Number.isFinite(x[k]), k);
  const { state, tensors } = checkpointContents(dir);
  assert.equal(state.step, 100);
  assert.equal(state.optimizerStep, 97, 'three updates never happened');
  for (const [k, v] of Object.entries(tensors)) assert.ok(v.every(Number.isFinite), k);
});

test('after train.maxBadSteps non-finite steps in a row: a one-line error, exit 2, and the last good checkpoint intact', () => {
  const dir = join(tempDir(), 'run');
  assert.equal(engram(trainArgs(dir, 50, EVERY, '--set', 'train.maxBadSteps=4')).status, 0);
  const before = snapshot(dir);
  const r = engram(['train', '--run-dir', dir, '--resume', '--steps', '100'], { ENGRAM_TEST_NAN_STEPS: '61-1000' });
  assertOneLineError(r, /4 non-finite steps in a row up to step 64 \(last: loss [\d.e-]+, gradient norm NaN\); lower optimizer\.lr or raise train\.maxBadSteps; the last good checkpoint \(step 50\) is kept in .*checkpoints/);
  assertUnchanged(dir, before, (p) => p !== 'train.log');
  assert.match(readFileSync(join(dir, 'train.log'), 'utf8'), /error: 4 non-finite steps in a row/);
  // and the run carries on from there once the cause is gone
  const again = engram(['train', '--run-dir', dir, '--resume', '--steps', '100']);
  assert.equal(again.status, 0, again.stderr);
  assert.deepEqual(metrics(dir).map((x) => x.step), [50, 100]);
});

test('a full disk while saving: a one-line error, nothing damaged, and resuming afterwards loses nothing', () => {
  const dir = join(tempDir(), 'run');
  assert.equal(engram(trainArgs(dir, 100, EVERY)).status, 0);
  const ckpt = (p: string): boolean => p.startsWith('checkpoints/last');

  // the weights of `last` cannot be written at step 150: the previous pair stays, byte for byte
  let before = snapshot(dir);
  let r = resume(dir, { ENGRAM_TEST_WRITE_FAULT: 'ENOSPC:/last.safetensors:1' });
  assertOneLineError(r, /no space left on the device while writing .*checkpoints\/last\.safetensors; free some space \(the previous files are kept\)/);
  assertUnchanged(dir, before, ckpt);
  assert.equal(loadCheckpoint(join(dir, 'checkpoints'), 'last').state.step, 100);
  loadCheckpoint(join(dir, 'checkpoints'), 'best'); // whole, whether or not step 150 was the best

  // the metrics line cannot be appended (write 1 trims the lines past step 100, write 2 appends):
  // metrics.jsonl is cut back to what it was, and the checkpoints are untouched
  before = snapshot(dir);
  r = resume(dir, { ENGRAM_TEST_WRITE_FAULT: 'ENOSPC:metrics.jsonl:2' });
  assertOneLineError(r, /no space left on the device while writing .*metrics\.jsonl/);
  assertUnchanged(dir, before, (p) => p.startsWith('checkpoints/'));
  assert.deepEqual(metrics(dir), metrics(REF).slice(0, 2));

  // with space again, the run finishes exactly as if nothing had happened
  r = resume(dir);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(metrics(dir), metrics(REF));
  assertSameCheckpoint(dir);
});

test('a full disk before the first write: the directory can be used again as it is', () => {
  const dir = join(tempDir(), 'run');
  const r = engram(trainArgs(dir, 50, EVERY), { ENGRAM_TEST_WRITE_FAULT: 'ENOSPC:config.json' });
  assertOneLineError(r, /no space left on the device while writing .*config\.json/);
  assert.deepEqual(readdirSync(dir), ['checkpoints']);
  assert.equal(existsSync(join(dir, 'config.json')), false);
  const again = engram(trainArgs(dir, 50, EVERY));
  assert.equal(again.status, 0, again.stderr);
});

for (const curriculum of ['grow', 'mix']) {
  test(`a growing curriculum (${curriculum}) resumes at its level: stopped and resumed, the same metrics and checkpoint as one run never stopped`, () => {
    const grow = ['--set', `task.curriculum=${curriculum}`, '--set', 'task.curriculumThreshold=1e9', '--set', 'task.maxWords=6'];
    const ref = join(tempDir(), 'ref');
    assert.equal(engram(trainArgs(ref, 200, EVERY, ...grow)).status, 0);
    assert.deepEqual(metrics(ref).map((m) => m.level), [0, 1, 2, 3]);
    assert.deepEqual(metrics(ref).map((m) => m.range), ['1 words', '1..2 words', '1..3 words', '1..4 words']);
    const dir = join(tempDir(), 'run');
    assert.equal(engram(trainArgs(dir, 100, EVERY, ...grow)).status, 0);
    assert.equal(loadCheckpoint(join(dir, 'checkpoints'), 'last').state.level, 2);
    const r = resume(dir);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(metrics(dir), metrics(ref));
    assertSameCheckpoint(dir, [], ref);
    // stopped at an odd step, between evaluations (mix draws by the step's parity): the same
    // scheduled metrics, and its own end-of-run line at the level it had
    const odd = join(tempDir(), 'odd');
    assert.equal(engram(trainArgs(odd, 75, EVERY, ...grow)).status, 0);
    assert.equal(resume(odd).status, 0);
    const m = metrics(odd);
    assert.deepEqual(m.map((x) => [x.step, x.level]), [[50, 0], [75, 1], [100, 1], [150, 2], [200, 3]]);
    assert.deepEqual(m.filter((x) => x.step !== 75), metrics(ref));
    assertSameCheckpoint(odd, [], ref);
  });
}
