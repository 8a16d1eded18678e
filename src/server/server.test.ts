import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveCheckpoint } from '../checkpoint/checkpoint.js';
import { findPreset } from '../config/presets.js';
import { cloneConfig } from '../config/schema.js';
import { createModel } from '../models/registry.js';
import { createTask } from '../tasks/registry.js';
import { Rng } from '../tensor/random.js';
import { CLIENT_QUEUE_BYTES, LiveHub, MAX_CLIENTS } from './live.js';
import type { Inspection, RunSummary } from './protocol.js';
import { startDashboard, type Dashboard } from './server.js';

const tmp = mkdtempSync(join(tmpdir(), 'engram-server-'));
const web = join(tmp, 'web');
mkdirSync(web);
writeFileSync(join(web, 'index.html'), '<!doctype html><title>page</title>');
writeFileSync(join(web, 'app.js'), 'void 0;');
writeFileSync(join(tmp, 'secret.txt'), 'SECRET');

const runs = join(tmp, 'runs');
const config = JSON.stringify(findPreset('ntm-copy-small')!.config);
const metric = (step: number): string => JSON.stringify({ step, loss: 0.01, bitsPerSeq: 2, bitErrorsPerSeq: 1, trainLoss: 0.011, elapsedSec: step / 100 });
mkdirSync(join(runs, 'good'), { recursive: true });
writeFileSync(join(runs, 'good', 'config.json'), config);
writeFileSync(join(runs, 'good', 'metrics.jsonl'), `${metric(10)}\n${metric(20)}\n{"step": 30, "lo`); // a torn last line
mkdirSync(join(runs, 'no-config'));
mkdirSync(join(runs, '.hidden'));
writeFileSync(join(runs, '.hidden', 'config.json'), config);
const outside = join(tmp, 'outside-run');
mkdirSync(outside);
writeFileSync(join(outside, 'config.json'), config);
symlinkSync(outside, join(runs, 'link'));

