/**
 * @file Run directories as the dashboard sees them: found by listing a folder (never by
 * joining a name from a request onto a path), summarised from config.json and metrics.jsonl.
 * Run names come from the file system and from URLs: both are treated as untrusted text.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { weightsPath } from '../checkpoint/checkpoint.js';
import { describeConfig } from '../config/describe.js';
import type { Config } from '../config/schema.js';
import type { GeneralisationRecord, MetricRecord, RunSummary } from './protocol.js';

/** What a run directory's name may look like: no separators, no leading dot, bounded length. */
const RUN_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@+=,-]{0,199}$/;
/** At most this many runs are listed (a folder of thousands would make a useless page). */
export const MAX_RUNS = 500;
/** metrics.jsonl files larger than this are read from their end only. */
const MAX_METRICS_BYTES = 32 << 20;

export function isRunName(name: string): boolean {
  return RUN_NAME.test(name);
}

/** True for a regular file at `path` itself: not a symlink (not followed), a folder, a device or a pipe. */
export function isRegularFile(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false })?.isFile() === true;
}

/** True for a folder at `path` itself, not a symlink to one. */
function isRealDir(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
}

/**
 * The last `maxBytes` (or all) of the regular file at `path`, or null: a symlink is not
 * followed (O_NOFOLLOW), and a device or pipe is never read (O_NONBLOCK opens a pipe without
 * waiting; fstat then refuses it).
 */
export function readRegularFile(path: string, maxBytes = Infinity): Buffer | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return null;
    const size = Math.min(st.size, maxBytes);
    const buf = Buffer.alloc(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, st.size - size + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** The run directories directly inside `dir`, by name (sorted); symlinks (to a run or to its config.json) are not followed. */
export function listRunDirs(dir: string): Map<string, string> {
  const runs = new Map<string, string>();
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return runs;
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (runs.size >= MAX_RUNS) break;
    if (!e.isDirectory() || !isRunName(e.name)) continue;
    const path = join(dir, e.name);
    if (isRegularFile(join(path, 'config.json'))) runs.set(e.name, path);
  }
  return runs;
}

export function readConfig(runDir: string): Config | null {
  try {
    const c = JSON.parse(readRegularFile(join(runDir, 'config.json'), MAX_METRICS_BYTES)?.toString('utf8') ?? 'null') as Config;
    return typeof c === 'object' && c !== null && typeof c.model === 'object' && typeof c.task === 'object' ? c : null;
  } catch {
    return null;
  }
}

/** Parses metrics.jsonl, skipping lines that are not evaluation records (a torn last line, say). */
export function parseMetrics(text: string): MetricRecord[] {
  const out: MetricRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const r = JSON.parse(line) as Record<string, unknown>;
      if (typeof r.step !== 'number' || typeof r.loss !== 'number') continue;
      out.push({
        step: r.step,
        loss: r.loss,
        bitsPerSeq: num(r.bitsPerSeq),
        bitErrorsPerSeq: num(r.bitErrorsPerSeq),
        trainLoss: typeof r.trainLoss === 'number' ? r.trainLoss : null,
        elapsedSec: num(r.elapsedSec),
        skippedSteps: num(r.skippedSteps),
        ...(typeof r.range === 'string' ? { range: r.range.slice(0, 200) } : {}),
        ...(typeof r.level === 'number' ? { level: r.level } : {}),
        ...(typeof r.optimalBitsPerSeq === 'number' ? { optimalBitsPerSeq: r.optimalBitsPerSeq } : {}),
      });
    } catch {
      // not JSON: skip
    }
  }
  return out;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);

/** What `engram test --lengths` appends to, one GeneralisationRecord per line. */
export const GENERALISATION_FILE = 'generalisation.jsonl';

/** The last whole record of a run's generalisation.jsonl, or null (none, or unreadable). */
export function readGeneralisation(runDir: string): GeneralisationRecord | null {
  const buf = readRegularFile(join(runDir, GENERALISATION_FILE), MAX_METRICS_BYTES);
  if (buf === null) return null;
  const text = buf.toString('utf8');
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const r = JSON.parse(lines[i]!) as Record<string, unknown>;
      if (!Array.isArray(r.rows) || typeof r.step !== 'number') continue;
      const rows = (r.rows as Record<string, unknown>[]).filter((x) => typeof x === 'object' && x !== null && typeof x.bitErrorsPerSeq === 'number').map((x) => ({
        ...(typeof x.length === 'number' ? { length: x.length } : {}),
        ...(typeof x.repeats === 'number' ? { repeats: x.repeats } : {}),
        loss: num(x.loss), bitsPerSeq: num(x.bitsPerSeq), bitErrorsPerSeq: num(x.bitErrorsPerSeq), bitErrorRate: num(x.bitErrorRate),
        ...(typeof x.optimalBitsPerSeq === 'number' ? { optimalBitsPerSeq: x.optimalBitsPerSeq } : {}),
      }));
      return {
        time: String(r.time ?? ''), step: r.step, checkpoint: String(r.checkpoint ?? ''), seed: num(r.seed), batches: num(r.batches),
        lengthName: typeof r.lengthName === 'string' ? r.lengthName.slice(0, 40) : 'words', rows,
      };
    } catch {
      // a torn line: the one before it
    }
  }
  return null;
}

export function readMetrics(runDir: string): MetricRecord[] {
  const buf = readRegularFile(join(runDir, 'metrics.jsonl'), MAX_METRICS_BYTES);
  return buf === null ? [] : parseMetrics(buf.toString('utf8'));
}

export { describeConfig };

export function summarise(name: string, config: Config | null, metrics: readonly MetricRecord[], hasCheckpoint: boolean, live: boolean, updated: number | null = null): RunSummary {
  return {
    name,
    model: config?.model?.type ?? '?',
    task: config?.task?.name ?? '?',
    description: config ? describeConfig(config) : 'config.json unreadable',
    totalSteps: config?.train?.steps ?? 0,
    last: metrics.length > 0 ? metrics[metrics.length - 1]! : null,
    evaluations: metrics.length,
    hasCheckpoint,
    live,
    updated,
  };
}

/** The newest modification time (ms) of a run's config.json, metrics.jsonl and generalisation.jsonl, regular files only. */
export function lastUpdated(runDir: string): number | null {
  let newest: number | null = null;
  for (const f of ['config.json', 'metrics.jsonl', GENERALISATION_FILE]) {
    const st = lstatSync(join(runDir, f), { throwIfNoEntry: false });
    if (st?.isFile() && (newest === null || st.mtimeMs > newest)) newest = st.mtimeMs;
  }
  return newest;
}

/** The checkpoint the dashboard inspects: best if there is one, else last; a symlinked checkpoints/ or file is none. */
export function checkpointFile(runDir: string): string | null {
  const dir = join(runDir, 'checkpoints');
  if (!isRealDir(dir)) return null;
  for (const name of ['best', 'last']) {
    const p = weightsPath(dir, name);
    if (isRegularFile(p)) return p;
  }
  return null;
}

export function summariseDir(name: string, runDir: string, live = false): RunSummary {
  return summarise(name, readConfig(runDir), readMetrics(runDir), checkpointFile(runDir) !== null, live, lastUpdated(runDir));
}
