/**
 * The dashboard's command line: flags and their one-line errors, a busy port, a training
 * run that fails before it starts (the server must not keep the process alive), and the
 * self-contained report of `engram test --report`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { engram, tempDir } from './helpers.js';

function assertOneLineError(r: { status: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(r.status, 2, `exit status ${r.status}, stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^engram: /);
  assert.match(lines[0]!, pattern);
}

test('dashboard flags: one-line errors', () => {
  const dir = tempDir();
  assertOneLineError(engram(['dashboard', '--runs', join(dir, 'nope')]), /--runs .*nope is not a folder/);
  assertOneLineError(engram(['dashboard', '--runs', dir, '--port', '70000']), /--port must be at most 65535/);
  assertOneLineError(engram(['dashboard', '--runs', dir, '--port', 'x']), /--port must be an integer ≥ 0/);
  // TEST-NET-1: an address no machine has, so listening fails at once (no DNS, no traffic)
  assertOneLineError(engram(['dashboard', '--runs', dir, '--host', '192.0.2.1']), /cannot listen on --host 192.0.2.1/);
  assertOneLineError(engram(['train', '--preset', 'ntm-copy-small', '--port', '8000']), /--port and --host need --dashboard/);
  const help = engram(['dashboard', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /engram dashboard \[--runs DIR\] \[--port P\]/);
});

test('a port in use is a one-line error', async () => {
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  const port = (holder.address() as { port: number }).port;
  try {
    assertOneLineError(engram(['dashboard', '--runs', tempDir(), '--port', String(port)]), new RegExp(`port ${port} on 127.0.0.1 is already in use; pass another --port, or --port 0`));
  } finally {
    holder.close();
  }
});

test('train --dashboard that cannot start training exits with its error, not a hanging server', () => {
  const dir = tempDir();
  const args = ['train', '--preset', 'ntm-copy-small', '--steps', '4', '--eval-every', '2', '--set', 'train.evalBatches=1', '--run-dir', dir];
  assert.equal(engram(args).status, 0);
  const r = engram([...args, '--dashboard', '--port', '0'], { timeoutMs: 20_000 });
  assert.match(r.stdout, /^dashboard: http:\/\/127\.0\.0\.1:\d+\/$/m);
  assertOneLineError(r, /already holds a run/);
});

test('test --report writes one self-contained HTML file', () => {
  const dir = join(tempDir(), 'run');
  assert.equal(engram(['train', '--preset', 'ntm-copy-small', '--steps', '6', '--eval-every', '3', '--set', 'train.evalBatches=1', '--run-dir', dir]).status, 0);
  const file = join(dir, '..', 'report.html');
  const r = engram(['test', '--run-dir', dir, '--batches', '1', '--report', file, '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^report: .*report\.html$/m);
  JSON.parse(r.stdout.trim().split('\n').pop()!); // --json's line is still the last
  const html = readFileSync(file, 'utf8');
  assert.doesNotMatch(html, /<script[^>]* src=|<link[^>]* rel="stylesheet"/, 'nothing loaded from elsewhere');
  const m = /<script type="application\/json" id="engram-data">(.*?)<\/script>/s.exec(html);
  assert.ok(m, 'the data is embedded');
  const data = JSON.parse(m[1]!) as { evals: unknown[]; inspection: { model: string; N: number; memory: { shape: number[] } }; test: { batches: number } };
  assert.equal(data.evals.length, 2);
  assert.equal(data.inspection.model, 'ntm');
  assert.equal(data.inspection.N, 8);
  assert.equal(data.inspection.memory.shape[1], 8);
  assert.equal(data.test.batches, 1);
  assert.equal((html.match(/<\/script>/g) ?? []).length, 2, 'no early </script> inside the inlined code or data');
});
