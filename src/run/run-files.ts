/**
 * @file The files of a run directory, and reading its config.json back.
 *
 *   DIR/config.json      the run's config (validated by config/schema.ts)
 *   DIR/metrics.jsonl    one JSON evaluation record per line
 *   DIR/train.log        what the run printed, with times
 *   DIR/checkpoints/     last and best: {name}.safetensors + {name}.state.safetensors
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig, type Config } from '../config/schema.js';
import { UserError } from './user-error.js';

export const CONFIG_FILE = 'config.json';
export const METRICS_FILE = 'metrics.jsonl';
export const LOG_FILE = 'train.log';
export const CHECKPOINT_DIR = 'checkpoints';

/** The parsed JSON of a run directory's config.json at `p`, unvalidated; one line if it is not JSON. */
export function readConfigJson(p: string): unknown {
  try {
    return JSON.parse(readFileSync(p, 'utf8'));
  } catch {
    throw new UserError(`${p} is not valid JSON`);
  }
}

/** Reads a run directory's config.json. */
export function readRunConfig(runDir: string): Config {
  const p = join(runDir, CONFIG_FILE);
  if (!existsSync(p)) throw new UserError(`${runDir} has no ${CONFIG_FILE}; is it a run directory?`);
  if (!statSync(p).isFile()) throw new UserError(`${p} is not a regular file`);
  const raw = readConfigJson(p);
  try {
    return validateConfig(raw);
  } catch (err) {
    throw new UserError(`${p}: ${(err as Error).message}`);
  }
}
