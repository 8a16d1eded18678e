/**
 * @file The playground against Node, by hand (it drives Debian's Chromium): time from opening
 * the page to its first curve point, the step at which ntm-copy-fast learns in the page and in
 * Node for the same seed (and whether every evaluation's numbers agree), the mean ms per
 * training step of one thread in the page and in Node (dnc-repeat-copy, ntm-copy), two
 * gradient threads (Web Workers) against one, and the playground's transfer size.
 *
 *   node dist/bench/playground.js [--steps N] [--warmup N] [--json]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { chromium, type Page } from 'playwright-core';
import { findPreset } from '../src/config/presets.js';
import { applyOverrides, cloneConfig } from '../src/config/schema.js';
import { kernelsName } from '../src/kernels/wasm.js';
import { createModel } from '../src/models/registry.js';
import { PLAYGROUND_DIR, startPlayground } from '../src/server/playground.js';
import { createTask } from '../src/tasks/registry.js';
import { seedStreams, Trainer, type EvalRecord } from '../src/train/trainer.js';

const USAGE = 'usage: node dist/bench/playground.js [--steps N] [--warmup N] [--json]';
const { values } = parseArgs({ options: { steps: { type: 'string', default: '200' }, warmup: { type: 'string', default: '250' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const STEPS = Number(values.steps), WARMUP = Number(values.warmup);
if (!Number.isInteger(STEPS) || STEPS < 1 || !Number.isInteger(WARMUP) || WARMUP < 1) {
  console.error(`bench: --steps and --warmup must be positive whole numbers. ${USAGE}`);
  process.exit(2);
}

interface Status { step: number; bitErrorsPerSeq: number | null; loss: number | null; msPerStep: number | null; done: boolean }

/** A preset with `sets` trained in Node as the page trains it: every evaluation, and the mean ms of the steps since the one before the last. */
function node(preset: string, sets: string[]): { evals: EvalRecord[]; msPerStep: number } {
  const config = cloneConfig(findPreset(preset)!.config);
  applyOverrides(config, sets);
  const streams = seedStreams(config.seed);
  const task = createTask(config.task);
  const trainer = new Trainer(createModel(config.model, task.inputSize, task.outputSize, streams.init), task, config, streams);
  const evals: EvalRecord[] = [];
  let ms = 0, steps = 0;
  try {
    while (trainer.step < config.train.steps) {
      const t = performance.now();
      trainer.trainStep();
      ms += performance.now() - t;
      steps++;
      const scheduled = trainer.step % config.train.evalEvery === 0;
      if (!scheduled && trainer.step < config.train.steps) continue;
      const rec = trainer.evalRecord(0, scheduled);
      evals.push(rec);
      if (config.train.untilBitErrors > 0 && rec.bitErrorsPerSeq < config.train.untilBitErrors) break;
      if (trainer.step < config.train.steps) ms = steps = 0;
    }
  } finally {
    trainer.close();
  }
  return { evals, msPerStep: ms / steps };
}

/** Opens the playground with `query` and waits until its training is done. */
async function page(p: Page, url: string, query: string): Promise<{ status: Status }> {
  await p.goto(`${url}?${query}`);
  await p.waitForFunction(() => (window as unknown as { engram?: { status(): Status } }).engram?.status().done === true, null, { timeout: 600_000, polling: 100 });
  return { status: await p.evaluate(() => (window as unknown as { engram: { status(): Status } }).engram.status()) };
}

const server = await startPlayground({ host: '127.0.0.1', port: 0 });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
const results: Record<string, unknown> = {};
try {
  const p = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  // 1. from opening the page to the first point of the loss curve
  const loads: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await p.goto(`${server.url}?preset=ntm-copy-fast&autostart=1`);
    await p.waitForFunction(() => Number(document.querySelector('[data-chart="loss"]')?.getAttribute('data-points')) >= 1, null, { timeout: 60_000, polling: 'raf' });
    loads.push(performance.now() - t0);
  }
  loads.sort((a, b) => a - b);
  results.firstPointMs = { median: loads[2], max: loads[4] };

  // 2. ntm-copy-fast learns: the page's last evaluation against Node's (same seed)
  const learnNode = node('ntm-copy-fast', []);
  const learnPage = await page(p, server.url, 'preset=ntm-copy-fast&autostart=1');
  const lastNode = learnNode.evals[learnNode.evals.length - 1]!;
  results.learns = {
    node: { step: lastNode.step, bitErrorsPerSeq: lastNode.bitErrorsPerSeq, loss: lastNode.loss },
    page: { step: learnPage.status.step, bitErrorsPerSeq: learnPage.status.bitErrorsPerSeq, loss: learnPage.status.loss },
    same: lastNode.step === learnPage.status.step && lastNode.loss === learnPage.status.loss,
  };

  // 3. ms per training step: the mean over STEPS steps after WARMUP, one thread and two
  const timing: Record<string, unknown>[] = [];
  for (const preset of ['dnc-repeat-copy', 'ntm-copy']) {
    for (const threads of [1, 2]) {
      const sets = [`train.steps=${WARMUP + STEPS}`, `train.evalEvery=${WARMUP}`, 'train.untilBitErrors=0', 'train.evalBatches=1', `train.threads=${threads}`];
      const n = node(preset, sets);
      const pg = await page(p, server.url, `preset=${preset}&autostart=1&${sets.join('&')}`);
      timing.push({ preset, threads, nodeMs: n.msPerStep, pageMs: pg.status.msPerStep, ratio: pg.status.msPerStep! / n.msPerStep });
    }
  }
  results.msPerStep = timing;
} finally {
  await browser.close();
  await server.close();
}

// 4. what a browser downloads: every file of the playground
const files = readdirSync(PLAYGROUND_DIR).map((f) => {
  const bytes = readFileSync(join(PLAYGROUND_DIR, f));
  return { file: f, bytes: statSync(join(PLAYGROUND_DIR, f)).size, gzip: gzipSync(bytes, { level: 9 }).length };
});
results.transfer = { files, bytes: files.reduce((a, f) => a + f.bytes, 0), gzip: files.reduce((a, f) => a + f.gzip, 0) };
results.kernels = kernelsName();

if (values.json) {
  console.log(JSON.stringify(results));
} else {
  const r = results as { firstPointMs: { median: number; max: number }; learns: { node: unknown; page: unknown; same: boolean }; msPerStep: { preset: string; threads: number; nodeMs: number; pageMs: number; ratio: number }[]; transfer: { bytes: number; gzip: number } };
  console.log(`kernels (Node): ${results.kernels}`);
  console.log(`page to first curve point: median ${r.firstPointMs.median.toFixed(0)} ms, slowest of 5 ${r.firstPointMs.max.toFixed(0)} ms`);
  console.log(`ntm-copy-fast: Node ${JSON.stringify(r.learns.node)}; page ${JSON.stringify(r.learns.page)}; ${r.learns.same ? 'the same' : 'DIFFERENT'}`);
  for (const t of r.msPerStep) console.log(`${t.preset}, ${t.threads} thread${t.threads > 1 ? 's' : ''}: Node ${t.nodeMs.toFixed(2)} ms/step, page ${t.pageMs.toFixed(2)} ms/step (${t.ratio.toFixed(2)}×)`);
  console.log(`transfer: ${(r.transfer.bytes / 1024).toFixed(0)} KiB, ${(r.transfer.gzip / 1024).toFixed(0)} KiB gzipped`);
}
