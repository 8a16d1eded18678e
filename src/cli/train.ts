/**
 * @file `engram train`: builds the config from a preset and flags (or reads it back with
 * --resume) and runs the training loop in a run directory.
 */
import { join } from 'node:path';
import { findPreset, presetNames } from '../config/presets.js';
import { applyOverrides, cloneConfig, validateConfig, type Config } from '../config/schema.js';
import { loadTaskModule } from './task-module.js';
import { intFlag, numberFlag, parseFlags } from './args.js';
import { UserError } from './errors.js';
import { CONFIG_FILE, readRunConfig } from '../run/run-files.js';
import { runTraining } from '../run/run-training.js';
import { faultsFromEnv } from './test-faults.js';
import { configDifferences } from '../checkpoint/checkpoint.js';
import { startLiveDashboard, untilInterrupted } from './dashboard.js';

export const TRAIN_HELP = `usage: engram train --preset NAME [--task FILE] [--steps N] [--seed S] [--run-dir DIR] [--eval-every K]
                    [--set key=value]... [--until-bit-errors X] [--dashboard [--port P] [--host H]]
       engram train --run-dir DIR --resume [--steps N] [--task FILE] [--dashboard ...]
                    (or the first command again with --resume: flags that match the run's config are fine)

  --preset NAME          a preset from \`engram presets\`
  --task FILE            train on your own task: an ES module whose default export makes it
                         (the preset gives the model and the rest; see the README)
  --steps N              train until step N (with --resume: the new total, saved as train.steps)
  --seed S               seed for weights, training data and evaluation data
  --run-dir DIR          where config.json, metrics.jsonl, train.log and checkpoints go
                         (default runs/PRESET-TIMESTAMP); an existing run is never overwritten
  --eval-every K         evaluate (and checkpoint) every K steps
  --set key=value        override any config key, e.g. --set optimizer.lr=1e-3
  --until-bit-errors X   stop once evaluation bit errors per sequence fall below X
  --resume               continue the run in --run-dir from its last checkpoint, with its config
  --dashboard            serve a live dashboard (curves, memory inspector) and print its URL;
                         it stays up after training until Ctrl-C
  --port P, --host H     where the dashboard listens (default 127.0.0.1:8097, or any free port)`;

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

type Flags = Record<string, string | boolean | string[] | undefined>;

/** The flags that make a config: --preset (else `base`), --seed, --steps, --eval-every, --until-bit-errors, then --set. */
function configFromFlags(f: Flags, steps: number | undefined, base?: Config): Config {
  let config: Config;
  if (typeof f.preset === 'string') {
    const preset = findPreset(f.preset);
    if (!preset) throw new UserError(`unknown preset "${f.preset}"; presets: ${presetNames().join(', ')}`);
    config = cloneConfig(preset.config);
  } else {
    config = cloneConfig(base!);
  }
  const seed = intFlag('seed', f.seed, 0, 0xffffffff);
  if (seed !== undefined) config.seed = seed;
  if (steps !== undefined) config.train.steps = steps;
  const every = intFlag('eval-every', f['eval-every']);
  if (every !== undefined) config.train.evalEvery = every;
  const until = numberFlag('until-bit-errors', f['until-bit-errors']);
  if (until !== undefined) config.train.untilBitErrors = until;
  applyOverrides(config, (f.set as string[] | undefined) ?? []);
  return config;
}

const CONFIG_FLAGS = ['preset', 'seed', 'set', 'eval-every', 'until-bit-errors'] as const;

/**
 * `--resume` with the flags that made the run (the first command again, --resume added) is
 * fine; a flag that would change the stored config is refused, naming the key and both
 * values. train.steps is left out: with --resume, --steps (or --set train.steps=N) is the
 * new total, which this returns (undefined: the stored one).
 */
