import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { assertOneLineError, metrics } from './checkpoint-helpers.js';
import { BIN, engram, ROOT, tempDir } from './helpers.js';
import { findPreset } from '../src/config/presets.js';
import type { Config } from '../src/config/schema.js';
import { RunProcesses, type ChildEnd } from '../src/run/child-runs.js';
import type { RunFaults } from '../src/run/faults.js';
import { kernelHeapOrNull } from '../src/kernels/heap.js';
import { RunLog } from '../src/run/log.js';
import { runTraining } from '../src/run/run-training.js';

// a tiny preset: each run a second or two
const SMALL = ['--preset', 'ntm-copy-small', '--set', 'train.evalEvery=100'];

function sweepJson(dir: string): { complete: boolean; summary: { combo: string; seeds: number; learned: number; finished: number }[]; runs: { name: string; status: string; lastStep: number }[] } {
  return JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8'));
}

async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a sweep runs every combination on every seed, each in its own run directory, and summarises them', () => {
  const dir = join(tempDir(), 'sweep');
  const r = engram(['sweep', ...SMALL, '--seeds', '1-2', '--grid', 'optimizer.lr=0.003,0.01', '--set', 'train.steps=200', '--until-bit-errors', '0',
    '--sweep-dir', dir, '--parallel', '2', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const names = ['optimizer.lr=0.003/seed-1', 'optimizer.lr=0.003/seed-2', 'optimizer.lr=0.01/seed-1', 'optimizer.lr=0.01/seed-2'];
  for (const n of names) {
    assert.deepEqual(metrics(join(dir, n)).map((m) => m.step), [100, 200], n);
    const cfg = JSON.parse(readFileSync(join(dir, n, 'config.json'), 'utf8'));
    assert.equal(cfg.optimizer.lr, n.includes('0.003') ? 0.003 : 0.01);
    assert.equal(cfg.seed, Number(n.slice(-1)));
    assert.equal(cfg.train.threads, 1);
  }
  const lines = r.stdout.trim().split('\n');
  const printed = JSON.parse(lines[lines.length - 1]!);
  const file = sweepJson(dir);
  assert.equal(file.complete, true);
  assert.deepEqual(printed.summary, file.summary, '--json prints what sweep.json holds');
  assert.deepEqual(file.summary.map((s) => [s.combo, s.seeds, s.finished]), [['optimizer.lr=0.003', 2, 2], ['optimizer.lr=0.01', 2, 2]]);
  assert.deepEqual(file.runs.map((x) => [x.name, x.status, x.lastStep]), names.map((n) => [n, 'finished', 200]));
  assert.match(r.stdout, /^combination\s+learned\s+steps median \(p10\.\.p90\)\s+seconds median \(p10\.\.p90\)$/m);
  assert.match(r.stdout, /optimizer\.lr=0\.01\/seed-2: .* \| \d done, \d running, \d left \| about \S+ left/);

  // the same command again: nothing to run, nothing touched
  const before = statSync(join(dir, names[0]!, 'metrics.jsonl')).mtimeMs;
  const again = engram(['sweep', ...SMALL, '--seeds', '1-2', '--grid', 'optimizer.lr=0.003,0.01', '--set', 'train.steps=200', '--until-bit-errors', '0', '--sweep-dir', dir]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /4 runs \(4 already finished, 0 to run\)/);
  assert.equal(statSync(join(dir, names[0]!, 'metrics.jsonl')).mtimeMs, before);
  // other flags on the same directory are refused; --sweep-dir alone goes on with it
  assertOneLineError(engram(['sweep', ...SMALL, '--seeds', '1-3', '--sweep-dir', dir]), /holds another sweep \(ntm-copy-small, seeds 1,2, grid optimizer\.lr=0\.003,0\.01/);
  assert.equal(engram(['sweep', '--sweep-dir', dir]).status, 0);
});

test('bad --seeds, --grid and keys are one-line errors before anything is made', () => {
  const dir = join(tempDir(), 'never');
  const cases: [string[], RegExp][] = [
    [['--seeds', '1-x'], /--seeds must be a range A-B or a list A,B,\.\.\. of whole numbers .*got "1-x"/],
    [['--seeds', '3-1'], /--seeds 3-1: the range ends before it starts/],
    [['--seeds', '1-2', '--grid', 'optimizer.lr'], /--grid expects key=value1,value2/],
    [['--seeds', '1-2', '--grid', 'model.nope=1,2'], /--grid model\.nope=1,2: unknown config key "model\.nope"/],
    [['--seeds', '1-2', '--set', 'nope=1'], /unknown config key "nope"/],
    [['--seeds', '1-2', '--grid', 'model.memorySlots=8,0'], /model\.memorySlots=0: model\.memorySlots must be > 0/],
    [['--seeds', '1-2', '--task', 'x.js', '--queue', 'redis://127.0.0.1:1'], /--task cannot go with --queue/],
    [['--seeds', '1-2', '--parallel', '0'], /--parallel must be an integer ≥ 1/],
  ];
  for (const [args, pattern] of cases) assertOneLineError(engram(['sweep', ...SMALL, ...args, '--sweep-dir', dir]), pattern);
  assertOneLineError(engram(['sweep', '--sweep-dir', dir]), /holds no sweep; start one with --preset NAME --seeds A-B/);
  assert.equal(existsSync(dir), false);
});

test('a sweep killed with kill -9 loses nothing checkpointed: the same command resumes its runs exactly', async () => {
  const root = tempDir();
  const dir = join(root, 'sweep');
  const args = ['sweep', ...SMALL, '--seeds', '1-2', '--set', 'train.steps=1500', '--until-bit-errors', '0', '--sweep-dir', dir, '--parallel', '2'];
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: 'ignore' });
  const lines = (s: number): number => {
    const p = join(dir, 'default', `seed-${s}`, 'metrics.jsonl');
    return existsSync(p) ? readFileSync(p, 'utf8').split('\n').length - 1 : 0;
  };
  await until('a few evaluations', () => lines(1) >= 3 && lines(2) >= 3);
  child.kill('SIGKILL');
  // its runs notice, save and stop
  const log = (s: number): string => readFileSync(join(dir, 'default', `seed-${s}`, 'train.log'), 'utf8');
  await until('the runs to save', () => [1, 2].every((s) => /SIGTERM: saved step \d+/.test(log(s))), 20_000);
  const stoppedAt = [1, 2].map((s) => Number(/SIGTERM: saved step (\d+)/.exec(log(s))![1]));
  assert.ok(stoppedAt.every((s) => s > 0 && s < 1500), `stopped mid-run at ${stoppedAt}`);
  const r = engram(args.slice(0, -2).concat(['--parallel', '2']));
  assert.equal(r.status, 0, r.stderr);
  for (const s of [1, 2]) {
    assert.match(log(s), new RegExp(`resuming .* at step ${stoppedAt[s - 1]}`));
    assert.deepEqual(metrics(join(dir, 'default', `seed-${s}`)).map((m) => m.step), Array.from({ length: 15 }, (_, i) => 100 * (i + 1)));
  }
  // exact resume: seed 1's metrics are those of one uninterrupted engram train
  const ref = join(root, 'ref');
  const t = engram(['train', ...SMALL, '--seed', '1', '--steps', '1500', '--set', 'train.threads=1', '--until-bit-errors', '0', '--run-dir', ref]);
  assert.equal(t.status, 0, t.stderr);
  assert.deepEqual(metrics(join(dir, 'default', 'seed-1')), metrics(ref));
  assert.equal(sweepJson(dir).complete, true);
});

