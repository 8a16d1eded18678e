/**
 * The dashboard in a real browser: Debian's Chromium, driven by playwright-core, loads the
 * live page during a short training run, the past-runs page and an offline report, checks
 * that curves gain points and heatmaps have the model's dimensions, and saves screenshots
 * to test-results/dashboard/. Skipped (with a message) where /usr/bin/chromium is missing;
 * .ci/run installs it, so CI always runs this.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { findPreset } from '../src/config/presets.js';
import { readMetrics } from '../src/server/runs.js';
import { seedCurve } from '../src/server/seed-curve.js';
import { BIN, collectErrors, engram, ROOT, tempDir, launchChromium, serveCommand } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
/** what Chromium logs when a test stops the server whose event stream a page reads */
const STREAM_CLOSED = 'ERR_INCOMPLETE_CHUNKED_ENCODING';
const SHOTS = join(ROOT, 'test-results', 'dashboard');

/** Starts an engram command that serves a dashboard; resolves with the process and its URL. */
const serve = (args: string[]): ReturnType<typeof serveCommand> => serveCommand(args, 'dashboard');

function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

/**
 * Every heatmap's rows and columns, read at once (the first canvas of each name): in a live run
 * the next evaluation's sequence, of another length, may redraw them between two reads.
 */
function heatmapSizes(page: Page): Promise<Record<string, [number, number]>> {
  return page.evaluate(() => Object.fromEntries([...document.querySelectorAll('canvas[data-heatmap]')].reverse()
    .map((c) => [c.getAttribute('data-heatmap')!, [Number(c.getAttribute('data-rows')), Number(c.getAttribute('data-cols'))] as [number, number]])));
}

/** Locally a missing browser skips the test; in CI (.ci/run installs Chromium) it fails it. */
const skip = !existsSync(CHROMIUM) && !process.env.CI && `${CHROMIUM} is not installed (apt-get install chromium); .ci/run installs it`;

