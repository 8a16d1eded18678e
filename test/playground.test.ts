/**
 * The playground in a real browser: `engram playground` serves dist/playground/ and Debian's
 * Chromium, driven by playwright-core, trains ntm-copy-fast in the page to the numbers Node
 * gets for the same seed, downloads the weights (which the command line tests), inspects a
 * checkpoint the command line wrote exactly as the dashboard does, refuses bad files and bad
 * settings with the command line's words, and logs nothing to the console. Screenshots go to
 * test-results/playground/. Skipped where /usr/bin/chromium is missing (CI installs it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { loadModel } from '../src/api/load-model.js';
import { encodeCheckpointFile, loadWeights } from '../src/checkpoint/checkpoint.js';
import { findPreset } from '../src/config/presets.js';
import { applyOverrides, cloneConfig, ConfigError } from '../src/config/schema.js';
import { createModel } from '../src/models/registry.js';
import { inspectBatch } from '../src/server/inspect.js';
import { inspectRun } from '../src/server/inspect-run.js';
import type { Inspection } from '../src/server/protocol.js';
import { createTask } from '../src/tasks/registry.js';
import { Rng } from '../src/tensor/random.js';
import { seedStreams, Trainer, type EvalRecord } from '../src/train/trainer.js';
import { collectErrors, engram, ROOT, tempDir, launchChromium, serveCommand } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-results', 'playground');
const skip = !existsSync(CHROMIUM) && !process.env.CI && `${CHROMIUM} is not installed (apt-get install chromium); .ci/run installs it`;

/** Starts `engram playground`; resolves with the process and the URL it printed. */
const serve = (): ReturnType<typeof serveCommand> => serveCommand(['playground', '--port', '0'], 'playground');

