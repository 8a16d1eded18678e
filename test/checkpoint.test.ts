import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../src/api/load-model.js';
import { runModel } from '../src/api/run-model.js';
import { CHECKPOINT_VERSION, CheckpointError, encodeCheckpointFile } from '../src/checkpoint/checkpoint.js';
import { decodeSafetensors } from '../src/checkpoint/safetensors.js';
import { Rng } from '../src/tensor/random.js';
import { assertAllClose } from '../src/tensor/testing.js';
import { kernelHeapOrNull } from '../src/kernels/heap.js';
import { inspectRun } from '../src/server/inspect-run.js';
import {
  assertOneLineError, assertUnchanged, checkpointContents, engramEnv as engram, metrics, readSafetensorsIndependently, snapshot, trainArgs,
} from './checkpoint-helpers.js';
import { tempDir } from './helpers.js';
import { OpContext } from '../src/tensor/context.js';

// one trained run shared by the read-only tests: 30 steps, evaluated and saved at 10, 20, 30
let RUN = '';
before(() => {
  RUN = join(tempDir(), 'run');
  const r = engram(trainArgs(RUN, 30, 10));
  assert.equal(r.status, 0, r.stderr);
});

/** A copy of the shared run to damage. */
function copyRun(): string {
  const dir = join(tempDir(), 'run');
  cpSync(RUN, dir, { recursive: true });
  return dir;
}

test('checkpoints are standard safetensors: weights named by what they are, and the full training state', () => {
  const ck = join(RUN, 'checkpoints');
  assert.deepEqual(readdirSync(ck).sort(), ['best.safetensors', 'best.state.safetensors', 'last.safetensors', 'last.state.safetensors']);
  const w = readSafetensorsIndependently(join(ck, 'last.safetensors'));
  assert.equal(w.headerBytes % 8, 0, 'header padded to 8 bytes');
  const names = [...w.tensors.keys()];
  for (const n of names) assert.match(n, /^(controller\.(lstm|ff)\.|heads\.(read|write)\.\d+\.(key|beta|gate|shift|gamma|erase|add)\.|output\.)(weight|bias|weight_ih|weight_hh|bias_ih|bias_hh)$/, n);
  for (const n of ['heads.write.0.erase.weight', 'heads.read.0.key.bias', 'output.weight']) assert.ok(names.includes(n), n);
  for (const t of w.tensors.values()) assert.equal(t.dtype, 'F32');
  assert.equal(w.metadata.format, 'engram-checkpoint');
  assert.equal(w.metadata.version, String(CHECKPOINT_VERSION));
  assert.equal(w.metadata.kind, 'weights');
  assert.equal(w.metadata.step, '30');
  const config = JSON.parse(w.metadata.config!) as { model: { hiddenSize: number; memorySlots: number; wordSize: number } };
  // ntm-copy-small: H 32, N 8, W 8; the output layer reads [h, r] and writes Y = 4 bits
  assert.deepEqual(w.tensors.get('output.weight')!.shape, [4, config.model.hiddenSize + config.model.wordSize]);
  assert.equal(7760, [...w.tensors.values()].reduce((a, t) => a + t.values.length, 0));

  // the values are the ones the library loads
  const { model } = loadModel(RUN, { last: true });
  for (const [n, p] of model.params) assert.deepEqual(Array.from(w.tensors.get(n)!.values), Array.from(p.data), n);

  const s = readSafetensorsIndependently(join(ck, 'last.state.safetensors'));
  assert.equal(s.metadata.kind, 'training-state');
  assert.equal(s.metadata.id, w.metadata.id, 'the pair carries one save id');
  const state = JSON.parse(s.metadata.state!) as Record<string, unknown>;
  for (const k of ['step', 'optimizerStep', 'rng', 'best', 'skippedSteps', 'badInARow', 'elapsedSec', 'config', 'runningLoss']) assert.ok(k in state, k);
  assert.equal(state.step, 30);
  assert.equal(state.optimizerStep, 30);
  const rng = state.rng as { train: number[]; eval: number[] };
  assert.equal(rng.train.length, 4);
  assert.equal(rng.eval.length, 4);
  assert.deepEqual(state.runningLoss, { sum: 0, count: 0 }, 'saved right after an evaluation');
  // Adam's two moments for every parameter, shaped as the parameter
  assert.equal(s.tensors.size, 2 * w.tensors.size);
  for (const [n, t] of w.tensors) {
    assert.deepEqual(s.tensors.get(`optimizer.exp_avg.${n}`)?.shape, t.shape, n);
    assert.deepEqual(s.tensors.get(`optimizer.exp_avg_sq.${n}`)?.shape, t.shape, n);
  }
});

