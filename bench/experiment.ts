/**
 * @file The papers' experiments, reproducibly: trains a preset on several seeds (each an
 * ordinary `engram train` run directory), tests each trained model on longer inputs
 * (`engram test --lengths`), and summarises: how many seeds learned (evaluation bit errors per
 * sequence below the threshold), the steps and seconds they took (median and range), the final
 * metrics and the generalisation table (median over seeds). docs/experiments.md is written from
 * these summaries.
 *
 *   node dist/bench/experiment.js --preset ntm-copy-paper --seeds 1-10 --out DIR
 *        [--parallel N] [--steps N] [--threshold X] [--lengths 10,20,...] [--repeats ...] [--items ...]
 *        [--set key=value]... [--json]
 *
 * A seed whose run directory in DIR already holds a finished run is not trained again (an
 * interrupted experiment goes on where it stopped; delete DIR/seed-S to redo one).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { makeDirs } from '../src/checkpoint/atomic.js';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readGeneralisation } from '../src/server/runs.js';
import { parseSeeds } from '../src/run/sweep-plan.js';
import { seedResult, wholeLevelOf, type SeedResult } from '../src/run/sweep-summary.js';
import { readRunConfig } from '../src/run/run-files.js';
import { median } from '../src/server/svg-plot.js';

const BIN = fileURLToPath(new URL('../../bin/engram.js', import.meta.url));
const USAGE = 'usage: node dist/bench/experiment.js --preset NAME --seeds A-B|A,B,... --out DIR [--parallel N] [--steps N] [--threshold X] [--lengths L,...] [--repeats R,...] [--items N,...] [--set key=value]... [--json]';

function fail(message: string): never {
  console.error(`experiment: ${message}. ${USAGE}`);
  process.exit(2);
}

/** "1-10" or "1,3,5" → seeds (the sweep's reading of --seeds). */
function seedsOf(s: string): number[] {
  try {
    return parseSeeds(s);
  } catch (err) {
    return fail((err as Error).message);
  }
}

function run(args: string[], log: string): Promise<number> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => {
      writeFileSync(log, out);
      res(code ?? 1);
    });
  });
}

const stats = (v: number[]): { median: number | null; min: number | null; max: number | null } =>
  ({ median: median(v), min: v.length ? Math.min(...v) : null, max: v.length ? Math.max(...v) : null });

export function summarise(preset: string, results: SeedResult[], threshold: number): Record<string, unknown> {
  const learned = results.filter((r) => r.learnedStep !== null);
  const rows = new Map<string, { length?: number; repeats?: number; errors: number[]; rates: number[] }>();
  for (const r of results) {
    for (const row of r.generalisation?.rows ?? []) {
      const k = `${row.length ?? ''}/${row.repeats ?? ''}`;
      const e = rows.get(k) ?? { length: row.length, repeats: row.repeats, errors: [], rates: [] };
      e.errors.push(row.bitErrorsPerSeq);
      e.rates.push(row.bitErrorRate);
      rows.set(k, e);
    }
  }
  return {
    preset, threshold, seeds: results.length, learned: learned.length,
    steps: stats(learned.map((r) => r.learnedStep!)), seconds: stats(learned.map((r) => r.learnedSec!)),
    final: {
      bitsPerSeq: stats(results.flatMap((r) => (r.last ? [r.last.bitsPerSeq] : []))),
      bitErrorsPerSeq: stats(results.flatMap((r) => (r.last ? [r.last.bitErrorsPerSeq] : []))),
      optimalBitsPerSeq: stats(results.flatMap((r) => (r.last?.optimalBitsPerSeq !== undefined ? [r.last.optimalBitsPerSeq] : []))),
    },
    generalisation: [...rows.values()].map((e) => ({ length: e.length, repeats: e.repeats, bitErrorsPerSeq: stats(e.errors), bitErrorRate: stats(e.rates) })),
    perSeed: results.map((r) => ({ seed: r.seed, learnedStep: r.learnedStep, learnedSec: r.learnedSec, lastStep: r.last?.step ?? null, lastBitErrorsPerSeq: r.last?.bitErrorsPerSeq ?? null })),
  };
}

async function main(): Promise<void> {
  let f;
  try {
    f = parseArgs({
      options: {
        preset: { type: 'string' }, seeds: { type: 'string', default: '1-5' }, out: { type: 'string' }, parallel: { type: 'string', default: '1' },
        steps: { type: 'string' }, threshold: { type: 'string', default: '0.1' }, lengths: { type: 'string' }, repeats: { type: 'string' }, items: { type: 'string' },
        set: { type: 'string', multiple: true }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    fail((err as Error).message.split('\n')[0]!);
  }
  if (f.help) {
    console.log(USAGE);
    return;
  }
  if (!f.preset || !f.out) fail('--preset and --out are required');
  const seeds = seedsOf(f.seeds!);
  const threshold = Number(f.threshold);
  const parallel = Number(f.parallel);
  if (!(parallel >= 1 && Number.isInteger(parallel))) fail('--parallel must be a whole number ≥ 1');
  const out = resolve(f.out);
  try {
    makeDirs(out);
  } catch (err) {
    fail((err as Error).message);
  }
  const queue = [...seeds];
  const results = new Map<number, SeedResult>();
  const one = async (seed: number): Promise<void> => {
    const dir = join(out, `seed-${seed}`);
    if (!existsSync(join(dir, 'metrics.jsonl')) || !readFileSync(join(dir, 'train.log'), 'utf8').includes('done: run written')) {
      const resume = existsSync(join(dir, 'config.json'));
      const args = resume ? ['train', '--run-dir', dir, '--resume'] : ['train', '--preset', f.preset!, '--seed', String(seed), '--run-dir', dir,
        ...(f.steps ? ['--steps', f.steps] : []), ...(f.set ?? []).flatMap((s) => ['--set', s])];
      const code = await run(args, join(out, `seed-${seed}.train.log`));
      if (code !== 0) console.error(`seed ${seed}: engram train exited with ${code} (see ${join(out, `seed-${seed}.train.log`)})`);
    }
    const gen = [['--lengths', f.lengths], ['--repeats', f.repeats], ['--items', f.items]].filter(([, v]) => v !== undefined).flat() as string[];
    if (gen.length > 0 && readGeneralisation(dir) === null) await run(['test', '--run-dir', dir, ...gen, '--batches', '20'], join(out, `seed-${seed}.test.log`));
    const r = seedResult(seed, dir, threshold, wholeLevelOf(readRunConfig(dir)));
    results.set(seed, r);
    console.log(`seed ${seed}: ${r.learnedStep !== null ? `learned at step ${r.learnedStep}, ${r.learnedSec!.toFixed(1)} s` : 'did not learn'}; ` +
      `last: step ${r.last?.step}, ${r.last?.bitErrorsPerSeq.toFixed(3)} bit errors/seq`);
  };
  await Promise.all(Array.from({ length: parallel }, async () => {
    for (let s = queue.shift(); s !== undefined; s = queue.shift()) await one(s);
  }));
  const summary = summarise(f.preset, seeds.map((s) => results.get(s)!), threshold);
  writeFileSync(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`${summary.learned} of ${summary.seeds} seeds learned; summary: ${join(out, 'summary.json')}`);
  if (f.json) console.log(JSON.stringify(summary));
}

await main();