/** Serves a folder's files with no special headers, as any static host would. */
async function staticServer(dir: string): Promise<{ server: Server; url: string }> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };
  const server = createServer((req, res) => {
    const name = (req.url ?? '/').split('?')[0]!.slice(1) || 'index.html';
    if (!/^[\w.-]+$/.test(name) || !existsSync(join(dir, name))) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': types[extname(name)] ?? 'application/octet-stream' }).end(readFileSync(join(dir, name)));
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

/** ntm-copy-fast trained in this process as `engram train` trains it: its evaluations, and the trainer. */
function trainInNode(sets: string[] = []): { evals: EvalRecord[]; trainer: Trainer } {
  const config = cloneConfig(findPreset('ntm-copy-fast')!.config);
  applyOverrides(config, sets);
  const streams = seedStreams(config.seed);
  const task = createTask(config.task);
  const trainer = new Trainer(createModel(config.model, task.inputSize, task.outputSize, streams.init), task, config, streams);
  const evals: EvalRecord[] = [];
  while (trainer.step < config.train.steps) {
    trainer.trainStep();
    if (trainer.step % config.train.evalEvery !== 0) continue;
    const rec = trainer.evalRecord(0);
    evals.push(rec);
    if (rec.bitErrorsPerSeq < config.train.untilBitErrors) break;
  }
  trainer.close();
  return { evals, trainer };
}

/** An inspection without its title (which names where the weights came from). */
const body = (i: Inspection): Omit<Inspection, 'title'> => {
  const { title: _title, ...rest } = i;
  return rest;
};

test('playground in Chromium: trains as Node does, downloads and inspects checkpoints, refuses bad files and settings', { skip, timeout: 120_000 }, async () => {
  mkdirSync(SHOTS, { recursive: true });
  const dir = tempDir('engram-playground-');
  // a DNC checkpoint written by the command line, to drop into the page
  const cliRun = join(dir, 'dnc-run');
  const trained = engram(['train', '--preset', 'dnc-repeat-copy-small', '--steps', '20', '--eval-every', '10', '--set', 'train.evalBatches=1', '--run-dir', cliRun]);
  assert.equal(trained.status, 0, trained.stderr);
  const cliFile = join(cliRun, 'checkpoints', 'best.safetensors');

  const server = await serve();
  // the headers that make the page cross-origin isolated, on every file
  for (const path of ['', 'worker.js', 'kernels-fma.wasm']) {
    const res = await fetch(server.url + path);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(res.headers.get('cross-origin-embedder-policy'), 'require-corp');
  }
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
    const errors = collectErrors(page, [], { console: 'warnings' });

    // 1. autostart: ntm-copy-fast learns in the page at the step Node does, with Node's numbers
    const node = trainInNode();
    await page.goto(`${server.url}?preset=ntm-copy-fast&autostart=1`);
    await page.waitForFunction(() => (window as unknown as { engram?: { status(): { done: boolean } } }).engram?.status().done === true, null, { timeout: 60_000, polling: 200 });
    const status = await page.evaluate(() => (window as unknown as { engram: { status(): Record<string, unknown> } }).engram.status());
    const last = node.evals[node.evals.length - 1]!;
    assert.ok(last.bitErrorsPerSeq < 0.1, 'Node learned the task');
    assert.deepEqual(Object.keys(status).sort(), ['bitErrorsPerSeq', 'done', 'loss', 'msPerStep', 'step']);
    assert.equal(status.step, last.step, 'the page learned at the same step');
    assert.equal(status.bitErrorsPerSeq, last.bitErrorsPerSeq);
    assert.equal(status.loss, last.loss, 'the same loss to the bit');
    assert.ok((status.bitErrorsPerSeq as number) < 0.1);
    assert.ok((status.msPerStep as number) > 0);
    assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    assert.equal(await page.textContent('header .mode'), 'playground');
    await page.waitForSelector('canvas[data-heatmap="write-0"]');
    assert.equal(await page.textContent('[data-stat="errors"]'), '0');
    await page.screenshot({ path: join(SHOTS, 'trained.png'), fullPage: true });

    // 2. the weights download as a file Node loads, with the weights Node trained (so its logits), and engram test accepts
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-action="download"]')]);
    const file = join(dir, dl.suggestedFilename());
    await dl.saveAs(file);
    assert.match(dl.suggestedFilename(), /^ntm-copy-fast-step\d+\.safetensors$/);
    const downloaded = loadWeights(file);
    assert.equal(downloaded.step, last.step);
    for (const [name, p] of node.trainer.model.params) {
      assert.deepEqual(downloaded.tensors.get(name)!.data, p.data, `${name} is the same to the bit`);
    }
    const pageInspection = await page.evaluate(() => (window as unknown as { engram: { inspection(): Inspection } }).engram.inspection());
    const loaded = loadModel(file);
    const sample = loaded.task.sample(new Rng(loaded.config.seed, 'inspect'), 1);
    // the page's inspection of its last evaluation: the downloaded model gives the same outputs (rounded as the page shows them)
    assert.deepEqual(body(inspectBatch(loaded.model, sample, 0, '', loaded.step, loaded.task.lengthName)), body(pageInspection));
    const tested = engram(['test', '--checkpoint', file, '--batches', '2', '--json']);
    assert.equal(tested.status, 0, tested.stderr);
    assert.ok(JSON.parse(tested.stdout.trim().split('\n').pop()!).bitErrorsPerSeq < 0.1, tested.stdout);

    // the page's own file goes back in: its step, and no bit errors
    await page.setInputFiles('input[data-action="open"]', file);
    await page.waitForFunction(() => /^loaded ntm-copy-fast-step/.test(document.querySelector('[data-message]')?.textContent ?? ''), null, { timeout: 20_000 });
    assert.match((await page.textContent('[data-message]'))!, new RegExp(`, step ${last.step}; 0\\.000 bit errors per sequence over \\d+ batches$`));

    // 3. a checkpoint from the command line, chosen in the page: the dashboard's inspector view of that run
    await page.setInputFiles('input[data-action="open"]', cliFile);
    await page.waitForFunction(() => /^loaded best\.safetensors/.test(document.querySelector('[data-message]')?.textContent ?? ''), null, { timeout: 20_000 });
    const dropped = await page.evaluate(() => (window as unknown as { engram: { inspection(): Inspection } }).engram.inspection());
    const config = JSON.parse(readFileSync(join(cliRun, 'config.json'), 'utf8')) as { seed: number };
    assert.deepEqual(body(dropped), body(inspectRun(cliRun, config.seed)));
    await page.waitForSelector('canvas[data-heatmap="usage"]');
    await page.screenshot({ path: join(SHOTS, 'dropped.png'), fullPage: true });

    // 4. bad files: one line each, and the DNC stays the model shown
    const good = readFileSync(cliFile);
    const notOurs = join(dir, 'notes.safetensors'), truncated = join(dir, 'truncated.safetensors'), corrupt = join(dir, 'corrupt.safetensors'), other = join(dir, 'other.safetensors');
    writeFileSync(notOurs, 'these are notes, not weights\n');
    writeFileSync(truncated, good.subarray(0, good.length >> 1));
    const flipped = Buffer.from(good);
    flipped[flipped.length - 5]! ^= 0x40;
    writeFileSync(corrupt, flipped);
    // the DNC's tensors under an NTM's config: weights for another model
    const w = loadWeights(cliFile);
    const ntm = findPreset('ntm-copy-small')!.config;
    writeFileSync(other, encodeCheckpointFile(w.tensors, { format: 'engram-checkpoint', version: '2', id: 'x', step: '20', kind: 'weights', config: JSON.stringify(ntm) }));
    const cases: [string, RegExp][] = [
      [notOurs, /^notes\.safetensors is not a readable checkpoint: /],
      [truncated, /^truncated\.safetensors is not a readable checkpoint: /],
      [corrupt, /^corrupt\.safetensors is corrupt: its sha256 does not match its contents$/],
      [other, /^other\.safetensors(: tensor [\w.]+ has shape \[[\d, ]+\] but the model needs \[[\d, ]+\]| has no tensor [\w.]+; it was saved from a different model config)$/],
    ];
    for (const [path, want] of cases) {
      await page.evaluate(() => { document.querySelector('[data-message]')!.textContent = ''; });
      if (path === notOurs) {
        // dropped on the page rather than chosen
        await page.evaluate((text) => {
          const dt = new DataTransfer();
          dt.items.add(new File([text], 'notes.safetensors'));
          document.querySelector('[data-drop]')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
        }, readFileSync(notOurs, 'utf8'));
      } else {
        await page.setInputFiles('input[data-action="open"]', path);
      }
      await page.waitForFunction(() => (document.querySelector('[data-message]')?.textContent ?? '') !== '', null, { timeout: 10_000 });
      const text = (await page.textContent('[data-message]'))!;
      assert.match(text, want);
      assert.ok(!text.includes('\n'), 'one line');
      assert.equal(await page.getAttribute('[data-message]', 'data-error'), 'true');
      assert.deepEqual(await page.evaluate(() => (window as unknown as { engram: { inspection(): Inspection } }).engram.inspection()), dropped, 'the model shown is kept');
    }

    // Train after the file: its settings, from its seed, give the command line's run (a DNC, to the bit)
    assert.equal(await page.inputValue('select[data-field="preset"]'), '(file)');
    const cliLast = JSON.parse(readFileSync(join(cliRun, 'metrics.jsonl'), 'utf8').trim().split('\n').pop()!) as EvalRecord;
    await page.click('[data-action="train"]');
    // (the status says done until the new run's first evaluation: wait for the run's last step)
    await page.waitForFunction((last) => {
      const s = (window as unknown as { engram: { status(): { done: boolean; step: number } } }).engram.status();
      return s.done && s.step === last;
    }, cliLast.step, { timeout: 30_000, polling: 100 });
    const fromFile = await page.evaluate(() => (window as unknown as { engram: { status(): Record<string, unknown> } }).engram.status());
    assert.deepEqual([fromFile.step, fromFile.loss, fromFile.bitErrorsPerSeq], [cliLast.step, cliLast.loss, cliLast.bitErrorsPerSeq]);
    assert.equal(await page.textContent('.run-name'), 'settings of best.safetensors');

    // 5. settings out of range: refused in the form with the command line's words
    const preset = findPreset('ntm-copy-fast')!.config;
    const cliWords = (set: string): string => {
      try {
        applyOverrides(cloneConfig(preset), [set]);
      } catch (err) {
        if (err instanceof ConfigError) return err.message;
      }
      throw new Error(`${set} was accepted`);
    };
    await page.selectOption('select[data-field="preset"]', 'ntm-copy-fast');
    for (const [key, value] of [['train.batchSize', '0'], ['task.maxWords', '2'], ['optimizer.lr', 'fast']] as const) {
      await page.fill(`input[data-field="${key}"]`, value);
      assert.equal(await page.textContent('[data-form-error]'), cliWords(`${key}=${value}`));
      assert.equal(await page.evaluate((k) => (document.querySelector(`input[data-field="${k}"]`) as HTMLInputElement).validity.valid, key), false);
      await page.click('[data-action="train"]');
      assert.equal(await page.getAttribute('[data-message]', 'data-error'), 'true', 'training refused');
      await page.fill(`input[data-field="${key}"]`, String(key === 'train.batchSize' ? preset.train.batchSize : key === 'task.maxWords' ? preset.task.maxWords : preset.optimizer.lr));
      assert.equal(await page.textContent('[data-form-error]'), '');
    }

    // 6. two gradient threads (Web Workers sharing the kernels' memory): Node's numbers for two threads
    const sets = ['train.threads=2', 'train.steps=250', 'train.untilBitErrors=0'];
    const node2 = trainInNode(sets).evals[0]!;
    await page.goto(`${server.url}?preset=ntm-copy-fast&autostart=1&${sets.join('&')}`);
    await page.waitForFunction(() => (window as unknown as { engram: { status(): { done: boolean } } }).engram.status().done, null, { timeout: 30_000, polling: 200 });
    const two = await page.evaluate(() => (window as unknown as { engram: { status(): Record<string, unknown> } }).engram.status());
    assert.deepEqual([two.step, two.loss, two.bitErrorsPerSeq], [node2.step, node2.loss, node2.bitErrorsPerSeq]);
    assert.match((await page.textContent('[data-message]'))!, /, 2 threads$/);

    // 7. from a static host without the isolation headers: one thread, still the WASM kernels
    const plain = await staticServer(join(ROOT, 'dist', 'playground'));
    try {
      await page.goto(`${plain.url}?preset=ntm-copy-small&autostart=1&train.steps=20&train.evalEvery=10`);
      await page.waitForFunction(() => (window as unknown as { engram: { status(): { done: boolean } } }).engram.status().done, null, { timeout: 30_000, polling: 200 });
      assert.equal(await page.evaluate(() => crossOriginIsolated), false);
      assert.match((await page.textContent('[data-kernels]'))!, /^kernels: wasm(\+fma)?; not cross-origin isolated: 1 training thread$/);
      await page.fill('input[data-field="train.threads"]', '2');
      assert.match((await page.textContent('[data-form-error]'))!, /^train\.threads=2: gradient threads need a cross-origin isolated page/);

      // pause, resume and reset
      await page.goto(`${plain.url}?preset=ntm-copy-small&autostart=1&train.steps=4000&train.evalEvery=200&train.untilBitErrors=0`);
      await page.waitForFunction(() => (window as unknown as { engram: { status(): { step: number } } }).engram.status().step >= 200, null, { timeout: 30_000, polling: 50 });
      await page.click('[data-action="pause"]');
      await page.waitForSelector('.status[data-state="paused"]');
      const shown = async (): Promise<number> => Number(await page.getAttribute('[data-stat="step"]', 'data-step'));
      const paused = await shown();
      await page.waitForTimeout(400);
      assert.equal(await shown(), paused, 'no steps while paused');
      assert.ok(paused < 4000, `paused at step ${paused}`);
      await page.click('[data-action="resume"]');
      await page.waitForFunction(() => (window as unknown as { engram: { status(): { done: boolean } } }).engram.status().done, null, { timeout: 60_000, polling: 200 });
      assert.equal(await shown(), 4000);
      await page.click('[data-action="reset"]');
      await page.waitForFunction(() => document.querySelector('[data-stat="step"]')?.getAttribute('data-step') === '0', null, { timeout: 10_000 });
      assert.equal(await page.getAttribute('.status', 'data-state'), 'paused');
    } finally {
      plain.server.close();
    }

    assert.deepEqual(errors, [], 'nothing in the console');
  } finally {
    await browser.close();
    server.child.kill('SIGINT');
  }
});
