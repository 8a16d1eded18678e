/**
 * @file Helpers for the checkpoint, resume and failure tests: a safetensors reader written
 * from the public format description alone (not engram's), CLI runs with an environment,
 * and byte snapshots of a run directory.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BIN, ROOT, type CliResult } from './helpers.js';

export interface IndependentTensor {
  readonly dtype: string;
  readonly shape: number[];
  readonly values: Float32Array | Float64Array;
}

/**
 * Reads a safetensors file as the format is published: 8 bytes little-endian u64 N, N bytes
 * of a UTF-8 JSON object, then the data; each entry's `data_offsets` [begin, end) counts from
 * the start of the data, and the entries tile the data exactly (no gap, no overlap, no tail).
 */
export function readSafetensorsIndependently(path: string): { metadata: Record<string, string>; tensors: Map<string, IndependentTensor>; headerBytes: number } {
  const buf = readFileSync(path);
  assert.ok(buf.length >= 8, `${path}: shorter than the 8-byte length prefix`);
  const n = Number(buf.readBigUInt64LE(0));
  assert.ok(8 + n <= buf.length, `${path}: header runs past the end`);
  const headerText = buf.subarray(8, 8 + n).toString('utf8');
  assert.equal(headerText[0], '{', 'the header starts with {');
  assert.match(headerText, /^\{.*\} *$/s, 'the header is one JSON object, padded with spaces only');
  const header = JSON.parse(headerText) as Record<string, unknown>;
  const data = buf.subarray(8 + n);
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries(metadata)) assert.equal(typeof v, 'string', `__metadata__.${k} must be a string`);
  const widths: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
  const tensors = new Map<string, IndependentTensor>();
  const spans: [number, number][] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    assert.ok(dtype in widths, `${name}: unknown dtype ${dtype}`);
    const [begin, end] = data_offsets;
    assert.equal(end - begin, shape.reduce((a, b) => a * b, 1) * widths[dtype]!, `${name}: byte count matches shape × dtype`);
    spans.push([begin, end]);
    const bytes = new Uint8Array(data.subarray(begin, end)); // a copy, aligned
    const values = dtype === 'F64' ? new Float64Array(bytes.buffer) : new Float32Array(bytes.buffer);
    tensors.set(name, { dtype, shape, values });
  }
  spans.sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [begin, end] of spans) {
    assert.equal(begin, at, 'tensors are contiguous: no gap and no overlap');
    at = end;
  }
  assert.equal(at, data.length, 'the tensors cover the whole data section');
  return { metadata, tensors, headerBytes: n };
}

/** Runs the CLI with extra environment variables. */
export function engramEnv(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A user error: exit 2, exactly one line on stderr, `engram: error: ...`, no stack trace. */
export function assertOneLineError(r: CliResult, pattern: RegExp): void {
  assert.equal(r.status, 2, `exit status ${r.status}, stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^engram: error: /);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.match(lines[0]!, pattern);
}

/** metrics.jsonl as objects, without the one field that depends on the clock. */
export function metrics(runDir: string): Record<string, unknown>[] {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const o = JSON.parse(l) as Record<string, unknown>;
    delete o.elapsedSec;
    return o;
  });
}

/** Every file under `dir`, by relative path, with its bytes. */
export function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

/** Asserts that every file in `before` is still there, byte for byte, and no temporary file is left. */
export function assertUnchanged(dir: string, before: Map<string, Buffer>, only?: (path: string) => boolean): void {
  const after = snapshot(dir);
  for (const [p, bytes] of before) {
    if (only && !only(p)) continue;
    assert.ok(after.has(p), `${p} is gone`);
    assert.ok(bytes.equals(after.get(p)!), `${p} changed`);
  }
  for (const p of after.keys()) assert.doesNotMatch(p, /\.tmp-/, `temporary file ${p} left behind`);
}

/** The training args every test uses: the small preset, few evaluation batches. */
export function trainArgs(runDir: string, steps: number, every: number, ...more: string[]): string[] {
  return ['train', '--preset', 'ntm-copy-small', '--steps', String(steps), '--eval-every', String(every),
    '--set', 'train.evalBatches=2', '--set', 'train.batchSize=8', '--run-dir', runDir, ...more];
}

/** The weights and optimiser tensors of a checkpoint pair, and its state without clock or save id. */
export function checkpointContents(runDir: string, name = 'last'): { tensors: Record<string, number[]>; state: Record<string, unknown> } {
  const dir = join(runDir, 'checkpoints');
  const w = readSafetensorsIndependently(join(dir, `${name}.safetensors`));
  const s = readSafetensorsIndependently(join(dir, `${name}.state.safetensors`));
  const tensors: Record<string, number[]> = {};
  for (const [k, t] of [...w.tensors, ...s.tensors]) tensors[k] = Array.from(t.values);
  const state = JSON.parse(s.metadata.state!) as Record<string, unknown>;
  delete state.elapsedSec;
  return { tensors, state };
}