const servers: Dashboard[] = [];
after(async () => {
  for (const s of servers) await s.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function serve(opts: Partial<Parameters<typeof startDashboard>[0]> = {}): Promise<Dashboard> {
  const d = await startDashboard({ host: '127.0.0.1', port: 0, title: 'test', runsDir: runs, webDir: web, ...opts });
  servers.push(d);
  return d;
}

/** A request with the path sent exactly as written (no client-side normalisation). */
function get(port: number, path: string, opts: { method?: string; host?: string } = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.host ? { Host: opts.host } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('serves the page, its files and the runs API', async () => {
  const { port } = await serve();
  const page = await get(port, '/');
  assert.equal(page.status, 200);
  assert.match(String(page.headers['content-type']), /text\/html/);
  assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
  assert.equal((await get(port, '/app.js')).status, 200);
  assert.deepEqual(JSON.parse((await get(port, '/api/info')).body), { mode: 'runs', title: 'test' });
  const list = JSON.parse((await get(port, '/api/runs')).body) as RunSummary[];
  assert.deepEqual(list.map((r) => r.name), ['good'], 'no config, hidden names and symlinks are not runs');
  assert.equal(list[0]!.evaluations, 2);
  assert.equal(list[0]!.hasCheckpoint, false);
  // when it last changed: its newest file (the past-runs page ticks the newest runs first)
  assert.equal(list[0]!.updated, Math.max(...['config.json', 'metrics.jsonl'].map((f) => statSync(join(runs, 'good', f)).mtimeMs)));
  const metrics = JSON.parse((await get(port, '/api/runs/good/metrics')).body) as { step: number }[];
  assert.deepEqual(metrics.map((m) => m.step), [10, 20]);
  assert.equal(JSON.parse((await get(port, '/api/runs/good/config')).body).model.type, 'ntm');
  const inspect = await get(port, '/api/runs/good/inspect');
  assert.equal(inspect.status, 409);
  assert.match(JSON.parse(inspect.body).error, /no checkpoint/);
});

test('symlinks inside a run directory are not followed: not its config.json, metrics, generalisation, checkpoints/ or a checkpoint file', async () => {
  const root = join(tmp, 'links');
  const runs2 = join(root, 'runs');
  mkdirSync(runs2, { recursive: true });
  // files outside the runs folder, which a symlink would reach: a real checkpoint and real records
  const outside = join(root, 'outside');
  mkdirSync(outside);
  const cfg = cloneConfig(findPreset('ntm-copy-small')!.config);
  const task = createTask(cfg.task);
  const model = createModel(cfg.model, task.inputSize, task.outputSize, new Rng(1), 'f32', { kernelHeap: false });
  saveCheckpoint(outside, 'best', model.params, { step: 0, buffers: new Map() }, {
    step: 7, optimizerStep: 7, rng: { train: [1, 2, 3, 4], eval: [1, 2, 3, 4] }, best: null, skippedSteps: 0, badInARow: 0,
    elapsedSec: 0, config: cfg, runningLoss: { sum: 0, count: 0 },
  });
  writeFileSync(join(outside, 'metrics.jsonl'), `${metric(10)}\n`);
  writeFileSync(join(outside, 'generalisation.jsonl'), `${JSON.stringify({ step: 10, rows: [{ length: 2, loss: 0, bitsPerSeq: 0, bitErrorsPerSeq: 0, bitErrorRate: 0 }] })}\n`);
  writeFileSync(join(outside, 'config.json'), config);
  const run = (name: string): string => {
    const d = join(runs2, name);
    mkdirSync(d);
    writeFileSync(join(d, 'config.json'), config);
    return d;
  };
  // the control: a real checkpoint in a real checkpoints/
  mkdirSync(join(run('real'), 'checkpoints'));
  copyFileSync(join(outside, 'best.safetensors'), join(runs2, 'real', 'checkpoints', 'best.safetensors'));
  symlinkSync(outside, join(run('dir-link'), 'checkpoints'));
  mkdirSync(join(run('file-link'), 'checkpoints'));
  symlinkSync(join(outside, 'best.safetensors'), join(runs2, 'file-link', 'checkpoints', 'best.safetensors'));
  const data = run('data-link');
  symlinkSync(join(outside, 'metrics.jsonl'), join(data, 'metrics.jsonl'));
  symlinkSync(join(outside, 'generalisation.jsonl'), join(data, 'generalisation.jsonl'));
  mkdirSync(join(runs2, 'config-link'));
  symlinkSync(join(outside, 'config.json'), join(runs2, 'config-link', 'config.json'));

  const { port } = await serve({ runsDir: runs2 });
  const list = JSON.parse((await get(port, '/api/runs')).body) as RunSummary[];
  assert.deepEqual(list.map((r) => [r.name, r.hasCheckpoint, r.evaluations]),
    [['data-link', false, 0], ['dir-link', false, 0], ['file-link', false, 0], ['real', true, 0]], 'config-link is no run');
  assert.equal((await get(port, '/api/runs/config-link/config')).status, 404);
  const real = await get(port, '/api/runs/real/inspect');
  assert.equal(real.status, 200, real.body);
  assert.equal((JSON.parse(real.body) as Inspection).step, 7);
  for (const name of ['dir-link', 'file-link']) {
    const r = await get(port, `/api/runs/${name}/inspect`);
    assert.equal(r.status, 409, `${name}: ${r.body}`);
    assert.match(JSON.parse(r.body).error, /no checkpoint yet/);
  }
  assert.deepEqual(JSON.parse((await get(port, '/api/runs/data-link/metrics')).body), []);
  assert.equal(JSON.parse((await get(port, '/api/runs/data-link/generalisation')).body), null);
});

test('no path traversal: only the built files and listed runs are reachable', async () => {
  const { port } = await serve();
  for (const path of [
    '/../package.json', '/..%2fpackage.json', '/%2e%2e/package.json', '/%2e%2e%2fsecret.txt', '/%2E%2E/%2E%2E/etc/passwd',
    '/app.js/../../secret.txt', '//etc/passwd', '/..\\secret.txt', '/index.html%00.js', '/web/app.js', '/secret.txt',
    '/api/runs/..%2F..%2Fsecret.txt/metrics', '/api/runs/%2e%2e/config', '/api/runs/../runs/good/config/x',
  ]) {
    const r = await get(port, path);
    assert.ok(r.status === 404 || r.status === 400, `${path} → ${r.status}`);
    assert.doesNotMatch(r.body, /SECRET|"name": "engram"|root:/, path);
  }
});

test('run names are looked up, never trusted', async () => {
  const { port } = await serve();
  for (const name of ['nope', 'link', '.hidden', 'no-config', '%E0%A4%A', encodeURIComponent('<script>'), 'good%00']) {
    const r = await get(port, `/api/runs/${name}/metrics`);
    assert.ok(r.status === 404 || r.status === 400, `${name} → ${r.status}`);
  }
  assert.equal((await get(port, '/api/runs/good/secrets')).status, 404);
  assert.equal((await get(port, '/api/runs/good/inspect?length=100000')).status, 400);
  assert.equal((await get(port, '/api/runs/good/inspect?seed=-1')).status, 400);
});

test('404s, 405s, and foreign Host headers refused', async () => {
  const { port } = await serve();
  assert.equal((await get(port, '/nope')).status, 404);
  assert.equal((await get(port, '/api/nope')).status, 404);
  assert.equal((await get(port, '/api/live/events')).status, 404, 'no live run in runs mode');
  assert.equal((await get(port, '/', { method: 'POST' })).status, 405);
  assert.equal((await get(port, '/', { host: 'evil.example' })).status, 403, 'DNS rebinding');
  assert.equal((await get(port, '/', { host: `localhost:${port}` })).status, 200);
  const bare = await serve({ webDir: join(tmp, 'not-built') });
  assert.equal((await get(bare.port, '/')).status, 503);
});

/** Sends `target` as the request line verbatim and returns the status line (or '' if the socket closed). */
function rawStatus(port: number, target: string): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const sock = connect(port, '127.0.0.1', () => sock.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (text += d));
    sock.on('error', () => resolve(''));
    sock.on('close', () => resolve(text.split('\r\n')[0] ?? ''));
  });
}