test('dashboard in Chromium: live curves and inspector, past runs side by side, offline report', { skip, timeout: 90_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: .ci/run should have installed Debian's chromium`);
  mkdirSync(SHOTS, { recursive: true });
  const runs = join(tempDir('engram-browser-'), 'runs');
  const ntmDir = join(runs, 'ntm-small'), dncDir = join(runs, 'dnc-tiny');

  // a DNC run to inspect later, trained while the NTM trains live
  const dncTraining = new Promise<number | null>((resolve) => {
    spawn(process.execPath, [BIN, 'train', '--preset', 'dnc-repeat-copy', '--steps', '4', '--eval-every', '2', '--set', 'train.evalBatches=1', '--run-dir', dncDir], { cwd: ROOT, stdio: 'ignore' })
      .on('exit', resolve);
  });
  // 5000 steps and no stop when it has learned: more than the test waits for (it stops the run
  // with Ctrl-C), so the curve is still growing when the page looks, however fast the machine
  const live = await serve(['train', '--preset', 'ntm-copy-small', '--steps', '5000', '--until-bit-errors', '0', '--eval-every', '25', '--set', 'train.evalBatches=2',
    '--run-dir', ntmDir, '--dashboard', '--port', '0']);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    // the event stream breaks when the test stops its server: expected
    const errors = collectErrors(page, [], { console: 'errors', allow: STREAM_CLOSED });

    // 1. live: the loss curve gains points while training runs
    await page.goto(live.url);
    const points = async (): Promise<number> => Number(await page.getAttribute('[data-chart="loss"]', 'data-points'));
    await page.waitForFunction(() => Number(document.querySelector('[data-chart="loss"]')?.getAttribute('data-points')) >= 2, null, { timeout: 20_000 });
    const before = await points();
    const stepBefore = Number(await page.getAttribute('[data-stat="step"]', 'data-step'));
    // the curve gains points (read once, when it has: past 2,000 points the server halves the
    // curve, so a second read could find fewer)
    const grown = await page.waitForFunction((n) => {
      const p = Number(document.querySelector('[data-chart="loss"]')?.getAttribute('data-points'));
      return p > n ? p : false;
    }, before, { timeout: 20_000 });
    assert.ok(Number(await grown.jsonValue()) > before, 'the loss curve gained points');
    assert.equal(await page.textContent('header .mode'), 'live');
    // the step went on (progress comes with the server's periodic flush, not with each evaluation,
    // so the curve can grow before the step shown does: wait for it)
    const stepNow = await page.waitForFunction((n) => {
      const st = Number(document.querySelector('[data-stat="step"]')?.getAttribute('data-step'));
      return st > n ? st : false;
    }, stepBefore, { timeout: 20_000 });
    assert.ok(Number(await stepNow.jsonValue()) > stepBefore, 'the step went on');
    // the range training draws from (ntm-copy-small: 1..3 words)
    assert.equal(await page.textContent('[data-stat="range"]'), '1..3 words');

    // the inspector: NTM ntm-copy-small has X = 6, Y = 4, N = 8, W = 8, shift offsets 3
    await page.waitForSelector('canvas[data-heatmap="write-0"]');
    const dims = await heatmapSizes(page);
    const T = dims.input![1];
    assert.ok(T >= 4 && T % 2 === 0, `T = ${T}: copy sequences have 2n + 2 steps`);
    assert.deepEqual(dims.input, [6, T]);
    assert.deepEqual(dims.target, [4, T]);
    assert.deepEqual(dims.output, [4, T]);
    assert.deepEqual(dims['write-0'], [8, T]);
    assert.deepEqual(dims['read-0'], [8, T]);
    assert.deepEqual(dims.memory, [8, 8]);
    assert.deepEqual(dims['shift-write-0'], [3, T]);
    const box = await page.locator('canvas[data-heatmap="write-0"]').boundingBox();
    assert.ok(box && box.width > T * 2 && box.height > 8 * 2, 'the weighting heatmap is drawn at a visible size');
    // a keypress moves one time step
    const t0 = Number(await page.getAttribute('[data-inspector-t]', 'data-inspector-t'));
    await page.keyboard.press('ArrowRight');
    assert.equal(Number(await page.getAttribute('[data-inspector-t]', 'data-inspector-t')), Math.min(T - 1, t0 + 1));
    // export: a chart as PNG and as SVG
    const [png] = await Promise.all([page.waitForEvent('download'), page.locator('[data-chart="loss"] .export button', { hasText: 'PNG' }).click()]);
    assert.match(png.suggestedFilename(), /\.png$/);
    const [svg] = await Promise.all([page.waitForEvent('download'), page.locator('[data-chart="loss"] .export button', { hasText: 'SVG' }).click()]);
    const svgText = readFileSync((await svg.path())!, 'utf8');
    assert.match(svgText, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svgText, /<path d="M/);
    await page.screenshot({ path: join(SHOTS, 'live.png'), fullPage: true });
    // Ctrl-C: during training it saves and exits 130, after it (still serving) 0
    assert.ok([0, 130].includes((await stop(live.child))!), live.output());

    // 2. past runs: both runs listed and laid side by side; the DNC's inspector
    assert.equal(await dncTraining, 0, 'the DNC run trained');
    // a generalisation test of the NTM run, for the chart of errors against length
    const gen = spawnSync(process.execPath, [BIN, 'test', '--run-dir', ntmDir, '--lengths', '2,4,6', '--batches', '1'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(gen.status, 0, gen.stderr);
    const board = await serve(['dashboard', '--runs', runs, '--port', '0']);
    try {
      await page.goto(board.url);
      await page.waitForSelector('input[data-run="dnc-tiny"]');
      await page.check('input[data-run="dnc-tiny"]');
      await page.check('input[data-run="ntm-small"]');
      const evals = (dir: string): number => readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').length;
      const both = evals(ntmDir) + evals(dncDir);
      await page.waitForFunction((n) => Number(document.querySelector('[data-chart="compare-loss"]')?.getAttribute('data-points')) === n, both, { timeout: 10_000 });
      // the NTM run's three tested lengths (the DNC run has none)
      await page.waitForFunction(() => Number(document.querySelector('[data-chart="generalisation"]')?.getAttribute('data-points')) === 3, null, { timeout: 10_000 });
      await page.selectOption('select[aria-label="run to inspect"]', 'dnc-tiny');
      await page.click('button[data-action="inspect"]');
      await page.waitForSelector('canvas[data-heatmap="usage"]');
      const d = await heatmapSizes(page);
      const Td = d.input![1];
      assert.deepEqual(d.usage, [16, Td]); // dnc-repeat-copy: N = 16
      assert.deepEqual(d['allocation-0'], [16, Td]);
      assert.deepEqual(d['link-0'], [16, 16]);
      assert.deepEqual(d['modes-0'], [3, Td]); // backward, forward, content
      assert.deepEqual(d['read-3'], [16, Td]); // 4 read heads
      assert.deepEqual(d.memory, [16, 16]);
      await page.screenshot({ path: join(SHOTS, 'runs.png'), fullPage: true });
    } finally {
      await stop(board.child);
    }

    // 3. the report: one file, opened offline
    const report = join(runs, 'report.html');
    const r = engram(['test', '--run-dir', ntmDir, '--batches', '2', '--report', report]);
    assert.equal(r.status, 0, r.stderr);
    const offline = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const requests: string[] = [];
    offline.on('request', (req) => {
      if (!req.url().startsWith('file:') && !req.url().startsWith('data:') && !req.url().startsWith('blob:')) requests.push(req.url());
    });
    collectErrors(offline, errors);
    await offline.goto(pathToFileURL(report).href);
    await offline.waitForSelector('canvas[data-heatmap="memory"]');
    const evalCount = readFileSync(join(ntmDir, 'metrics.jsonl'), 'utf8').trim().split('\n').length;
    // eval loss and train loss, one point each per evaluation
    assert.equal(Number(await offline.getAttribute('[data-chart="loss"]', 'data-points')), 2 * evalCount);
    assert.deepEqual(requests, [], 'the report loads nothing from anywhere');
    await offline.screenshot({ path: join(SHOTS, 'report.png'), fullPage: true });
    assert.deepEqual(errors, [], 'no errors in the page');
  } finally {
    await browser.close();
    await stop(live.child);
  }
});

test('an LSTM run in Chromium: live and in its report the inspector shows the bit grids and no memory or head figures', { skip, timeout: 60_000 }, async () => {
  mkdirSync(SHOTS, { recursive: true });
  const dir = join(tempDir('engram-browser-'), 'lstm');
  const live = await serve(['train', '--preset', 'lstm-copy-small', '--steps', '5000', '--eval-every', '25', '--set', 'train.evalBatches=2',
    '--set', 'train.untilBitErrors=0', '--run-dir', dir, '--dashboard', '--port', '0']);
  const browser = await launchChromium();
  try {
    const errors: string[] = [];
    const check = async (url: string, shot: string): Promise<void> => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      collectErrors(page, errors, { console: 'errors', allow: STREAM_CLOSED });
      await page.goto(url);
      await page.waitForSelector('canvas[data-heatmap="output"]', { timeout: 20_000 });
      const dims = await heatmapSizes(page);
      const T = dims.input![1];
      assert.ok(T >= 4 && T % 2 === 0, `T = ${T}: copy sequences have 2n + 2 steps`);
      assert.deepEqual(dims.target, [4, T]);
      assert.deepEqual(dims.output, [4, T]);
      assert.equal(await page.locator('canvas[data-heatmap="memory"], canvas[data-heatmap="write-0"], canvas[data-heatmap="read-0"]').count(), 0);
      assert.match((await page.locator('[data-inspector] .summary').textContent()) ?? '', /^LSTM · .* · no memory · \d+ wrong output bits?$/);
      // the slider still steps through time
      await page.keyboard.press('ArrowRight');
      assert.equal(Number(await page.getAttribute('[data-inspector-t]', 'data-inspector-t')), 1);
      await page.screenshot({ path: join(SHOTS, shot), fullPage: true });
      await page.close();
    };
    await check(live.url, 'lstm-live.png');
    assert.ok([0, 130].includes((await stop(live.child))!), live.output());
    const report = join(dir, '..', 'report.html');
    const r = engram(['test', '--run-dir', dir, '--batches', '2', '--report', report]);
    assert.equal(r.status, 0, r.stderr);
    await check(pathToFileURL(report).href, 'lstm-report.png');
    assert.deepEqual(errors, [], 'no errors in the pages');
  } finally {
    await browser.close();
    await stop(live.child);
  }
});

test('past runs in Chromium: the four most recently evaluated runs are ticked first; a log axis labels 1e-4 as 1e-4, not 0', { skip, timeout: 60_000 }, async () => {
  mkdirSync(SHOTS, { recursive: true });
  const runs = join(tempDir('engram-browser-'), 'runs');
  const config = JSON.stringify(findPreset('ntm-copy-small')!.config);
  // six runs whose name order is not their time order; the loss falls from 0.5 to 1e-4
  const losses = [0.5, 0.05, 5e-3, 5e-4, 1e-4];
  const ageHours: Record<string, number> = { 'run-1': 1, 'run-2': 2, 'run-3': 4, 'run-4': 30, 'run-5': 3, 'run-6': 20 };
  for (const [name, hours] of Object.entries(ageHours)) {
    const dir = join(runs, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), config);
    writeFileSync(join(dir, 'metrics.jsonl'), losses.map((loss, i) =>
      `${JSON.stringify({ step: 100 * (i + 1), loss, bitsPerSeq: 1, bitErrorsPerSeq: 0.5, trainLoss: loss, elapsedSec: i })}\n`).join(''));
    const t = new Date(Date.now() - hours * 3600_000);
    for (const f of ['config.json', 'metrics.jsonl']) utimesSync(join(dir, f), t, t);
  }
  const board = await serve(['dashboard', '--runs', runs, '--port', '0']);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    const errors = collectErrors(page);
    await page.goto(board.url);
    await page.waitForSelector('input[data-run="run-6"]');
    const ticked = await page.$$eval('input[data-run]', (boxes) => (boxes as HTMLInputElement[]).filter((b) => b.checked).map((b) => b.dataset.run).sort());
    assert.deepEqual(ticked, ['run-1', 'run-2', 'run-3', 'run-5'], 'the newest four, not the last four by name');
    await page.waitForFunction(() => Number(document.querySelector('[data-chart="compare-loss"]')?.getAttribute('data-points')) === 20, null, { timeout: 10_000 });
    // the y tick labels of the loss chart, read from its SVG export (uPlot draws them on a canvas)
    const yTicks = async (): Promise<string[]> => {
      const [svg] = await Promise.all([page.waitForEvent('download'), page.locator('[data-chart="compare-loss"] .export button', { hasText: 'SVG' }).click()]);
      const text = readFileSync((await svg.path())!, 'utf8');
      assert.match(text, />loss \(log\)</, 'the chart is on its log scale');
      return [...text.matchAll(/<text [^>]*text-anchor="end" fill="#555">([^<]*)<\/text>/g)].map((m) => m[1]!).filter((l) => l !== '');
    };
    // the page redraws the charts as the box changes (draw() runs in its change handler)
    await page.locator('section', { hasText: 'Curves side by side' }).locator('label.toggle input[type="checkbox"]').check();
    const log = await yTicks();
    assert.ok(log.includes('1e-4'), `log-scale ticks: ${log.join(' ')}`);
    assert.ok(!log.includes('0'), `no tick reads 0 on a log axis: ${log.join(' ')}`);
    for (const l of log) assert.ok(Number(l) > 0, `tick ${l}`);
    await page.screenshot({ path: join(SHOTS, 'runs-log.png'), fullPage: true });
    assert.deepEqual(errors, [], 'no errors in the page');
  } finally {
    await browser.close();
    await stop(board.child);
  }
});

