/**
 * @file Flag parsing on node:util's parseArgs, with one-line errors and number checks.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from './errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

export function parseFlags(command: string, argv: string[], options: Options): Record<string, string | boolean | string[] | undefined> {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    if (positionals.length > 0) throw new UserError(`engram ${command}: unexpected argument "${positionals[0]}"; see engram ${command} --help`);
    return values as Record<string, string | boolean | string[] | undefined>;
  } catch (err) {
    if (err instanceof UserError) throw err;
    const flags = Object.keys(options).map((k) => `--${k}`).join(' ');
    const full = (err as Error).message;
    const msg = full.split('\n')[0]!.split(/\.( |$)/)[0];
    // `--port -1`: parseArgs reads -1 as a flag; its own hint says how to pass the value
    const dash = /use '(--[\w-]+)=-XYZ'/.exec(full);
    const hint = dash ? `; for a value starting with "-" write ${dash[1]}=VALUE` : '';
    throw new UserError(`engram ${command}: ${msg}${hint} (valid flags: ${flags})`);
  }
}

/** An integer flag ≥ min, or undefined when absent. */
export function intFlag(name: string, v: unknown, min = 1): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isInteger(n) || n < min) {
    throw new UserError(`--${name} must be an integer ≥ ${min}, got "${String(v)}"`);
  }
  return n;
}

export function numberFlag(name: string, v: unknown, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n) || n < min) {
    throw new UserError(`--${name} must be a number ≥ ${min}, got "${String(v)}"`);
  }
  return n;
}
