import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { assertOneLineError, checkpointContents, metrics } from './checkpoint-helpers.js';
import { engram, tempDir } from './helpers.js';
import { randomUUID } from 'node:crypto';
import { redisClient } from '../src/queue/connection.js';
import { parseQueueUrl } from '../src/queue/queue-url.js';
import { checkpointKey, eventsKey, fetchCheckpoint, shipEval, shipFields } from '../src/queue/results.js';
import type { EvalRecord } from '../src/train/trainer.js';
import { evaluations, freePort, HAVE_REDIS, spawnEngram, spawnEngramEnv, TestRedis, TestWorker, until } from './redis-helpers.js';

// Sweeps through a real redis-server (with a password: it must work and never show).
const PASSWORD = 's3cret-pw';
let redis: TestRedis;
const workers: TestWorker[] = [];
const skip = HAVE_REDIS ? false : 'redis-server is not installed (apt-get install redis-server; .ci/run installs it)';

before(async () => {
  if (!HAVE_REDIS) return;
  redis = new TestRedis(await freePort(), PASSWORD);
  await redis.start();
});
after(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await redis?.stop();
});

function worker(): TestWorker {
  const w = new TestWorker(redis.url);
  workers.push(w);
  return w;
}

const sweepArgs = (dir: string, steps: number, ...more: string[]): string[] => [
  'sweep', '--preset', 'ntm-copy-small', '--set', 'train.evalEvery=100', '--set', `train.steps=${steps}`, '--until-bit-errors', '0',
  '--sweep-dir', dir, '--queue', redis.url, ...more];

const steps = (dir: string): number[] => metrics(dir).map((m) => m.step as number);
const upTo = (n: number): number[] => Array.from({ length: n / 100 }, (_, i) => 100 * (i + 1));

function assertNoPassword(...texts: string[]): void {
  for (const t of texts) assert.ok(!t.includes(PASSWORD), 'the password is never shown');
}

