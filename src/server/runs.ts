/**
 * @file Run directories as the dashboard sees them: found by listing a folder (never by
 * joining a name from a request onto a path), summarised from config.json and metrics.jsonl.
 * Run names come from the file system and from URLs: both are treated as untrusted text.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { weightsPath } from '../checkpoint/checkpoint.js';
import type { Config } from '../config/schema.js';
import type { MetricRecord, RunSummary } from './protocol.js';

/** What a run directory's name may look like: no separators, no leading dot, bounded length. */
const RUN_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@+=,-]{0,199}$/;
/** At most this many runs are listed (a folder of thousands would make a useless page). */
export const MAX_RUNS = 500;
/** metrics.jsonl files larger than this are read from their end only. */
const MAX_METRICS_BYTES = 32 << 20;

export function isRunName(name: string): boolean {
  return RUN_NAME.test(name);
}

/** The run directories directly inside `dir`, by name (sorted); symlinks are not followed. */
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
    if (existsSync(join(path, 'config.json'))) runs.set(e.name, path);
  }
  return runs;
}

export function readConfig(runDir: string): Config | null {
  try {
    const c = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as Config;
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
      });
    } catch {
      // not JSON: skip
    }
  }
  return out;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);

export function readMetrics(runDir: string): MetricRecord[] {
  try {
    const buf = readFileSync(join(runDir, 'metrics.jsonl'));
    return parseMetrics(buf.subarray(Math.max(0, buf.length - MAX_METRICS_BYTES)).toString('utf8'));
  } catch {
    return [];
  }
}

export function describeConfig(c: Config): string {
  const m = c.model;
  const training = `${c.optimizer.name} ${c.optimizer.lr}, batch ${c.train.batchSize}`;
  if (m.type === 'lstm') return `LSTM ${m.layers} × ${m.hiddenSize}, no memory, ${training}`;
  const heads = m.type === 'dnc' ? `${m.writeHeads} write + ${m.readHeads} read heads` : `${m.writeHeads}+${m.readHeads} heads`;
  return `${m.controller.toUpperCase()} ${m.hiddenSize}, ${heads}, ${m.memorySlots} × ${m.wordSize} memory, ${training}`;
}

export function summarise(name: string, config: Config | null, metrics: readonly MetricRecord[], hasCheckpoint: boolean, live: boolean): RunSummary {
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
  };
}

/** The checkpoint the dashboard inspects: best if there is one, else last. */
export function checkpointFile(runDir: string): string | null {
  for (const name of ['best', 'last']) {
    const p = weightsPath(join(runDir, 'checkpoints'), name);
    if (existsSync(p)) return p;
  }
  return null;
}

export function summariseDir(name: string, runDir: string, live = false): RunSummary {
  return summarise(name, readConfig(runDir), readMetrics(runDir), checkpointFile(runDir) !== null, live);
}