function checkResumeFlags(f: Flags, steps: number | undefined, stored: Config, runDir: string): number | undefined {
  if (!CONFIG_FLAGS.some((k) => f[k] !== undefined)) return steps;
  const asked = configFromFlags(f, steps, stored);
  const setsSteps = ((f.set as string[] | undefined) ?? []).some((a) => a.slice(0, a.indexOf('=')).trim() === 'train.steps');
  // --task was loaded into the stored config; a preset knows no module
  if (typeof f.preset === 'string' && typeof f.task === 'string') asked.task = { ...asked.task, module: stored.task.module, name: stored.task.name };
  const diff = configDifferences(stored, asked).filter((k) => k !== 'train.steps');
  if (diff.length === 0) return steps !== undefined || setsSteps ? asked.train.steps : undefined;
  const value = (c: Config, key: string): string => {
    const v = key.split('.').reduce<unknown>((o, part) => (o as Record<string, unknown> | undefined)?.[part], c);
    return typeof v === 'string' ? JSON.stringify(v) : String(v);
  };
  const k = diff[0]!;
  const more = diff.length > 1 ? ` (and ${diff.slice(1).join(', ')})` : '';
  throw new UserError(`--resume: ${k} is ${value(stored, k)} in ${join(runDir, CONFIG_FILE)}, not ${value(asked, k)}${more}; ` +
    'a resumed run keeps its config (leave out the flags that change it)');
}

export async function trainCommand(argv: string[]): Promise<number> {
  const f = parseFlags('train', argv, {
    preset: { type: 'string' },
    task: { type: 'string' },
    steps: { type: 'string' },
    seed: { type: 'string' },
    'run-dir': { type: 'string' },
    'eval-every': { type: 'string' },
    set: { type: 'string', multiple: true },
    'until-bit-errors': { type: 'string' },
    resume: { type: 'boolean' },
    dashboard: { type: 'boolean' },
    port: { type: 'string' },
    host: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (f.help) {
    console.log(TRAIN_HELP);
    return 0;
  }
  let steps = intFlag('steps', f.steps);
  let config: Config;
  let runDir: string;
  if (f.resume) {
    if (typeof f['run-dir'] !== 'string') throw new UserError('--resume needs --run-dir DIR, the run to continue');
    runDir = f['run-dir'];
    config = readRunConfig(runDir); // validated there
    if (typeof f.task === 'string') await loadTaskModule(f.task, config.task);
    steps = checkResumeFlags(f, steps, config, runDir);
  } else {
    if (typeof f.preset !== 'string') throw new UserError(`engram train needs --preset NAME (one of ${presetNames().join(', ')})`);
    config = configFromFlags(f, steps);
    steps = config.train.steps; // --set train.steps=N, given after --steps, wins as it does in config.json
    if (typeof f.task === 'string') {
      await loadTaskModule(f.task, config.task);
      validateConfig(config);
    }
    runDir = typeof f['run-dir'] === 'string' ? f['run-dir'] : join('runs', `${f.preset}-${timestamp()}`);
  }
  if (!f.dashboard && (f.port !== undefined || f.host !== undefined)) throw new UserError('--port and --host need --dashboard');
  const dash = f.dashboard
    ? await startLiveDashboard({ runDir, config, total: steps ?? config.train.steps, resume: f.resume === true, flags: { port: f.port as string | undefined, host: f.host as string | undefined } })
    : null;
  let result;
  try {
    result = await runTraining({ runDir, config, resume: f.resume === true, steps, onStep: dash?.onStep, onEval: dash?.onEval, faults: faultsFromEnv() });
  } catch (err) {
    await dash?.close();
    throw err;
  }
  if (!result.interrupted) {
    console.log(`look at it:  npx engram test --run-dir ${result.runDir}${config.task.module !== "" ? ` --task ${config.task.module}` : ""}`);
    console.log(`curves:      ${join(result.runDir, 'metrics.jsonl')} (one JSON object per evaluation)`);
  }
  if (dash) {
    dash.finish(result.interrupted ? 'stopped' : 'done');
    if (!result.interrupted) {
      console.log(`dashboard:   ${dash.url} (still serving; Ctrl-C to stop)`);
      await untilInterrupted();
    }
    await dash.close();
  }
  return result.interrupted ? 130 : 0;
}
