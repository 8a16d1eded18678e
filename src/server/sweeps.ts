/**
 * @file Sweep directories (`engram sweep`) as the dashboard sees them: found by listing a
 * folder (the folder itself, or the folders directly in it, that hold a sweep.json), their
 * summary read from sweep.json, and their curves made from the run directories found by
 * listing DIR/{combination}/seed-{S}/ (never from names written in a file).
 */
import { readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { SweepCurves, SweepListing } from './protocol.js';
import { isRegularFile, isRunName, MAX_RUNS, readMetrics, readRegularFile } from './runs.js';
import { seedCurve } from './seed-curve.js';

const SWEEP_FILE = 'sweep.json';
/** sweep.json files larger than this are not read (a sweep of MAX_SWEEP_RUNS runs is far smaller). */
const MAX_SWEEP_FILE_BYTES = 16 << 20;

function dirsIn(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && isRunName(e.name)).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** The sweeps in `dir` by name: `dir` itself if it is one, and the folders directly inside it that are. */
export function listSweepDirs(dir: string): Map<string, string> {
  const sweeps = new Map<string, string>();
  const own = basename(resolve(dir));
  if (isRegularFile(join(dir, SWEEP_FILE)) && isRunName(own)) sweeps.set(own, dir);
  for (const name of dirsIn(dir)) {
    if (sweeps.size >= MAX_RUNS) break;
    if (isRegularFile(join(dir, name, SWEEP_FILE))) sweeps.set(name, join(dir, name));
  }
  return sweeps;
}

/** A sweep's listing from its sweep.json, or null if that is not readable as one. */
export function readSweepListing(name: string, dir: string): SweepListing | null {
  try {
    const f = JSON.parse(readRegularFile(join(dir, SWEEP_FILE), MAX_SWEEP_FILE_BYTES)?.toString('utf8') ?? 'null') as {
      format?: unknown; spec?: { preset?: unknown; seeds?: unknown; grid?: unknown }; complete?: unknown; summary?: unknown; runs?: { status?: unknown }[];
    } | null;
    if (f?.format !== 'engram-sweep' || !Array.isArray(f.summary) || !Array.isArray(f.runs)) return null;
    const seeds = Array.isArray(f.spec?.seeds) ? f.spec.seeds : [];
    const grid = Array.isArray(f.spec?.grid) ? (f.spec.grid as [string, string[]][]).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : ''}`) : [];
    return {
      name,
      description: [String(f.spec?.preset ?? '?'), `${seeds.length} seeds`, ...grid].join(', '),
      complete: f.complete === true,
      runs: f.runs.length,
      finished: f.runs.filter((r) => r?.status === 'finished' || r?.status === 'failed').length,
      summary: f.summary as SweepListing['summary'],
    };
  } catch {
    return null;
  }
}

/** Per combination (a folder of the sweep), its seeds' curves as median and band, x by step or training time. */
export function sweepCurves(dir: string, x: 'step' | 'time'): SweepCurves[] {
  return dirsIn(dir).flatMap((combo) => {
    const runs = dirsIn(join(dir, combo)).filter((s) => /^seed-\d+$/.test(s)).map((s) => readMetrics(join(dir, combo, s))).filter((m) => m.length > 0);
    if (runs.length === 0) return [];
    return [{
      combo, seeds: runs.length,
      loss: seedCurve(runs, 'loss', x), bitsPerSeq: seedCurve(runs, 'bitsPerSeq', x),
      bitErrorsPerSeq: seedCurve(runs, 'bitErrorsPerSeq', x), trainLoss: seedCurve(runs, 'trainLoss', x),
    }];
  });
}
