/**
 * @file `engram train`: builds the config from a preset and flags (or reads it back with
 * --resume) and runs the training loop in a run directory.
 */
import { join } from 'node:path';
import { findPreset, presetNames } from '../config/presets.js';
import { applyOverride, cloneConfig, validateConfig, type Config } from '../config/schema.js';
import { intFlag, numberFlag, parseFlags } from './args.js';
import { UserError } from './errors.js';
import { readRunConfig, runTraining } from './run.js';

export const TRAIN_HELP = `usage: engram train --preset NAME [--steps N] [--seed S] [--run-dir DIR] [--eval-every K]
                    [--set key=value]... [--until-bit-errors X]
       engram train --run-dir DIR --resume [--steps N]

  --preset NAME          a preset from \`engram presets\`
  --steps N              train until step N (with --resume: the new total)
  --seed S               seed for weights, training data and evaluation data
  --run-dir DIR          where config.json, metrics.jsonl, train.log and checkpoints go
                         (default runs/PRESET-TIMESTAMP); an existing run is never overwritten
  --eval-every K         evaluate (and checkpoint) every K steps
  --set key=value        override any config key, e.g. --set optimizer.lr=1e-3
  --until-bit-errors X   stop once evaluation bit errors per sequence fall below X
  --resume               continue the run in --run-dir from its last checkpoint`;

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

export async function trainCommand(argv: string[]): Promise<number> {
  const f = parseFlags('train', argv, {
    preset: { type: 'string' },
    steps: { type: 'string' },
    seed: { type: 'string' },
    'run-dir': { type: 'string' },
    'eval-every': { type: 'string' },
    set: { type: 'string', multiple: true },
    'until-bit-errors': { type: 'string' },
    resume: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (f.help) {
    console.log(TRAIN_HELP);
    return 0;
  }
  const steps = intFlag('steps', f.steps);
  let config: Config;
  let runDir: string;
  if (f.resume) {
    if (typeof f['run-dir'] !== 'string') throw new UserError('--resume needs --run-dir DIR, the run to continue');
    for (const k of ['preset', 'seed', 'set', 'eval-every', 'until-bit-errors'] as const) {
      if (f[k] !== undefined) throw new UserError(`--${k} cannot change a run being resumed; it keeps the config in its config.json`);
    }
    runDir = f['run-dir'];
    config = validateConfig(readRunConfig(runDir));
  } else {
    if (typeof f.preset !== 'string') throw new UserError(`engram train needs --preset NAME (one of ${presetNames().join(', ')})`);
    const preset = findPreset(f.preset);
    if (!preset) throw new UserError(`unknown preset "${f.preset}"; presets: ${presetNames().join(', ')}`);
    config = cloneConfig(preset.config);
    const seed = intFlag('seed', f.seed, 0);
    if (seed !== undefined) config.seed = seed;
    if (steps !== undefined) config.train.steps = steps;
    const every = intFlag('eval-every', f['eval-every']);
    if (every !== undefined) config.train.evalEvery = every;
    const until = numberFlag('until-bit-errors', f['until-bit-errors']);
    if (until !== undefined) config.train.untilBitErrors = until;
    for (const s of (f.set as string[] | undefined) ?? []) applyOverride(config, s);
    validateConfig(config);
    runDir = typeof f['run-dir'] === 'string' ? f['run-dir'] : join('runs', `${preset.name}-${timestamp()}`);
  }
  const result = await runTraining({ runDir, config, resume: f.resume === true, steps });
  if (!result.interrupted) {
    console.log(`look at it:  npx engram test --run-dir ${result.runDir}`);
    console.log(`curves:      ${join(result.runDir, 'metrics.jsonl')} (one JSON object per evaluation)`);
  }
  return result.interrupted ? 130 : 0;
}