test('a second reader (Python with numpy, where installed) reads the same tensors', (t) => {
  const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    t.skip('python3 with numpy is not installed');
    return;
  }
  const file = join(RUN, 'checkpoints', 'last.safetensors');
  // the published format, read with numpy alone; prints name and sum of each tensor
  const script = `
import json, struct, sys, numpy as np
b = open(sys.argv[1], 'rb').read()
(n,) = struct.unpack('<Q', b[:8])
h = json.loads(b[8:8 + n])
h.pop('__metadata__', None)
out = {}
for name, e in h.items():
    s, t = e['data_offsets']
    a = np.frombuffer(b[8 + n + s:8 + n + t], dtype={'F32': '<f4', 'F64': '<f8'}[e['dtype']]).reshape(e['shape'])
    out[name] = [list(a.shape), float(a.astype(np.float64).sum())]
print(json.dumps(out))`;
  const r = spawnSync('python3', ['-c', script, file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const fromPython = JSON.parse(r.stdout) as Record<string, [number[], number]>;
  const ours = readSafetensorsIndependently(file).tensors;
  assert.deepEqual(Object.keys(fromPython).sort(), [...ours.keys()].sort());
  for (const [n, tensor] of ours) {
    assert.deepEqual(fromPython[n]![0], tensor.shape, n);
    const sum = Array.from(tensor.values).reduce((a, v) => a + v, 0);
    assert.ok(Math.abs(fromPython[n]![1] - sum) <= 1e-9 * Math.max(1, Math.abs(sum)), `${n}: ${fromPython[n]![1]} vs ${sum}`);
  }
});

test('checkpoints are saved at every evaluation: last is the latest, best the lowest bit errors', () => {
  const m = metrics(RUN);
  assert.deepEqual(m.map((r) => r.step), [10, 20, 30]);
  const best = m.reduce((a, r) => ((r.bitErrorsPerSeq as number) < (a.bitErrorsPerSeq as number) ||
    (r.bitErrorsPerSeq === a.bitErrorsPerSeq && (r.loss as number) < (a.loss as number)) ? r : a));
  const b = readSafetensorsIndependently(join(RUN, 'checkpoints', 'best.safetensors'));
  assert.equal(b.metadata.step, String(best.step));
  const bs = checkpointContents(RUN, 'best').state;
  assert.deepEqual(bs.best, { step: best.step, level: best.level, bitErrorsPerSeq: best.bitErrorsPerSeq, loss: best.loss });
});

test('engram test: best or last, a checkpoint file, longer sequences, bit grids, --json', () => {
  const r = engram(['test', '--run-dir', RUN, '--batches', '3', '--length', '6', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const out = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
  for (const k of ['loss', 'bitsPerSeq', 'bitErrorsPerSeq']) assert.ok(Number.isFinite(out[k]), k);
  assert.equal(out.batches, 3);
  assert.equal(out.length, 6);
  assert.match(String(out.checkpoint), /best\.safetensors$/);
  for (const l of lines.slice(0, -1)) assert.throws(() => JSON.parse(l), `only the last line is JSON: ${l}`);
  // trained on 1..3 words, tested on 6: T = 2·6 + 2 = 14 columns; X = 6 input rows, Y = 4 target and output rows
  const grid = lines.slice(lines.findIndex((l) => l.startsWith('one sample (6 words)')) + 1);
  assert.equal(grid[0], 'input');
  const rows = (from: string, n: number): string[] => grid.slice(grid.indexOf(from) + 1, grid.indexOf(from) + 1 + n);
  for (const row of rows('input', 6)) assert.match(row, /^ {2}\d +[#.]{14}$/);
  for (const row of rows('target', 4)) assert.match(row, /^ {2}\d +[ ]{8}[#.]{6}$/);
  for (const row of rows('output', 4)) assert.match(row, /^ {2}\d +[ ]{8}[#.!]{6}$/);

  const last = engram(['test', '--run-dir', RUN, '--last', '--batches', '1', '--json']);
  assert.equal(last.status, 0, last.stderr);
  assert.match(JSON.parse(last.stdout.trim().split('\n').pop()!).checkpoint, /last\.safetensors$/);

  const file = join(RUN, 'checkpoints', 'last.safetensors');
  const byFile = engram(['test', '--checkpoint', file, '--batches', '1', '--json']);
  assert.equal(byFile.status, 0, byFile.stderr);
  assert.deepEqual(JSON.parse(byFile.stdout.trim().split('\n').pop()!), JSON.parse(last.stdout.trim().split('\n').pop()!));
});

test('a truncated, corrupt, wrong-version, wrong-shape or misplaced checkpoint: one line each, and the file untouched', () => {
  const dir = tempDir();
  const good = join(RUN, 'checkpoints', 'last.safetensors');
  const bytes = readFileSync(good);
  const check = (name: string, content: Uint8Array, pattern: RegExp): void => {
    const p = join(dir, name);
    writeFileSync(p, content);
    assertOneLineError(engram(['test', '--checkpoint', p]), pattern);
    assert.ok(Buffer.from(content).equals(readFileSync(p)), `${name} was modified`);
    assert.throws(() => loadModel(p), CheckpointError);
  };
  check('truncated.safetensors', bytes.subarray(0, bytes.length >> 1), /truncated/);
  check('tiny.safetensors', bytes.subarray(0, 5), /too short/);
  const flipped = Buffer.from(bytes);
  flipped[flipped.length - 100]! ^= 0x40; // one bit of one weight
  check('flipped.safetensors', flipped, /is corrupt: its sha256 does not match/);
  const header = Buffer.from(bytes);
  header[9] = 0x7b; // '{{' opens the JSON header
  check('header.safetensors', header, /not a readable checkpoint: header is not valid JSON/);

  const { tensors, metadata } = decodeSafetensors(bytes);
  check('v99.safetensors', encodeCheckpointFile(tensors, { ...metadata, version: '99' }),
    new RegExp(`format version 99; this engram reads version ${CHECKPOINT_VERSION} \\(test it with the engram version that wrote it`));
  const reshaped = new Map(tensors);
  const ow = tensors.get('output.weight')!;
  reshaped.set('output.weight', { shape: [ow.shape[1]!, ow.shape[0]!], data: ow.data });
  check('shape.safetensors', encodeCheckpointFile(reshaped, metadata), /tensor output\.weight has shape \[40, 4\] but the model needs \[4, 40\]/);
  const missing = new Map(tensors);
  missing.delete('heads.read.0.gamma.bias');
  check('missing.safetensors', encodeCheckpointFile(missing, metadata), /has no tensor heads\.read\.0\.gamma\.bias; it was saved from a different model config/);
  const config = JSON.parse(metadata.config!) as { model: { hiddenSize: number } };
  config.model.hiddenSize = 16;
  check('config.safetensors', encodeCheckpointFile(tensors, { ...metadata, config: JSON.stringify(config) }), /has shape \[.*\] but the model needs/);
  check('notours.safetensors', encodeCheckpointFile(tensors, {}), /is not an engram checkpoint/);
  const nan = new Map(tensors);
  const bad = Float32Array.from(ow.data);
  bad[3] = NaN;
  nan.set('output.weight', { shape: ow.shape, data: bad });
  check('nan.safetensors', encodeCheckpointFile(nan, metadata), /tensor output\.weight holds a non-finite value/);

  const stateFile = join(RUN, 'checkpoints', 'last.state.safetensors');
  assertOneLineError(engram(['test', '--checkpoint', stateFile]), /holds training state, not weights; pass the weights file beside it \(.*last\.safetensors\)/);
  assertOneLineError(engram(['test', '--checkpoint', dir]), /has no checkpoint yet/);
  assertOneLineError(engram(['test', '--run-dir', join(dir, 'nowhere')]), /does not exist/);
  assertOneLineError(engram(['test', '--run-dir', RUN, '--checkpoint', stateFile]), /not both/);
});

test('a run directory whose config does not match its checkpoint is refused, for test and for resume', () => {
  const dir = copyRun();
  const configPath = join(dir, 'config.json');
  const original = readFileSync(configPath, 'utf8');
  const edit = (f: (c: { model: { hiddenSize: number }; optimizer: { lr: number } }) => void): void => {
    const c = JSON.parse(original) as { model: { hiddenSize: number }; optimizer: { lr: number } };
    f(c);
    writeFileSync(configPath, JSON.stringify(c));
  };
  const before = snapshot(dir);
  edit((c) => (c.model.hiddenSize = 16));
  assertOneLineError(engram(['test', '--run-dir', dir]), /config\.json does not match the checkpoint .*best\.safetensors \(model\.hiddenSize differ\)/);
  assertOneLineError(engram(['train', '--run-dir', dir, '--resume', '--steps', '40']), /config\.json does not match the checkpoint .*last\.safetensors \(model\.hiddenSize differ\); restore config\.json/);
  edit((c) => (c.optimizer.lr = 0.1));
  assertOneLineError(engram(['train', '--run-dir', dir, '--resume', '--steps', '40']), /\(optimizer\.lr differ\)/);
  writeFileSync(configPath, '{ not json');
  assertOneLineError(engram(['train', '--run-dir', dir, '--resume']), /config\.json is not valid JSON/);
  writeFileSync(configPath, original);
  assertUnchanged(dir, before, (p) => p !== 'train.log');

  // a pair from two different saves is refused rather than mixed
  copyFileSync(join(dir, 'checkpoints', 'best.state.safetensors'), join(dir, 'checkpoints', 'last.state.safetensors'));
  const mixed = snapshot(dir);
  assertOneLineError(engram(['train', '--run-dir', dir, '--resume', '--steps', '40']), /come from different saves; restore them together/);
  assertUnchanged(dir, mixed, (p) => p !== 'train.log');
});

test('resuming with a damaged last checkpoint: one line that says how to go on from best, which works', () => {
  const dir = copyRun();
  const last = join(dir, 'checkpoints', 'last.safetensors');
  writeFileSync(last, readFileSync(last).subarray(0, 1000));
  const before = snapshot(dir);
  assertOneLineError(engram(['train', '--run-dir', dir, '--resume', '--steps', '40']),
    /last\.safetensors is not a readable checkpoint: .*truncated.* \(to resume from the best checkpoint instead, copy best\.safetensors and best\.state\.safetensors over last\.safetensors/);
  assertUnchanged(dir, before, (p) => p !== 'train.log');
  const bestStep = Number(readSafetensorsIndependently(join(dir, 'checkpoints', 'best.safetensors')).metadata.step);
  for (const f of ['safetensors', 'state.safetensors']) copyFileSync(join(dir, 'checkpoints', `best.${f}`), join(dir, 'checkpoints', `last.${f}`));
  const r = engram(['train', '--run-dir', dir, '--resume', '--steps', '40']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`resuming .* at step ${bestStep}\n`));
  const steps = metrics(dir).map((m) => m.step as number);
  assert.equal(steps[steps.length - 1], 40);
  assert.ok(steps.every((s, i) => i === 0 || s > steps[i - 1]!), 'metrics.jsonl was trimmed to the checkpoint before going on');
});

test('a run directory is never overwritten, and one that cannot be written is a one-line error', () => {
  const base = tempDir();
  // an existing run, without --resume
  const before = snapshot(RUN);
  assertOneLineError(engram(trainArgs(RUN, 30, 10)), /already holds a run; pass --resume to continue it/);
  assertUnchanged(RUN, before);
  // a directory that holds something else
  const other = join(base, 'other');
  mkdirSync(other);
  writeFileSync(join(other, 'notes.txt'), 'mine');
  assertOneLineError(engram(trainArgs(other, 10, 10)), /is not empty \(it holds notes\.txt\); a new run needs a new or empty --run-dir/);
  assert.deepEqual(readdirSync(other), ['notes.txt']);
  // --resume where there is no run
  assertOneLineError(engram(['train', '--run-dir', other, '--resume']), /has no config\.json; is it a run directory/);
  // paths that cannot be created, even by root: below a regular file, and the file itself
  const file = join(base, 'file');
  writeFileSync(file, 'x');
  assertOneLineError(engram(trainArgs(join(file, 'run'), 10, 10)), /cannot write .*file\/run\/checkpoints: a part of that path is a file, not a directory/);
  assertOneLineError(engram(trainArgs(file, 10, 10)), /--run-dir .*file is a file, not a directory/);
  assert.equal(readFileSync(file, 'utf8'), 'x');
  // a kernel filesystem that refuses new directories to root too, where the machine has one
  let sysRefuses = false;
  try {
    mkdirSync('/sys/engram-probe');
    rmSync('/sys/engram-probe', { recursive: true });
  } catch {
    sysRefuses = existsSync('/sys');
  }
  if (sysRefuses) assertOneLineError(engram(trainArgs('/sys/engram-run', 10, 10)), /(permission denied|read-only|cannot write).*\/sys\/engram-run/);
});

test('library: loadModel and runModel give the outputs, and on request every step\'s memory and heads', () => {
  const trained = loadModel(RUN);
  assert.match(trained.path, /best\.safetensors$/);
  assert.equal(trained.config.model.type, 'ntm');
  const { model, task } = trained;
  const batch = task.sample(new Rng(5), 3);
  // the same batch as plain arrays, one sequence per sample, each as long as its own sample
  const seqs = [0, 1, 2].map((b) => {
    const T = 2 * batch.lengths[b]! + 2;
    return Array.from({ length: T }, (_, t) => Array.from(batch.input.subarray((t * 3 + b) * task.inputSize, (t * 3 + b + 1) * task.inputSize)));
  });
  const run = runModel(model, seqs, { states: true });
  const logits = model.forward(OpContext.plain, batch.input, batch.T, batch.B);
  assert.equal(run.outputs.length, 3);
  for (let b = 0; b < 3; b++) {
    assert.equal(run.outputs[b]!.length, seqs[b]!.length);
    for (let t = 0; t < seqs[b]!.length; t++) {
      for (let j = 0; j < task.outputSize; j++) {
        const z = logits[t]!.data[b * task.outputSize + j]!;
        assert.equal(run.logits[b]![t]![j], z);
        assert.ok(Math.abs(run.outputs[b]![t]![j]! - 1 / (1 + Math.exp(-z))) < 1e-12);
      }
    }
  }
  const { memorySlots: N, wordSize: W } = trained.config.model;
  assert.equal(run.states!.length, batch.T);
  for (const s of run.states!) {
    assert.deepEqual(s.memory.shape, [3, N, W]);
    assert.deepEqual(s.readWeights[0]!.shape, [3, N]);
    assert.deepEqual(s.writeWeights[0]!.shape, [3, N]);
    assert.ok('read.0.gate' in s.signals);
  }
  assert.notDeepEqual(Array.from(run.states![0]!.memory.data), Array.from(run.states![batch.T - 1]!.memory.data), 'each step is its own copy');
  assert.equal(runModel(model, seqs).states, undefined);
  assert.throws(() => runModel(model, [[[1, 0]]]), /sequence 0, step 0 has 2 values; the model takes X = 6/);
  assert.throws(() => loadModel(join(RUN, 'checkpoints', 'last.state.safetensors')), /holds training state, not weights/);
});

test('a server inspecting checkpoints again and again does not grow the kernel heap; off-heap models compute the same', () => {
  const heap = kernelHeapOrNull()!;
  inspectRun(RUN, 1); // the first call may lay out the kernels' scratch blocks
  const bytes = heap.bytes;
  for (let i = 0; i < 5; i++) inspectRun(RUN, 1 + i);
  assert.equal(heap.bytes, bytes, 'inspecting made no lasting heap allocations');
  const onHeap = loadModel(RUN), offHeap = loadModel(RUN, { kernelHeap: false });
  const p = [...offHeap.model.params.values()][0]!;
  assert.ok(!heap.owns(p.data) && heap.owns([...onHeap.model.params.values()][0]!.data));
  const batch = onHeap.task.sample(new Rng(4), 2);
  const a = onHeap.model.forward(OpContext.plain, batch.input, batch.T, batch.B), b = offHeap.model.forward(OpContext.plain, batch.input, batch.T, batch.B);
  a.forEach((t, i) => assertAllClose(t.data, b[i]!.data, 1e-5, 1e-5, `logits at step ${i}`));
});
