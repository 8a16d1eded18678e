/**
 * @file Flag parsing on node:util's parseArgs, with one-line errors and number checks.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from './errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** The largest value an integer flag takes unless it says otherwise (steps, batches, lengths, …). */
export const MAX_INT_FLAG = 1e9;

/** A negative number, as a value: `-5`, `-0.5`, `-.5`, `-1e3`. */
const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/**
 * `--steps -5` → `--steps=-5` for a flag that takes a value, so the value reaches the flag's
 * own check ("--steps must be an integer ≥ 1") instead of being read as an unknown flag.
 */
function joinNegativeValues(argv: readonly string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const name = /^--([^=]+)$/.exec(a)?.[1];
    const next = argv[i + 1];
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

export function parseFlags(command: string, argv: string[], options: Options): Record<string, string | boolean | string[] | undefined> {
  try {
    const { values, positionals } = parseArgs({ args: joinNegativeValues(argv, options), options, strict: true, allowPositionals: true });
    if (positionals.length > 0) throw new UserError(`${command}: unexpected argument "${positionals[0]}"; see engram ${command} --help`);
    return values as Record<string, string | boolean | string[] | undefined>;
  } catch (err) {
    if (err instanceof UserError) throw err;
    const flags = Object.keys(options).map((k) => `--${k}`).join(' ');
    const full = (err as Error).message;
    const msg = full.split('\n')[0]!.split(/\.( |$)/)[0];
    // `--run-dir -x`: parseArgs reads -x as a flag; its own hint says how to pass the value
    const dash = /use '(--[\w-]+)=-XYZ'/.exec(full);
    const hint = dash ? `; for a value starting with "-" write ${dash[1]}=VALUE` : '';
    // main() prints "engram: error: " before this: the command is named once, without "engram"
    throw new UserError(`${command}: ${msg}${hint} (valid flags: ${flags})`);
  }
}

/** An integer flag in min..max, or undefined when absent. */
export function intFlag(name: string, v: unknown, min = 1, max = MAX_INT_FLAG): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isInteger(n) || n < min) {
    throw new UserError(`--${name} must be an integer ≥ ${min}, got "${String(v)}"`);
  }
  if (n > max) throw new UserError(`--${name} must be at most ${max}, got "${v}"`);
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