test('a sweep in Chromium: its summary table and each combination as a median with a band, by step and by time', { skip, timeout: 60_000 }, async () => {
  mkdirSync(SHOTS, { recursive: true });
  const runs = join(tempDir('engram-browser-'), 'runs');
  const made = engram(['sweep', '--preset', 'ntm-copy-small', '--seeds', '1-2', '--grid', 'optimizer.lr=0.003,0.01', '--set', 'train.steps=200',
    '--set', 'train.evalEvery=100', '--until-bit-errors', '0', '--sweep-dir', join(runs, 'lr-sweep'), '--parallel', '2']);
  assert.equal(made.status, 0, made.stderr);
  const board = await serve(['dashboard', '--runs', runs, '--port', '0']);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1200 } });
    const errors = collectErrors(page);
    await page.goto(board.url);
    await page.waitForSelector('section[data-section="sweeps"]:not([hidden]) table.sweep-summary tbody tr');
    const rows = await page.$$eval('table.sweep-summary tbody tr td.name', (tds) => tds.map((td) => td.textContent));
    assert.deepEqual(rows, ['optimizer.lr=0.003', 'optimizer.lr=0.01']);
    // two combinations × (median, lowest, highest) × two evaluations
    const points = (): Promise<number> => page.$eval('[data-chart="sweep-bitErrorsPerSeq"]', (el) => Number(el.getAttribute('data-points')));
    await page.waitForFunction(() => Number(document.querySelector('[data-chart="sweep-bitErrorsPerSeq"]')?.getAttribute('data-points')) === 12, null, { timeout: 10_000 });
    await page.selectOption('select[aria-label="x axis"]', 'time');
    await page.waitForSelector('[data-chart="sweep-bitErrorsPerSeq"][data-x="training seconds"]', { timeout: 10_000 });
    // by time, each combination has a point wherever one of its seeds was evaluated, and its band
    // wherever both had been: what the runs' metrics give, not the 12 of the step axis
    const byTime = ['optimizer.lr=0.003', 'optimizer.lr=0.01'].reduce((n, combo) => {
      const c = seedCurve([1, 2].map((s) => readMetrics(join(runs, 'lr-sweep', combo, `seed-${s}`))), 'bitErrorsPerSeq', 'time');
      return n + c.y.filter((y) => y !== null).length + 2 * c.band.filter((b) => b !== null).length;
    }, 0);
    assert.ok(byTime > 12, `the seeds' evaluation times do not line up: ${byTime} points`);
    assert.equal(await points(), byTime);
    await page.locator('section[data-section="sweeps"]').screenshot({ path: join(SHOTS, 'sweep.png') });
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await stop(board.child);
  }
});

test('collectErrors catches a page\'s uncaught exceptions and the console messages asked for, but the allowed ones', { skip, timeout: 30_000 }, async () => {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const quiet = collectErrors(page);
    const errorsOnly = collectErrors(page, [], { console: 'errors', allow: 'expected' });
    const withWarnings = collectErrors(page, [], { console: 'warnings' });
    await page.goto('about:blank');
    await page.evaluate(() => {
      console.error('a console error');
      console.error('an expected console error');
      console.warn('a warning');
      setTimeout(() => {
        throw new Error('uncaught');
      });
    });
    // the exception comes a task later: wait for it (the console messages came before it)
    for (let i = 0; i < 100 && quiet.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(quiet, ['Error: uncaught']);
    assert.deepEqual(errorsOnly.sort(), ['Error: uncaught', 'a console error']);
    assert.deepEqual(withWarnings.sort(), ['Error: uncaught', 'a console error', 'a warning', 'an expected console error']);
  } finally {
    await browser.close();
  }
});