test('a run that fails is reported with its error; the others go on; the exit status is 1', () => {
  const dir = join(tempDir(), 'sweep');
  // every gradient NaN from step 1: each run stops after train.maxBadSteps bad steps in a row
  const r = spawnSync(process.execPath, [BIN, 'sweep', ...SMALL, '--seeds', '1-2', '--set', 'train.steps=300', '--sweep-dir', dir, '--json'],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ENGRAM_TEST_NAN_STEPS: '1-1000' } });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /default\/seed-1: failed: 20 non-finite steps in a row/);
  assert.match(r.stdout, /2 of 2 runs failed \(their errors are in sweep\.json\)/);
  const file = sweepJson(dir) as ReturnType<typeof sweepJson> & { runs: { error?: string }[] };
  assert.deepEqual(file.runs.map((x) => x.status), ['failed', 'failed']);
  assert.match(file.runs[0]!.error!, /non-finite steps/);
  assert.equal(JSON.parse(r.stdout.trim().split('\n').pop()!).summary[0].failed, 2);
});

test('Ctrl-C (SIGINT) stops a sweep: each run saves, the exit status is 130, and the message says how to go on', async () => {
  const dir = join(tempDir(), 'sweep');
  const child = spawn(process.execPath, [BIN, 'sweep', ...SMALL, '--seeds', '1-2', '--set', 'train.steps=5000', '--until-bit-errors', '0', '--sweep-dir', dir, '--parallel', '2'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  const evals = (s: number): number => {
    const p = join(dir, 'default', `seed-${s}`, 'metrics.jsonl');
    return existsSync(p) ? readFileSync(p, 'utf8').split('\n').length - 1 : 0;
  };
  await until('evaluations', () => evals(1) >= 2 && evals(2) >= 2);
  child.kill('SIGINT');
  assert.equal(await exited, 130);
  assert.match(out, /SIGINT: stopping the runs/);
  assert.match(out, new RegExp(`not finished; go on with: npx engram sweep --sweep-dir ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  for (const s of [1, 2]) assert.match(readFileSync(join(dir, 'default', `seed-${s}`, 'train.log'), 'utf8'), /SIGTERM: saved step \d+/);
  assert.equal(sweepJson(dir).complete, false);
});

test('runs share a process while they end well, with the metrics of a process each; a failed run\'s process is not used again', async () => {
  const base = findPreset('ntm-copy-small')!.config;
  const config = (seed: number, extra: Partial<Config['train']> = {}): Config =>
    ({ ...base, seed, train: { ...base.train, steps: 300, evalEvery: 100, untilBitErrors: 0, ...extra } });
  const dir = tempDir();
  const run = async (procs: RunProcesses, name: string, c: Config, faults?: RunFaults): Promise<{ pid: number; end: ChildEnd }> => {
    const r = procs.start({ runDir: join(dir, name), config: c, resume: false, ship: false, ...(faults ? { faults } : {}) }, () => {});
    return { pid: r.pid, end: await r.ended };
  };
  const shared = new RunProcesses();
  const a = await run(shared, 'shared-1', config(1));
  const b = await run(shared, 'shared-2', config(2));
  // a run whose gradients are NaN for good fails after maxBadSteps: its process is closed
  const bad = await run(shared, 'bad', config(3, { maxBadSteps: 2 }), { nanSteps: [5, 1000] });
  const c = await run(shared, 'shared-3', config(1));
  shared.close();
  assert.ok(a.end.ok && b.end.ok && c.end.ok, 'the good runs end well');
  assert.equal(bad.end.ok, false);
  assert.equal(b.pid, a.pid, 'the second run reuses the first one\'s process');
  assert.equal(bad.pid, a.pid);
  assert.notEqual(c.pid, a.pid, 'after a failure, a new process');
  for (const [name, seed] of [['shared-1', 1], ['shared-2', 2]] as const) {
    const alone = new RunProcesses();
    const own = await run(alone, `alone-${seed}`, config(seed));
    alone.close();
    assert.ok(own.end.ok);
    assert.notEqual(own.pid, a.pid);
    assert.deepEqual(metrics(join(dir, name)), metrics(join(dir, `alone-${seed}`)), `${name}: same metrics as in a process of its own`);
  }
  assert.deepEqual(metrics(join(dir, 'shared-3')), metrics(join(dir, 'shared-1')), 'a run after a failed one: the same metrics');
});

test('prestarted processes take the first runs, and prestart tops up to the count it is given', async (t) => {
  const base = findPreset('ntm-copy-small')!.config;
  const config = (seed: number): Config => ({ ...base, seed, train: { ...base.train, steps: 100, evalEvery: 100, untilBitErrors: 0 } });
  // this process's children, from /proc (field 4 of /proc/PID/stat is the parent's pid)
  const children = (): number[] => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try {
      return readFileSync(`/proc/${d}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1] === String(process.pid);
    } catch {
      return false; // it ended meanwhile
    }
  }).map(Number).sort((a, b) => a - b);
  const dir = tempDir();
  const procs = new RunProcesses();
  t.after(() => procs.close()); // also when an assertion fails: no process is left waiting
  const before = children();
  procs.prestart(2);
  const ready = children().filter((p) => !before.includes(p));
  assert.equal(ready.length, 2, 'two processes wait for runs');
  const runs = [1, 2].map((s) => procs.start({ runDir: join(dir, `r${s}`), config: config(s), resume: false, ship: false }, () => {}));
  assert.deepEqual(runs.map((r) => r.pid).sort((a, b) => a - b), ready, 'the runs go to them');
  const ends = await Promise.all(runs.map((r) => r.ended));
  assert.ok(ends.every((e) => e.ok));
  procs.prestart(2);
  assert.deepEqual(children().filter((p) => !before.includes(p)), ready, 'both are idle again: none is added');
});

test('a run that gives its kernel memory back leaves it to the next: run after run in one process stays bounded', async (t) => {
  const heap = kernelHeapOrNull();
  if (heap === null) return t.skip('no WebAssembly kernels here');
  const base = findPreset('ntm-copy-small')!.config;
  const config: Config = { ...base, train: { ...base.train, steps: 200, evalEvery: 100, untilBitErrors: 0 } };
  const dir = tempDir();
  const quiet = new (class extends RunLog {
    override line(): void {}
  })(null, false);
  const run = (name: string, release: boolean) => runTraining({ runDir: join(dir, name), config, resume: false, log: quiet, release });
  await run('1', true);
  const high = heap.bytes;
  await run('2', true);
  await run('3', true);
  assert.equal(heap.bytes, high, 'the second and third runs reuse the first one\'s blocks');
  await run('4', false);
  await run('5', false);
  assert.ok(heap.bytes > high, 'without giving it back, each run takes more');
});
