/**
 * The browser entry (`engram/browser`, dist/src/browser.js) bundles for a browser with nothing
 * from Node: every module it reaches, through the package's platform imports resolved under the
 * `browser` condition, imports no `node:` module. The playground's build holds no Node code
 * either. Weights files made as bytes are the ones Node reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { Sha256 } from '../src/checkpoint/sha256.js';
import { decodeWeightsFile, encodeWeightsFile, CheckpointError } from '../src/checkpoint/weights-file.js';
import { findPreset } from '../src/config/presets.js';
import { createModel } from '../src/models/registry.js';
import { createTask } from '../src/tasks/registry.js';
import { Rng } from '../src/tensor/random.js';
import { ROOT } from './helpers.js';

test('the browser entry reaches no node: module (bundled for a browser)', async () => {
  const r = await build({
    entryPoints: [join(ROOT, 'dist', 'src', 'browser.js')], bundle: true, write: false, platform: 'browser', format: 'esm', metafile: true, logLevel: 'silent',
  });
  const inputs = Object.keys(r.metafile.inputs);
  assert.ok(inputs.some((f) => f.endsWith('src/train/trainer.js')) && inputs.some((f) => f.endsWith('src/kernels/heap.js')), 'the trainer and the kernels are in it');
  assert.ok(inputs.some((f) => f.endsWith('src/kernels/files-web.js')) && !inputs.some((f) => f.endsWith('src/kernels/files-node.js')), "kernels come through the browser's loader");
  assert.ok(!inputs.some((f) => f.endsWith('src/train/threads-node.js')), 'no worker_threads');
  const bad = inputs.filter((f) => f.startsWith('node:'));
  assert.deepEqual(bad, []);
  for (const f of inputs) {
    const text = readFileSync(join(ROOT, f), 'utf8');
    assert.doesNotMatch(text, /from ['"]node:|import\(['"]node:/, `${f} imports nothing from node:`);
  }
});

test('the playground build holds no Node module and both kernel builds', () => {
  const dir = join(ROOT, 'dist', 'playground');
  const files = readdirSync(dir).sort();
  assert.deepEqual(files, ['grad-worker.js', 'index.html', 'kernels-fma.wasm', 'kernels.wasm', 'page.css', 'page.js', 'worker.js']);
  for (const f of ['page.js', 'worker.js', 'grad-worker.js']) assert.doesNotMatch(readFileSync(join(dir, f), 'utf8'), /["']node:|https?:\/\/(?!www\.w3\.org)/, `${f}: no node: import and nothing fetched from elsewhere`);
});

test('sha256.ts agrees with node:crypto across block boundaries', () => {
  for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 70_001]) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 2654435761) >>> 24);
    const ours = new Sha256().update('héllo').update(bytes.subarray(0, n >> 1)).update(bytes.subarray(n >> 1)).hex();
    assert.equal(ours, createHash('sha256').update('héllo').update(bytes).digest('hex'), `${n} bytes`);
  }
});

test('a weights file made as bytes decodes to the same tensors and config, and a flipped byte is caught', () => {
  const config = findPreset('ntm-copy-small')!.config;
  const task = createTask(config.task);
  const model = createModel(config.model, task.inputSize, task.outputSize, new Rng(3));
  const bytes = encodeWeightsFile(model.params, config, 42);
  const back = decodeWeightsFile(bytes, 'w.safetensors');
  assert.equal(back.step, 42);
  assert.deepEqual(back.config, config);
  for (const [name, p] of model.params) assert.deepEqual(back.tensors.get(name)!.data, p.data, name);
  const bad = bytes.slice();
  bad[bad.length - 1]! ^= 1;
  assert.throws(() => decodeWeightsFile(bad, 'w.safetensors'), (e: unknown) => e instanceof CheckpointError && /^w\.safetensors is corrupt: its sha256 does not match its contents$/.test(e.message));
  assert.throws(() => decodeWeightsFile(bytes.subarray(0, 20), 'w.safetensors'), (e: unknown) => e instanceof CheckpointError && /^w\.safetensors is not a readable checkpoint: /.test(e.message));
});
