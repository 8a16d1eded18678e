import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { engram, ROOT, tempDir } from './helpers.js';
import { engramEnv } from './checkpoint-helpers.js';

/** A user error: exit 2, exactly one line on stderr naming the problem, no stack trace. */
function assertOneLineError(r: { status: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(r.status, 2, `exit status ${r.status}, stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^engram: /);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.match(lines[0]!, pattern);
}

test('presets --json lists the reference presets with their parameter counts', () => {
  const r = engram(['presets', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout.trim().split('\n').pop()!) as { name: string; parameterCount: number; config: { model: { type: string } } }[];
  const byName = new Map(rows.map((p) => [p.name, p]));
  assert.equal(byName.get('ntm-copy')?.parameterCount, 63_060);
  assert.equal(byName.get('ntm-copy')?.config.model.type, 'ntm');
  assert.ok(byName.has('ntm-copy-fast'));
});

test('bad flags, presets and --set keys give one-line errors', () => {
  const bogus = engram(['train', '--bogus']);
  assertOneLineError(bogus, /^engram: error: train: Unknown option '--bogus'.*valid flags: --preset/);
  assert.doesNotMatch(bogus.stderr, /engram.*engram train/, 'the command is named once');
  assertOneLineError(engram(['test', 'extra']), /^engram: error: test: unexpected argument "extra"; see engram test --help$/);
  assertOneLineError(engram(['train', '--preset', 'nope']), /unknown preset "nope"; presets: ntm-copy/);
  assertOneLineError(engram(['train']), /needs --preset/);
  assertOneLineError(engram(['train', '--preset', 'ntm-copy', '--set', 'model.slots=3']), /unknown config key "model.slots"; valid keys: .*model\.memorySlots/);
  // a known key with a wrong value names the key and the value only, not the ~600 characters of valid keys
  assertOneLineError(engram(['train', '--preset', 'ntm-copy', '--set', 'optimizer.lr=fast']), /optimizer.lr must be a number, got "fast"$/);
  assertOneLineError(engram(['train', '--preset', 'ntm-copy', '--set', 'model.hiddenSize=2.5']), /model.hiddenSize must be an integer/);
  assertOneLineError(engram(['train', '--preset', 'ntm-copy', '--set', 'optimizer.name=sgd']), /optimizer.name must be one of rmsprop, rmsprop-tf, adam/);
  assertOneLineError(engram(['train', '--preset', 'ntm-copy', '--set', 'noequals']), /--set expects key=value/);
  assertOneLineError(engram(['train', '--preset', 'ntm-copy', '--steps=-4']), /--steps must be an integer ≥ 1/);
  // a negative number after a flag that takes a value is that value, and gets the flag's own check
  assertOneLineError(engram(['train', '--preset', 'ntm-copy', '--steps', '-4']), /--steps must be an integer ≥ 1, got "-4"$/);
  assertOneLineError(engram(['train', '--preset', 'ntm-copy', '--seed', '-1']), /--seed must be an integer ≥ 0, got "-1"$/);
  assertOneLineError(engram(['test', '--run-dir', 'x', '--batches', '-0.5']), /--batches must be an integer ≥ 1, got "-0.5"$/);
  assertOneLineError(engram(['bench', '--warmup', '-1']), /--warmup must be an integer ≥ 0/);
  // any other value starting with "-" is still read as a flag, with the way to pass it
  assertOneLineError(engram(['train', '--preset', 'ntm-copy', '--run-dir', '-x']), /Option '--run-dir' argument is ambiguous; for a value starting with "-" write --run-dir=VALUE/);
  // integer flags have a ceiling: 1e300 is an integer to Number.isInteger, and no run's length
  assertOneLineError(engram(['train', '--preset', 'ntm-copy', '--steps', '1e300']), /--steps must be at most 1000000000, got "1e300"$/);
  assertOneLineError(engram(['train', '--preset', 'ntm-copy', '--eval-every', '1e10']), /--eval-every must be at most 1000000000/);
  assertOneLineError(engram(['train', '--preset', 'ntm-copy', '--seed', '4294967296']), /--seed must be at most 4294967295/);
  assertOneLineError(engram(['train', '--preset', 'ntm-copy', '--set', 'train.steps=1e300']), /train\.steps must be at most 1000000000/);
  assertOneLineError(engram(['test', '--run-dir', 'x', '--length', '1e20']), /--length must be at most 1000000000/);
  assertOneLineError(engram(['bench', '--steps', '1e12']), /--steps must be at most 1000000000/);
  assertOneLineError(engram(['test']), /needs --run-dir DIR or --checkpoint FILE/);
  assertOneLineError(engram(['frobnicate']), /unknown command "frobnicate"/);
});

test('a config too large for the machine is refused up front with one line', () => {
  const dir = join(tempDir(), 'run');
  const train = (...sets: string[]) => engram(['train', '--preset', 'ntm-copy-small', '--steps', '1', ...sets.flatMap((s) => ['--set', s]), '--run-dir', dir]);
  assertOneLineError(train('task.bits=100000000'), /task\.bits must be at most 1024, got 100000000/);
  assertOneLineError(train('model.readHeads=100000'), /model\.readHeads must be at most 64/);
  assertOneLineError(train('model.memorySlots=60000', 'model.wordSize=4000', 'train.batchSize=64'), /needs about \d+ GiB of buffers per training step; lower train\.batchSize/);
  assert.equal(existsSync(dir), false, 'nothing was written');
});

test('an allocation that fails anyway is named as out of memory, in one line', async () => {
  const { outOfMemoryMessage } = await import('../src/cli/errors.js');
  let caught: unknown;
  try {
    new Float32Array(2 ** 40);
  } catch (err) {
    caught = err;
  }
  assert.match(outOfMemoryMessage(caught) ?? '', /^out of memory \(.*\): .*lower train\.batchSize/);
  assert.equal(outOfMemoryMessage(new Error('other')), null);
  // the kernels' heap at its 4 GiB limit says so the same way
  const { kernelHeapOrNull } = await import('../src/kernels/heap.js');
  caught = undefined;
  try {
    kernelHeapOrNull()!.tmp(2 ** 31);
  } catch (err) {
    caught = err;
  }
  assert.match(outOfMemoryMessage(caught) ?? '', /^out of memory \(the WebAssembly kernels' heap cannot grow by \d+ bytes, past its 4 GiB\): .*lower train\.batchSize/);
});

test('train writes a run directory; test reads it back; an existing run is never overwritten', () => {
  const dir = join(tempDir(), 'run');
  const args = ['train', '--preset', 'ntm-copy-small', '--steps', '40', '--eval-every', '20', '--set', 'train.evalBatches=2', '--run-dir', dir];
  const r = engram(args);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /run directory: /);
  assert.match(r.stdout, /engram test --run-dir /);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { seed: number; train: { steps: number; evalBatches: number } };
  assert.equal(config.seed, 1);
  assert.equal(config.train.steps, 40);
  assert.equal(config.train.evalBatches, 2);
  const metrics = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
  assert.deepEqual(metrics.map((m) => m.step), [20, 40]);
  for (const m of metrics) {
    for (const k of ['loss', 'bitsPerSeq', 'bitErrorsPerSeq', 'trainLoss', 'elapsedSec']) assert.equal(typeof m[k], 'number', k);
  }
  const log = readFileSync(join(dir, 'train.log'), 'utf8');
  assert.match(log, /^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] run directory: /);
  // the kernels and threads a run used are in its log (a run repeats to the bit on the same kernels' build)
  assert.match(log, /; seed 1; wasm(\+fma)? kernels, 1 thread\n/);
  for (const f of ['last.safetensors', 'last.state.safetensors', 'best.safetensors']) assert.ok(existsSync(join(dir, 'checkpoints', f)), f);

  const before = statSync(join(dir, 'metrics.jsonl')).mtimeMs;
  const again = engram(args);
  assertOneLineError(again, /already holds a run; pass --resume/);
  assert.equal(statSync(join(dir, 'metrics.jsonl')).mtimeMs, before);

  const t = engram(['test', '--run-dir', dir, '--batches', '2', '--length', '4', '--json']);
  assert.equal(t.status, 0, t.stderr);
  const lines = t.stdout.trim().split('\n');
  const out = JSON.parse(lines.pop()!) as Record<string, number>;
  for (const k of ['loss', 'bitsPerSeq', 'bitErrorsPerSeq']) assert.ok(Number.isFinite(out[k]), k);
  assert.equal(out.length, 4);
  // nothing else on stdout is JSON
  for (const l of lines) assert.throws(() => JSON.parse(l));
  assert.match(t.stdout, /one sample \(4 words\)/);
});

test('the LSTM baseline from the command line: train lstm-copy-small, test it (and its report), bench it', () => {
  const dir = join(tempDir(), 'run');
  const r = engram(['train', '--preset', 'lstm-copy-small', '--steps', '200', '--set', 'train.evalBatches=2', '--run-dir', dir]);
  assert.equal(r.status, 0, r.stderr);
  const log = readFileSync(join(dir, 'train.log'), 'utf8');
  assert.match(log, /\] lstm \(2 × 32, 13700 parameters\) on copy \(1\.\.3 words\); adam lr 0\.003; batch 16; steps 0→200; /);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { model: { type: string; layers: number } };
  assert.deepEqual([config.model.type, config.model.layers], ['lstm', 2]);
  const metrics = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
  assert.deepEqual(metrics.map((m) => m.step), [200]);
  assert.ok(metrics[0]!.bitErrorsPerSeq < 3, `${metrics[0]!.bitErrorsPerSeq} bit errors per sequence after 200 steps (chance: 4)`);

  const report = join(dir, '..', 'report.html');
  const t = engram(['test', '--run-dir', dir, '--batches', '2', '--report', report, '--json']);
  assert.equal(t.status, 0, t.stderr);
  const out = JSON.parse(t.stdout.trim().split('\n').pop()!) as Record<string, number>;
  for (const k of ['loss', 'bitsPerSeq', 'bitErrorsPerSeq']) assert.ok(Number.isFinite(out[k]), k);
  assert.equal(out.step, 200);
  const data = JSON.parse(/<script type="application\/json" id="engram-data">(.*?)<\/script>/s.exec(readFileSync(report, 'utf8'))![1]!) as {
    inspection: { model: string; N: number; input: { shape: number[] }; writeWeights: unknown[]; ntm: unknown; dnc: unknown };
  };
  assert.equal(data.inspection.model, 'lstm');
  assert.equal(data.inspection.N, 0);
  assert.equal(data.inspection.input.shape[1], 6);
  assert.deepEqual([data.inspection.writeWeights, data.inspection.ntm, data.inspection.dnc], [[], null, null]);

  const b = engram(['bench', '--preset', 'lstm-copy-small', '--steps', '5', '--warmup', '2', '--json']);
  assert.equal(b.status, 0, b.stderr);
  const bench = JSON.parse(b.stdout.trim().split('\n').pop()!) as Record<string, number>;
  for (const k of ['msPerStep', 'gflops']) assert.ok(Number.isFinite(bench[k]) && bench[k]! > 0, `${k}: ${bench[k]}`);
});

test('test refuses a corrupt checkpoint with one line', () => {
  const dir = tempDir();
  const bad = join(dir, 'bad.safetensors');
  writeFileSync(bad, 'not a checkpoint at all');
  assertOneLineError(engram(['test', '--checkpoint', bad]), /is not a readable checkpoint/);
  assertOneLineError(engram(['test', '--checkpoint', join(dir, 'missing.safetensors')]), /does not exist/);
});

test('test refuses what is not a regular file before reading it; train refuses a run directory it cannot create; neither hangs', () => {
  const t0 = Date.now();
  for (const dev of ['/dev/zero', '/dev/null']) {
    assertOneLineError(engram(['test', '--checkpoint', dev], { timeoutMs: 20_000 }), new RegExp(`${dev} is not a regular file`));
    assertOneLineError(engram(['test', '--run-dir', dev], { timeoutMs: 20_000 }), new RegExp(`${dev} is not a regular file`));
  }
  // a checkpoint named inside a run directory that is a device is refused the same way
  const dir = tempDir();
  symlinkSync('/dev/zero', join(dir, 'zero.safetensors'));
  assertOneLineError(engram(['test', '--checkpoint', join(dir, 'zero.safetensors')], { timeoutMs: 20_000 }), /zero\.safetensors is not a regular file/);
  // mkdir under /proc fails with ENOENT although /proc exists: node's recursive mkdir retried it for ever
  assertOneLineError(engram(['train', '--preset', 'ntm-copy-small', '--steps', '2', '--run-dir', '/proc/engram-x/run'], { timeoutMs: 20_000 }),
    /cannot create the folder \/proc\/engram-x: \/proc refuses new folders/);
  // a file where a folder must go
  writeFileSync(join(dir, 'file'), 'x');
  assertOneLineError(engram(['train', '--preset', 'ntm-copy-small', '--steps', '2', '--run-dir', join(dir, 'file', 'run')], { timeoutMs: 20_000 }),
    /a part of that path is a file, not a directory/);
  assert.equal(readFileSync(join(dir, 'file'), 'utf8'), 'x');
  assert.ok(Date.now() - t0 < 60_000);
});

test('bench --json: the last line is one JSON object with msPerStep, nothing else on stdout is JSON', () => {
  const r = engram(['bench', '--preset', 'ntm-copy-small', '--steps', '5', '--warmup', '2', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const out = JSON.parse(lines.pop()!) as Record<string, unknown>;
  for (const k of ['msPerStep', 'p10', 'p90', 'sequencesPerSec', 'gflops', 'peakRssMB']) {
    assert.ok(typeof out[k] === 'number' && Number.isFinite(out[k]) && (out[k] as number) > 0, `${k}: ${String(out[k])}`);
  }
  assert.ok((out.p10 as number) <= (out.msPerStep as number) && (out.msPerStep as number) <= (out.p90 as number));
  // jsBytesPerStep is null (NaN) only if a collection ran in every window of timed steps
  if (out.jsBytesPerStep === null) delete out.jsBytesPerStep;
  for (const k of ['bufferAllocsPerStep', 'newShapes', 'gcMsPerStep', ...('jsBytesPerStep' in out ? ['jsBytesPerStep'] : [])]) {
    assert.ok(typeof out[k] === 'number' && Number.isFinite(out[k]) && (out[k] as number) >= 0, `${k}: ${String(out[k])}`);
  }
  assert.equal(out.preset, 'ntm-copy-small');
  assert.equal(out.warmupSteps, 2);
  assert.equal(out.replay, true);
  assert.equal(typeof out.fma, 'boolean');
  assert.match(lines.at(-1)!, /5 steps after 2 warm-up/);
  // the build without fused multiply-adds, on request
  const off = engram(['bench', '--preset', 'ntm-copy-small', '--steps', '2', '--warmup', '1', '--fma', 'off', '--json']);
  assert.equal(off.status, 0, off.stderr);
  assert.equal((JSON.parse(off.stdout.trim().split('\n').pop()!) as { fma: boolean }).fma, false);
  for (const l of lines) assert.throws(() => JSON.parse(l));
  assertOneLineError(engram(['bench', '--kernels', 'gpu']), /--kernels must be wasm or ts/);
  assertOneLineError(engram(['bench', '--replay', 'maybe']), /--replay must be on or off/);
  assertOneLineError(engram(['bench', '--fma', 'yes']), /--fma must be on or off/);
  assertOneLineError(engramEnv(['presets'], { ENGRAM_FMA: 'maybe' }), /ENGRAM_FMA=maybe is not understood: set it to 0 .* or 1/);
  assertOneLineError(engram(['bench', '--warmup=-1']), /--warmup must be an integer ≥ 0/);
  assertOneLineError(engram(['bench', '--warmup', 'lots']), /--warmup must be an integer ≥ 0/);
});

test('the bench scripts (npm run bench, dist/bench/converge.js) refuse bad flags with one line', () => {
  const script = (name: string, args: string[]): { status: number | null; stderr: string } => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'bench', `${name}.js`), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stderr: r.stderr };
  };
  const check = (r: { status: number | null; stderr: string }, prefix: string, pattern: RegExp): void => {
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.ok(lines[0]!.startsWith(prefix), lines[0]);
    assert.match(lines[0]!, pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  };
  check(script('converge', ['--bogus']), 'converge: ', /Unknown option '--bogus'.*usage: /);
  check(script('converge', ['--seed', 'x']), 'converge: ', /--seed must be a number, got 'x'/);
  check(script('converge', ['--preset', 'nope']), 'converge: ', /unknown preset nope; presets: ntm-copy/);
  check(script('converge', ['--set', 'model.memorySlots=-3']), 'converge: ', /model\.memorySlots must be > 0/);
  check(script('run', ['--steps', '0']), 'bench: ', /--steps must be a positive whole number/);
  check(script('run', ['--bogus']), 'bench: ', /Unknown option '--bogus'/);
});

test('test --lengths: one row per length in a table and in --json, appended to the run\'s generalisation.jsonl; bad lists and lengths too long to test are one line', () => {
  const dir = join(tempDir(), 'run');
  const t = engram(['train', '--preset', 'ntm-copy-small', '--steps', '100', '--eval-every', '50', '--run-dir', dir]);
  assert.equal(t.status, 0, t.stderr);
  const r = engram(['test', '--run-dir', dir, '--lengths', '2,4,8', '--batches', '2', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^words\s+loss\s+bits\/seq\s+bit errors\/seq\s+bits wrong$/m);
  assert.match(r.stdout, /^8\s+\S+\s+\S+\s+\S+\s+\d+\.\d\d%$/m);
  const lines = r.stdout.trim().split('\n');
  const out = JSON.parse(lines.pop()!) as { rows: { length: number; bitErrorsPerSeq: number; bitErrorRate: number }[]; lengthName: string };
  assert.ok(lines.every((l) => !l.trimStart().startsWith('{')), 'only the last line is JSON');
  assert.equal(out.lengthName, 'words');
  assert.deepEqual(out.rows.map((x) => x.length), [2, 4, 8]);
  for (const row of out.rows) assert.ok(row.bitErrorRate >= 0 && row.bitErrorRate <= 1 && Math.abs(row.bitErrorRate - row.bitErrorsPerSeq / (row.length * 4)) < 1e-9);
  const saved = readFileSync(join(dir, 'generalisation.jsonl'), 'utf8').trim().split('\n');
  assert.equal(saved.length, 1);
  assert.deepEqual((JSON.parse(saved[0]!) as { rows: unknown }).rows, out.rows);
  // a second test adds a line: nothing recorded before is lost
  assert.equal(engram(['test', '--run-dir', dir, '--lengths', '3', '--batches', '1']).status, 0);
  assert.equal(readFileSync(join(dir, 'generalisation.jsonl'), 'utf8').trim().split('\n').length, 2);
  assertOneLineError(engram(['test', '--run-dir', dir, '--lengths', '10,x']), /--lengths must be whole numbers ≥ 1 separated by commas/);
  assertOneLineError(engram(['test', '--run-dir', dir, '--lengths', '10,,20']), /--lengths must be whole numbers/);
  assertOneLineError(engram(['test', '--run-dir', dir, '--lengths', '0']), /--lengths must be whole numbers ≥ 1/);
  assertOneLineError(engram(['test', '--run-dir', dir, '--lengths', '3', '--length', '3']), /pass one of --length, --lengths and --items/);
  assertOneLineError(engram(['test', '--run-dir', dir, '--items', '3']), /--items: copy's samples are counted in words; use --lengths/);
  assertOneLineError(engram(['test', '--run-dir', dir, '--repeats', '3']), /--repeats: copy has no repeats/);
  const t0 = Date.now();
  assertOneLineError(engram(['test', '--run-dir', dir, '--length', '100000000']), /this test would take about .*; keep words per sample at most \d+ here, or lower --batches/);
  assertOneLineError(engram(['test', '--run-dir', dir, '--lengths', '5,100000000']), /keep words per sample at most \d+/);
  assert.ok(Date.now() - t0 < 20_000, 'refused up front, not after running');
  assertOneLineError(engram(['test', '--run-dir', dir, '--report', join(dir, 'no', 'such', 'r.html')]), /--report .*: the folder .* does not exist/);
});

test('plot: seeds of a run drawn as their median with a band, into an SVG file; bad flags are one line', () => {
  const root = tempDir();
  const runs = ['a', 'b'].map((n) => join(root, n));
  for (const [i, d] of runs.entries()) {
    const r = engram(['train', '--preset', 'ntm-copy-small', '--steps', '60', '--eval-every', '20', '--seed', String(i + 1), '--run-dir', d]);
    assert.equal(r.status, 0, r.stderr);
  }
  const out = join(root, 'curves.svg');
  const r = engram(['plot', '--run', `NTM=${runs.join(',')}`, '--run', `one seed=${runs[0]}`, '--metric', 'bitErrorsPerSeq', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const svg = readFileSync(out, 'utf8');
  assert.match(svg, /NTM \(median of 2\)/);
  assert.equal((svg.match(/<path /g) ?? []).length, 2);
  assert.equal((svg.match(/<polygon /g) ?? []).length, 1, 'a band for the two seeds only');
  assertOneLineError(engram(['plot', '--run', `x=${runs[0]}`]), /needs --out FILE\.svg/);
  assertOneLineError(engram(['plot', '--run', 'nolabel', '--out', out]), /--run expects LABEL=DIR/);
  assertOneLineError(engram(['plot', '--run', `x=${join(root, 'nope')}`, '--out', out]), /is not a run directory/);
  assertOneLineError(engram(['plot', '--run', `x=${runs[0]}`, '--metric', 'accuracy', '--out', out]), /--metric must be one of/);
  assertOneLineError(engram(['plot', '--run', `x=${runs[0]}`, '--metric', 'generalisation', '--out', out]), /no engram test --lengths recorded/);
});
