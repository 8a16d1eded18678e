/**
 * @file sweep.json: what makes a folder a sweep directory. It holds the sweep's spec (so the
 * same command, or `engram sweep --sweep-dir DIR` alone, finds what to run), an id (the
 * sweep's name on a queue), each run's outcome and the summary per combination. It is
 * replaced atomically whenever a run ends.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describeFsError, makeDirs, writeFileAtomic } from '../checkpoint/atomic.js';
import type { ComboSummary, RunOutcome } from './sweep-summary.js';
import type { SweepSpec } from './sweep-plan.js';
import { UserError } from './user-error.js';

export const SWEEP_FILE = 'sweep.json';
export const SWEEP_FORMAT = 'engram-sweep';
export const SWEEP_VERSION = 1;

export interface SweepFile {
  readonly format: typeof SWEEP_FORMAT;
  readonly version: number;
  /** names the sweep on a queue: jobs and results of other sweeps never mix with its own */
  readonly id: string;
  readonly spec: SweepSpec;
  /** the queue it last ran on, without any password (null: the local pool) */
  readonly queue: string | null;
  readonly updated: string;
  /** true once every run has finished or failed */
  readonly complete: boolean;
  readonly summary: readonly ComboSummary[];
  readonly runs: readonly RunOutcome[];
}

/** The sweep.json in `dir`, or null if there is none; one line if it is not a sweep's. */
export function readSweepFile(dir: string): SweepFile | null {
  const p = join(dir, SWEEP_FILE);
  if (!existsSync(p)) return null;
  let raw: Partial<SweepFile>;
  try {
    raw = JSON.parse(readFileSync(p, 'utf8')) as Partial<SweepFile>;
  } catch {
    throw new UserError(`${p} is not valid JSON`);
  }
  if (raw?.format !== SWEEP_FORMAT || typeof raw.id !== 'string' || typeof raw.spec !== 'object') throw new UserError(`${p} is not an engram sweep file`);
  if (raw.version !== SWEEP_VERSION) {
    throw new UserError(`${p} is version ${String(raw.version)} of the sweep file; this engram reads version ${SWEEP_VERSION}: finish it with the engram that started it`);
  }
  return raw as SweepFile;
}

export function writeSweepFile(dir: string, f: SweepFile): void {
  writeFileAtomic(join(dir, SWEEP_FILE), `${JSON.stringify(f, null, 2)}\n`);
}

/** The spec as compared between two commands: the same runs, whatever order the flags came in. */
function sameSpec(a: SweepSpec, b: SweepSpec): boolean {
  const norm = (s: SweepSpec): string => JSON.stringify([s.preset, s.seeds, s.grid, s.set, s.untilBitErrors ?? null]);
  return norm(a) === norm(b);
}

/**
 * Opens the sweep in `dir`: an existing one (whose spec `spec`, if given, must match) or a new
 * one in a new or empty folder (`spec` required). Returns its id and spec.
 */
export function openSweepDir(dir: string, spec: SweepSpec | null): { id: string; spec: SweepSpec; existing: SweepFile | null } {
  if (existsSync(dir)) {
    let entries: string[];
    try {
      if (!statSync(dir).isDirectory()) throw new UserError(`--sweep-dir ${dir} is a file, not a directory`);
      entries = readdirSync(dir);
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw new UserError(`cannot read ${dir}: ${describeFsError(err, dir)}`);
    }
    const existing = readSweepFile(dir);
    if (existing !== null) {
      if (spec !== null && !sameSpec(spec, existing.spec)) {
        throw new UserError(`${dir} holds another sweep (${describeSpec(existing.spec)}); to go on with it pass the same flags or --sweep-dir ${dir} alone, ` +
          'or choose another --sweep-dir');
      }
      return { id: existing.id, spec: existing.spec, existing };
    }
    if (entries.length > 0) throw new UserError(`${dir} is not empty and holds no ${SWEEP_FILE}; a new sweep needs a new or empty --sweep-dir`);
  }
  if (spec === null) throw new UserError(`${dir} holds no sweep; start one with --preset NAME --seeds A-B`);
  makeDirs(dir);
  return { id: randomUUID(), spec, existing: null };
}

/** `dnc-repeat-copy-fast, seeds 1-20, grid optimizer.lr=0.01,0.02` */
export function describeSpec(s: SweepSpec): string {
  const seeds = s.seeds.length > 2 && s.seeds.every((v, i) => i === 0 || v === s.seeds[i - 1]! + 1)
    ? `${s.seeds[0]}-${s.seeds[s.seeds.length - 1]}` : s.seeds.join(',');
  return [`${s.preset}`, `seeds ${seeds}`, ...s.grid.map(([k, v]) => `grid ${k}=${v.join(',')}`), ...s.set.map((a) => `set ${a}`),
    ...(s.untilBitErrors !== undefined ? [`until ${s.untilBitErrors} bit errors`] : [])].join(', ');
}
