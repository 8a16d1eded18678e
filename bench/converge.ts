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
import { runTraining } from '../src/run/run-training.js';
import { activeKernels } from '../src/kernels/wasm.js';
import { kernelBuild } from '../src/kernels/heap.js';
import { isUserFacing } from '../src/cli/errors.js';

const USAGE = 'usage: node dist/bench/converge.js --preset NAME [--threshold X] [--max-steps N] [--eval-every K] [--seed S] [--set key=value]... [--run-dir DIR] [--json]';

/** A one-line error (what is wrong and how to call it), no stack trace; exit status 2. */
function fail(message: string): never {
  console.error(`converge: ${message.split('\n')[0]}. ${USAGE}`);
  process.exit(2);
}

function numberFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) fail(`--${name} must be a number, got '${value}'`);
  return n;
}

let f: { preset?: string; threshold?: string; 'max-steps'?: string; 'eval-every'?: string; seed?: string; set?: string[]; 'run-dir'?: string; json?: boolean; help?: boolean };
try {
  f = parseArgs({
    options: {
      preset: { type: 'string', default: 'ntm-copy' },
      threshold: { type: 'string', default: '0.1' },
      'max-steps': { type: 'string' },
      'eval-every': { type: 'string' },
      seed: { type: 'string' },
      set: { type: 'string', multiple: true },
      'run-dir': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (err) {
  fail((err as Error).message);
}
if (f.help) {
  console.log(USAGE);
  process.exit(0);
}
const preset = findPreset(f.preset!);
if (!preset) fail(`unknown preset ${f.preset}; presets: ${presetNames().join(', ')}`);
const config = cloneConfig(preset.config);
config.train.untilBitErrors = numberFlag('threshold', f.threshold)!;
const maxSteps = numberFlag('max-steps', f['max-steps']), evalEvery = numberFlag('eval-every', f['eval-every']), seed = numberFlag('seed', f.seed);
if (maxSteps !== undefined) config.train.steps = maxSteps;
if (evalEvery !== undefined) config.train.evalEvery = evalEvery;
if (seed !== undefined) config.seed = seed;
try {
  applyOverrides(config, f.set ?? []);
  validateConfig(config);
} catch (err) {
  if (!isUserFacing(err)) throw err;
  fail(err.message);
}
const runDir = f['run-dir'] ?? join(mkdtempSync(join(tmpdir(), 'engram-converge-')), 'run');

const t0 = performance.now();
const result = await runTraining({ runDir, config, resume: false }).catch((err: unknown) => {
  if (!isUserFacing(err)) throw err;
  return fail(err.message);
});
const wall = (performance.now() - t0) / 1000;
const last = result.last;
const summary = {
  preset: preset.name,
  kernels: activeKernels(),
  fma: activeKernels() === 'wasm' && kernelBuild() === 'fma',
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
