/**
 * @file What a sweep costs: wall time of the same seeds of one preset run one after another
 * (`engram train` each), on the local pool (`engram sweep --parallel 1` and `2`) and through
 * Redis (one and two `engram worker --parallel 1`, with a redis-server started here on a free
 * port; the workers are started and taking runs before the timer starts, as long-lived workers
 * would be; `redis2w` times two workers that have served a small sweep before, the steady state of
 * a worker whose runs' processes have compiled the training code). The variants run interleaved,
 * round after round, so load from elsewhere falls on all.
 *
 *   node dist/bench/sweep-timing.js [--preset dnc-repeat-copy-fast] [--seeds 1-20] [--rounds 2]
 *                                   [--only seq,pool1,pool2,redis1,redis2,redis2w] [--json]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseSeeds } from '../src/run/sweep-plan.js';

const BIN = fileURLToPath(new URL('../../bin/engram.js', import.meta.url));
const { values: f } = parseArgs({ options: { preset: { type: 'string', default: 'dnc-repeat-copy-fast' }, seeds: { type: 'string', default: '1-20' }, rounds: { type: 'string', default: '2' }, only: { type: 'string' }, json: { type: 'boolean' } } });
const seeds = parseSeeds(f.seeds!);
const root = mkdtempSync(join(tmpdir(), 'engram-sweep-timing-'));
let n = 0;
const fresh = (): string => join(root, String(n++));

function engram(args: string[]): Promise<void> {
  return new Promise((res, rej) => {
    const c = spawn(process.execPath, [BIN, ...args], { stdio: 'ignore' });
    c.on('close', (code) => (code === 0 ? res() : rej(new Error(`engram ${args.join(' ')} exited with ${code}`))));
  });
}

async function timed(run: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await run();
  return (performance.now() - t0) / 1000;
}

const port = await new Promise<number>((res) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => res(p));
  });
});
const haveRedis = spawnSync('redis-server', ['--version']).status === 0;
const redis = haveRedis ? spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }) : null;
await new Promise((r) => setTimeout(r, 500));
const url = `redis://127.0.0.1:${port}`;

/**
 * Starts `count` workers, waits until each is taking runs (a worker is a long-lived process:
 * its start is not a sweep's cost), then times `run`.
 */
async function withWorkers(count: number, run: () => Promise<number>, served = false): Promise<number> {
  const workers = Array.from({ length: count }, () => spawn(process.execPath, [BIN, 'worker', '--queue', url, '--parallel', '1', '--work-dir', fresh()], { stdio: ['ignore', 'pipe', 'ignore'] }));
  try {
    await Promise.all(workers.map((w) => new Promise<void>((res, rej) => {
      let out = '';
      w.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('taking runs from')) res();
      });
      w.on('close', () => rej(new Error(`a worker exited before taking runs: ${out.trim()}`)));
    })));
    // a worker that has served a sweep already (its processes kept from it): the steady state
    if (served) await engram(['sweep', '--preset', f.preset!, '--seeds', `1-${2 * count}`, '--sweep-dir', fresh(), '--queue', url]);
    return await run();
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => new Promise((r) => w.on('close', r))));
  }
}

const sweep = (more: string[]): string[] => ['sweep', '--preset', f.preset!, '--seeds', f.seeds!, '--sweep-dir', fresh(), ...more];
/** Each variant returns the seconds its sweep took. */
const all: [string, () => Promise<number>][] = [
  ['one after another (engram train each)', () => timed(async () => {
    for (const s of seeds) await engram(['train', '--preset', f.preset!, '--seed', String(s), '--set', 'train.threads=1', '--run-dir', fresh()]);
  })],
  ['local pool, --parallel 1', () => timed(() => engram(sweep(['--parallel', '1'])))],
  ['local pool, --parallel 2', () => timed(() => engram(sweep(['--parallel', '2'])))],
  ...(haveRedis ? [
    ['Redis, one worker --parallel 1', () => withWorkers(1, () => timed(() => engram(sweep(['--queue', url]))))],
    ['Redis, two workers --parallel 1', () => withWorkers(2, () => timed(() => engram(sweep(['--queue', url]))))],
    ['Redis, two workers, after a first sweep', () => withWorkers(2, () => timed(() => engram(sweep(['--queue', url]))), true)],
  ] as [string, () => Promise<number>][] : []),
];
const KEYS = ['seq', 'pool1', 'pool2', 'redis1', 'redis2', 'redis2w'];
const only = f.only?.split(',');
const variants = all.filter((_, i) => only === undefined || only.includes(KEYS[i]!));
const times = new Map<string, number[]>(variants.map(([name]) => [name, []]));
for (let r = 0; r < Number(f.rounds); r++) {
  // each round in another order
  for (const [name, run] of r % 2 === 0 ? variants : [...variants].reverse()) {
    const t = await run();
    times.get(name)!.push(t);
    console.log(`round ${r + 1}: ${name}: ${t.toFixed(1)} s`);
  }
}
redis?.kill('SIGTERM');
rmSync(root, { recursive: true, force: true });
const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const result = Object.fromEntries([...times].map(([k, v]) => [k, { seconds: v, median: median(v) }]));
const seq = median(times.get(variants[0]![0])!);
console.log(`${seeds.length} seeds of ${f.preset}; medians over ${f.rounds} interleaved rounds:`);
for (const [k, v] of times) console.log(`  ${k.padEnd(40)} ${median(v).toFixed(1)} s (${(median(v) / seq).toFixed(2)}× one after another; ${((median(v) - seq) / seeds.length).toFixed(2)} s per run over it)`);
if (f.json) console.log(JSON.stringify(result));