test('an unreachable Redis is a one-line error naming the URL without its password', { skip }, () => {
  const dir = join(tempDir(), 'sweep');
  const port = '1'; // nothing listens on port 1
  for (const args of [
    ['sweep', '--preset', 'ntm-copy-small', '--seeds', '1', '--sweep-dir', dir, '--queue', `redis://me:${PASSWORD}@127.0.0.1:${port}`],
    ['worker', '--queue', `redis://me:${PASSWORD}@127.0.0.1:${port}`],
  ]) {
    const r = engram(args, { timeoutMs: 20_000 });
    assertOneLineError(r, new RegExp(`cannot reach Redis at redis://me@127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    assertNoPassword(r.stderr, r.stdout);
  }
  assertOneLineError(engram(['sweep', '--preset', 'ntm-copy-small', '--seeds', '1', '--queue', 'http://x']), /--queue must be a redis:\/\/ or rediss:\/\/ URL/);
  assert.deepEqual(readdirSync(join(dir, '..')), [], 'nothing made');
});

test('a best file that is its last twin\'s object is sent once and copied inside Redis', () => {
  const w = new Uint8Array([1, 2, 3]), st = new Uint8Array([4, 5, 6, 7]);
  const shared = shipFields({ 'last.safetensors': w, 'last.state.safetensors': st, 'best.safetensors': w, 'best.state.safetensors': st });
  assert.deepEqual(shared.copies, ['file:best.safetensors', 'file:last.safetensors', 'file:best.state.safetensors', 'file:last.state.safetensors']);
  assert.deepEqual(shared.pairs.filter((_, i) => i % 2 === 0), ['file:last.safetensors', 'file:last.state.safetensors'], 'the bytes go once');
  // equal bytes in two objects (not shared) are sent twice: only the object tells
  const apart = shipFields({ 'last.safetensors': w, 'best.safetensors': new Uint8Array(w) });
  assert.deepEqual(apart.copies, []);
  assert.equal(apart.pairs.length, 4);
});

test('a shipment whose best file is its last twin\'s object has Redis copy it; an older step leaves the checkpoint alone', { skip }, async () => {
  const client = redisClient(parseQueueUrl(redis.url));
  try {
    const sweep = randomUUID(), run = 'default/seed-1';
    const record = (step: number): EvalRecord => ({ step, loss: 0.5, bitsPerSeq: 1, bitErrorsPerSeq: 0.5, trainLoss: 0.5, elapsedSec: 1, skippedSteps: 0, level: 0, range: '1..3 words' });
    const w = new Uint8Array([1, 2, 3]), st = new Uint8Array([4, 5, 6, 7]);
    await shipEval(client, sweep, run, record(100), { 'last.safetensors': w, 'last.state.safetensors': st, 'best.safetensors': w, 'best.state.safetensors': st }, [], '/x');
    let ck = await fetchCheckpoint(client, sweep, run);
    assert.equal(ck!.step, 100);
    assert.deepEqual(Object.fromEntries([...ck!.files].map(([k, b]) => [k, [...b]])),
      { 'last.safetensors': [1, 2, 3], 'last.state.safetensors': [4, 5, 6, 7], 'best.safetensors': [1, 2, 3], 'best.state.safetensors': [4, 5, 6, 7] });
    // a later evaluation that is not a new best ships its last pair alone: the best pair stays
    await shipEval(client, sweep, run, record(200), { 'last.safetensors': new Uint8Array([9]), 'last.state.safetensors': new Uint8Array([8]) }, [], '/x');
    // an evaluation shipped again from before (a worker that resumed from an older checkpoint) changes nothing
    await shipEval(client, sweep, run, record(150), { 'last.safetensors': w, 'last.state.safetensors': w, 'best.safetensors': w, 'best.state.safetensors': w }, [], '/x');
    ck = await fetchCheckpoint(client, sweep, run);
    assert.equal(ck!.step, 200);
    assert.deepEqual(Object.fromEntries([...ck!.files].map(([k, b]) => [k, [...b]])),
      { 'last.safetensors': [9], 'last.state.safetensors': [8], 'best.safetensors': [1, 2, 3], 'best.state.safetensors': [4, 5, 6, 7] });
    assert.equal(await client.xlen(eventsKey(sweep)), 3, 'every evaluation is in the stream');
    await client.del(checkpointKey(sweep, run), eventsKey(sweep));
  } finally {
    client.disconnect();
  }
});

test('a worker killed with kill -9 mid-run: another resumes the run from its last shipped checkpoint, and the metrics come out whole, once each', { skip }, async () => {
  const root = tempDir();
  const dir = join(root, 'sweep');
  const a = worker(), b = worker();
  const sweep = spawnEngram(sweepArgs(dir, 3000, '--seeds', '1-2'));
  // the worker that took seed 1 dies once a few evaluations of it have come back
  await until('seed 1 to ship evaluations', () => evaluations(join(dir, 'default', 'seed-1')) >= 4);
  const victim = [a, b].find((w) => w.out.includes('default/seed-1'))!;
  victim.kill9();
  const survivor = victim === a ? b : a;
  const r = await sweep.done;
  assert.equal(r.status, 0, r.stderr + r.stdout);
  for (const s of [1, 2]) assert.deepEqual(steps(join(dir, 'default', `seed-${s}`)), upTo(3000), `seed ${s}: every evaluation, once`);
  const resumed = /resuming at step (\d+)/.exec(survivor.out);
  assert.ok(resumed !== null && Number(resumed[1]) >= 400, `resumed from a shipped checkpoint, not from scratch: ${survivor.out}`);
  assert.match(readFileSync(join(dir, 'default', 'seed-1', 'train.log'), 'utf8'), new RegExp(`resuming ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/default/seed-1 at step ${resumed![1]}`));
  // exact resume: the same metrics as one uninterrupted run
  const ref = join(root, 'ref');
  const t = engram(['train', '--preset', 'ntm-copy-small', '--seed', '1', '--steps', '3000', '--set', 'train.threads=1', '--set', 'train.evalEvery=100', '--until-bit-errors', '0', '--run-dir', ref]);
  assert.equal(t.status, 0, t.stderr);
  assert.deepEqual(metrics(join(dir, 'default', 'seed-1')), metrics(ref));
  // and the checkpoints that came back through Redis are the run's own, the best pair included
  for (const name of ['last', 'best']) {
    const [a, b] = [checkpointContents(join(dir, 'default', 'seed-1'), name), checkpointContents(ref, name)];
    assert.deepEqual(a.tensors, b.tensors, `${name}: weights and optimiser buffers`);
    assert.deepEqual(a.state.step, b.state.step, `${name}: step`);
    assert.deepEqual(a.state.best, b.state.best, `${name}: the best record`);
  }
  const file = readFileSync(join(dir, 'sweep.json'), 'utf8');
  assert.equal(JSON.parse(file).complete, true);
  assert.equal(JSON.parse(file).queue, `redis://127.0.0.1:${redis.port}`);
  assertNoPassword(file, r.stdout, r.stderr, survivor.out);
  await survivor.stop();
});

test('a submitter stopped with Ctrl-C leaves each run\'s latest checkpoint in the sweep directory, as far on as its metrics', { skip }, async () => {
  const dir = join(tempDir(), 'sweep');
  const w = worker();
  const sweep = spawnEngram(sweepArgs(dir, 3000, '--seeds', '1'));
  const run = join(dir, 'default', 'seed-1');
  // a few evaluations in (within the first 10 s, before any timed copy of the checkpoint)
  await until('evaluations', () => evaluations(run) >= 3);
  sweep.proc.kill('SIGINT');
  const r = await sweep.done;
  assert.equal(r.status, 130, r.stderr + r.stdout);
  const last = metrics(run).at(-1)!.step as number;
  assert.ok(last >= 300);
  assert.equal(checkpointContents(run, 'last').state.step, last, 'the last checkpoint is the one after the last evaluation here');
  await w.stop();
});

test('a submitter stopped with Ctrl-C while Redis is away exits within seconds, saying how to go on', { skip, timeout: 60_000 }, async () => {
  const dir = join(tempDir(), 'sweep');
  const sweep = spawnEngram(sweepArgs(dir, 3000, '--seeds', '1')); // no worker: nothing runs
  await until('the sweep to start', () => existsSync(join(dir, 'default')));
  await redis.stop();
  try {
    const t0 = Date.now();
    sweep.proc.kill('SIGINT');
    const r = await sweep.done;
    assert.ok(Date.now() - t0 < 20_000, `it exited in ${Date.now() - t0} ms`);
    assert.equal(r.status, 130, r.stderr + r.stdout);
    assert.match(r.stdout, /not finished; go on with: npx engram sweep --sweep-dir/);
  } finally {
    await redis.start();
  }
});

test('Redis restarted mid-sweep: the workers and the submitter reconnect and the sweep completes', { skip }, async () => {
  const dir = join(tempDir(), 'sweep');
  const w = worker();
  const sweep = spawnEngram(sweepArgs(dir, 2000, '--seeds', '1'));
  await until('evaluations', () => evaluations(join(dir, 'default', 'seed-1')) >= 3);
  await redis.stop();
  await new Promise((r) => setTimeout(r, 1000));
  await redis.start();
  const r = await sweep.done;
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.deepEqual(steps(join(dir, 'default', 'seed-1')), upTo(2000));
  assertNoPassword(r.stdout, r.stderr, w.out);
  await w.stop();
});

test('two sweeps on one queue keep their results apart; a submitter stopped and re-attached loses nothing', { skip }, async () => {
  const root = tempDir();
  const dirA = join(root, 'a'), dirB = join(root, 'b');
  const w = new TestWorker(redis.url, 2);
  workers.push(w);
  const argsA = sweepArgs(dirA, 1000, '--seeds', '1-2', '--grid', 'optimizer.lr=0.003');
  const a = spawnEngram(argsA);
  const b = spawnEngram(sweepArgs(dirB, 600, '--seeds', '1-2', '--grid', 'optimizer.lr=0.01'));
  // sweep A's submitter goes away after its first results, and comes back with --sweep-dir alone
  await until('sweep A results', () => evaluations(join(dirA, 'optimizer.lr=0.003', 'seed-1')) >= 1);
  a.proc.kill('SIGKILL');
  await a.done;
  const rb = await b.done;
  assert.equal(rb.status, 0, rb.stderr);
  const ra = engram(['sweep', '--sweep-dir', dirA, '--queue', redis.url], { timeoutMs: 60_000 });
  assert.equal(ra.status, 0, ra.stderr);
  assert.deepEqual(readdirSync(dirA).sort(), ['optimizer.lr=0.003', 'sweep.json']);
  assert.deepEqual(readdirSync(dirB).sort(), ['optimizer.lr=0.01', 'sweep.json']);
  for (const s of [1, 2]) {
    assert.deepEqual(steps(join(dirA, 'optimizer.lr=0.003', `seed-${s}`)), upTo(1000));
    assert.deepEqual(steps(join(dirB, 'optimizer.lr=0.01', `seed-${s}`)), upTo(600));
  }
  // each run's results are its own: its checkpoint holds its own config
  const ck = readFileSync(join(dirB, 'optimizer.lr=0.01', 'seed-2', 'checkpoints', 'last.safetensors'));
  assert.match(ck.subarray(0, 4096).toString('latin1'), /\\"lr\\":0\.01/);
  assert.equal(JSON.parse(readFileSync(join(dirA, 'sweep.json'), 'utf8')).complete, true);
  await w.stop();
});

const HAVE_OPENSSL = spawnSync('openssl', ['version']).status === 0;

test('rediss:// (TLS) with a password: a sweep and a worker through it; the CA comes from NODE_EXTRA_CA_CERTS', { skip: skip || (!HAVE_OPENSSL && 'openssl is not installed') }, async () => {
  const d = tempDir('engram-tls-');
  const sh = (args: string[]): void => assert.equal(spawnSync('openssl', args, { cwd: d, stdio: 'ignore' }).status, 0, `openssl ${args.join(' ')}`);
  sh(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=engram-test-ca']);
  sh(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(d, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  sh(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf']);
  const port = await freePort();
  const server = spawn('redis-server', ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', 'server.pem', '--tls-key-file', 'server.key',
    '--tls-ca-cert-file', 'ca.pem', '--tls-auth-clients', 'no', '--requirepass', PASSWORD, '--save', ''], { cwd: d, stdio: 'ignore' });
  const env = { NODE_EXTRA_CA_CERTS: join(d, 'ca.pem') };
  const url = `rediss://:${PASSWORD}@127.0.0.1:${port}`;
  const w = spawnEngramEnv(['worker', '--queue', url, '--parallel', '1', '--work-dir', tempDir('engram-work-')], env);
  try {
    const dir = join(tempDir(), 'sweep');
    const r = await spawnEngramEnv(['sweep', '--preset', 'ntm-copy-small', '--seeds', '1', '--set', 'train.steps=200', '--set', 'train.evalEvery=100',
      '--until-bit-errors', '0', '--sweep-dir', dir, '--queue', url], env).done;
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.deepEqual(steps(join(dir, 'default', 'seed-1')), upTo(200));
    assert.equal(JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')).queue, `rediss://127.0.0.1:${port}`);
    assertNoPassword(r.stdout, r.stderr, readFileSync(join(dir, 'sweep.json'), 'utf8'));
  } finally {
    w.proc.kill('SIGTERM');
    await w.done;
    server.kill('SIGTERM');
  }
});