test('a request target that is not a URL is a 400, and the server stays up', async () => {
  const { port } = await serve();
  for (const target of ['http://[', 'http://[::1', 'http://a b/']) {
    const status = await rawStatus(port, target);
    assert.ok(status === '' || /^HTTP\/1\.1 400/.test(status), `${target} → ${status}`);
  }
  assert.equal((await get(port, '/api/info')).status, 200, 'still serving');
});

test('a busy port is an EADDRINUSE error', async () => {
  const a = await serve();
  await assert.rejects(serve({ port: a.port }), /EADDRINUSE/);
});

/** An inspection of about `bytes` of JSON. */
function bigInspection(bytes: number): Inspection {
  const data = new Array<number>(Math.ceil(bytes / 7)).fill(0.1234);
  const s = { shape: [data.length], data };
  return { title: '', model: 'ntm', step: 0, T: 1, N: 1, W: 1, X: 1, Y: 1, words: 1, input: s, target: s, mask: s, output: s, writeWeights: [], readWeights: [], memory: s, ntm: { heads: [] }, dnc: null };
}

function openStream(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1', () => {
      sock.write(`GET /api/live/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      resolve(sock);
    });
  });
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

test('a tab that reads nothing holds a bounded queue; when it reads again it gets one fresh snapshot', async () => {
  let now = 0;
  const run: RunSummary = { name: 'live', model: 'ntm', task: 'copy', description: '', totalSteps: 1e6, last: null, evaluations: 0, hasCheckpoint: false, live: true, updated: null };
  const hub = new LiveHub({ run, total: 1e6, now: () => now });
  const { port } = await serve({ runsDir: undefined, live: { hub, name: 'live', runDir: join(runs, 'good') } });
  const stalled = await openStream(port);
  stalled.pause(); // reads nothing
  while (hub.clientCount < 1) await tick();

  let step = 0;
  for (let round = 0; round < 40; round++) {
    hub.setInspection(bigInspection(400_000));
    for (let i = 0; i < 2000; i++) {
      now += 300; // every step flushes: the worst case
      hub.onStep(++step, 0.01 + (i % 7) * 1e-4);
    }
    hub.onEval({ step, loss: 0.01, bitsPerSeq: 1, bitErrorsPerSeq: 0.5, trainLoss: 0.01, elapsedSec: now / 1000 }, null);
    await tick(); // let the socket push back
  }
  const [stats] = hub.clientStats();
  assert.ok(stats!.queuedBytes <= CLIENT_QUEUE_BYTES, `queued ${stats!.queuedBytes}`);
  assert.ok(stats!.socketBytes <= 2 * CLIENT_QUEUE_BYTES, `socket holds ${stats!.socketBytes}`);
  assert.ok(stats!.resyncs > 0, 'the stalled client was dropped to a resync');

  // it reads again: the stream carries on and ends with the current state
  let text = '';
  stalled.setEncoding('utf8');
  stalled.on('data', (d: string) => (text += d));
  stalled.resume();
  const final = `"step":${step},`;
  for (let i = 0; i < 250 && !(text.includes('"type":"snapshot"') && text.lastIndexOf(final) > text.lastIndexOf('"type":"snapshot"')); i++) await tick();
  assert.ok(text.includes('"type":"snapshot"'), 'a snapshot was sent');
  assert.ok(text.lastIndexOf(final) > text.lastIndexOf('"type":"snapshot"'), 'the stream reached the last step');
  stalled.destroy();
});

test(`at most ${MAX_CLIENTS} open streams; more get 503`, async () => {
  const run: RunSummary = { name: 'live', model: 'ntm', task: 'copy', description: '', totalSteps: 10, last: null, evaluations: 0, hasCheckpoint: false, live: true, updated: null };
  const hub = new LiveHub({ run, total: 10 });
  const { port } = await serve({ runsDir: undefined, live: { hub, name: 'live', runDir: join(runs, 'good') } });
  const socks = await Promise.all(Array.from({ length: MAX_CLIENTS }, () => openStream(port)));
  while (hub.clientCount < MAX_CLIENTS) await tick();
  const extra = await get(port, '/api/live/events');
  assert.equal(extra.status, 503);
  for (const s of socks) s.destroy();
  for (let i = 0; i < 100 && hub.clientCount > 0; i++) await tick();
  assert.equal(hub.clientCount, 0, 'closed tabs are forgotten');
});
