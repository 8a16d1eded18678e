/**
 * @file Time to learn: trains a preset from scratch until evaluation bit errors per sequence
 * fall below a threshold, printing the learning curve as it goes, then a summary line and
 * (with --json) one JSON object.
 *
 *   node dist/bench/converge.js --preset ntm-copy [--threshold 0.1] [--max-steps N]
 *                               [--eval-every K] [--seed S] [--set key=value]... [--run-dir DIR] [--json]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findPreset, presetNames } from '../src/config/presets.js';
import { applyOverrides, cloneConfig, validateConfig } from '../src/config/schema.js';
import { runTraining } from '../src/cli/run.js';
import { activeKernels } from '../src/kernels/wasm.js';

const { values: f } = parseArgs({
  options: {
    preset: { type: 'string', default: 'ntm-copy' },
    threshold: { type: 'string', default: '0.1' },
    'max-steps': { type: 'string' },
    'eval-every': { type: 'string' },
    seed: { type: 'string' },
    set: { type: 'string', multiple: true },
    'run-dir': { type: 'string' },
    json: { type: 'boolean' },
  },
});
const preset = findPreset(f.preset!);
if (!preset) {
  console.error(`unknown preset ${f.preset}; presets: ${presetNames().join(', ')}`);
  process.exit(2);
}
const config = cloneConfig(preset.config);
config.train.untilBitErrors = Number(f.threshold);
if (f['max-steps']) config.train.steps = Number(f['max-steps']);
if (f['eval-every']) config.train.evalEvery = Number(f['eval-every']);
if (f.seed) config.seed = Number(f.seed);
applyOverrides(config, f.set ?? []);
validateConfig(config);
const runDir = f['run-dir'] ?? join(mkdtempSync(join(tmpdir(), 'engram-converge-')), 'run');

const t0 = performance.now();
const result = await runTraining({ runDir, config, resume: false });
const wall = (performance.now() - t0) / 1000;
const last = result.last;
const summary = {
  preset: preset.name,
  kernels: activeKernels(),
  threshold: config.train.untilBitErrors,
  reachedStep: result.reachedStep,
  trainingSec: last?.elapsedSec ?? null,
  wallSec: wall,
  msPerStep: last ? (1000 * last.elapsedSec) / last.step : null,
  finalBitErrorsPerSeq: last?.bitErrorsPerSeq ?? null,
  runDir,
};
console.log(
  result.reachedStep !== null
    ? `${preset.name}: below ${summary.threshold} bit errors per sequence at step ${result.reachedStep} ` +
        `after ${summary.trainingSec?.toFixed(0)} s of training (${summary.msPerStep?.toFixed(1)} ms per step incl. evaluation)`
    : `${preset.name}: not below ${summary.threshold} after ${last?.step ?? 0} steps (${summary.finalBitErrorsPerSeq})`,
);
if (f.json) console.log(JSON.stringify(summary));
