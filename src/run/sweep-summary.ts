/**
 * @file What a sweep's runs came to, read back from their run directories: whether each has
 * finished and when it learned (its first evaluation below the threshold, on the whole range
 * of a curriculum); per combination, how many seeds learned and the median, p10 and p90 of the
 * steps and seconds they took. bench/experiment.ts summarises its seeds with the same reading.
 */
import type { Config } from '../config/schema.js';
import type { GeneralisationRecord, MetricRecord, SweepComboSummary, SweepSpread } from '../server/protocol.js';
import { readGeneralisation, readMetrics } from '../server/runs.js';
import { createTask } from '../tasks/registry.js';
import type { PlannedRun } from './sweep-plan.js';

/** Bit errors per sequence below which a run counts as learned when its config sets no train.untilBitErrors. */
export const DEFAULT_LEARNED_BELOW = 0.1;

export interface SeedResult {
  seed: number;
  /** the first evaluation below the threshold (on the whole range), if any */
  learnedStep: number | null;
  learnedSec: number | null;
  last: MetricRecord | null;
  generalisation: GeneralisationRecord | null;
}

/**
 * @param wholeLevel the task's widest curriculum level (Task.levels − 1): with a growing
 * curriculum, an evaluation on a narrower range does not count as learned
 */
export function seedResult(seed: number, dir: string, threshold: number, wholeLevel: number): SeedResult {
  const evals = readMetrics(dir);
  // a record without a level is from a run with no curriculum: the whole range
  const hit = evals.find((r) => r.bitErrorsPerSeq < threshold && (r.level ?? wholeLevel) >= wholeLevel);
  return { seed, learnedStep: hit?.step ?? null, learnedSec: hit?.elapsedSec ?? null, last: evals[evals.length - 1] ?? null, generalisation: readGeneralisation(dir) };
}

/** The threshold a sweep's run is judged by: its train.untilBitErrors, or DEFAULT_LEARNED_BELOW. */
export function learnedBelow(config: Config): number {
  return config.train.untilBitErrors > 0 ? config.train.untilBitErrors : DEFAULT_LEARNED_BELOW;
}

/**
 * True when the run in `dir` has nothing left to do: its last evaluation is at train.steps,
 * or it met train.untilBitErrors on the whole range (where runTraining stops).
 */
export function runFinished(dir: string, config: Config): boolean {
  const evals = readMetrics(dir);
  const last = evals[evals.length - 1];
  return last !== undefined && endsRun(last, config);
}

/** True when a run stops at this evaluation: it is at train.steps, or meets train.untilBitErrors on the whole range. */
export function endsRun(last: { step: number; bitErrorsPerSeq: number; level?: number }, config: Config): boolean {
  if (last.step >= config.train.steps) return true;
  const until = config.train.untilBitErrors;
  if (!(until > 0 && last.bitErrorsPerSeq < until)) return false;
  const whole = wholeLevelOf(config);
  return (last.level ?? whole) >= whole;
}

/** The widest curriculum level of a run's task: its whole range. */
export function wholeLevelOf(config: Config): number {
  return createTask(config.task).levels - 1;
}

export type RunStatus = 'finished' | 'failed' | 'pending';

export interface RunOutcome {
  readonly name: string;
  readonly combo: string;
  readonly seed: number;
  readonly status: RunStatus;
  /** the failed run's one-line error */
  readonly error?: string;
  readonly learnedStep: number | null;
  readonly learnedSec: number | null;
  readonly lastStep: number | null;
  readonly lastBitErrorsPerSeq: number | null;
}

export function runOutcome(run: PlannedRun, dir: string, status: RunStatus, error?: string): RunOutcome {
  const r = seedResult(run.seed, dir, learnedBelow(run.config), wholeLevelOf(run.config));
  return {
    name: run.name, combo: run.combo, seed: run.seed, status, ...(error !== undefined ? { error } : {}),
    learnedStep: r.learnedStep, learnedSec: r.learnedSec, lastStep: r.last?.step ?? null, lastBitErrorsPerSeq: r.last?.bitErrorsPerSeq ?? null,
  };
}

export type Spread = SweepSpread;

/** The q-quantile of sorted values, interpolated linearly between the two nearest (numpy's default). */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const at = q * (sorted.length - 1), lo = Math.floor(at), hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

export function spreadOf(values: readonly number[]): Spread {
  const v = [...values].sort((a, b) => a - b);
  return { median: quantile(v, 0.5), p10: quantile(v, 0.1), p90: quantile(v, 0.9) };
}

/** A row of the summary table (its shape is the dashboard's too). */
export type ComboSummary = SweepComboSummary;

export function summariseCombos(runs: readonly PlannedRun[], outcomes: ReadonlyMap<string, RunOutcome>): ComboSummary[] {
  const combos = [...new Set(runs.map((r) => r.combo))];
  return combos.map((combo) => {
    const mine = runs.filter((r) => r.combo === combo);
    const out = mine.map((r) => outcomes.get(r.name)).filter((o): o is RunOutcome => o !== undefined);
    const learned = out.filter((o) => o.learnedStep !== null);
    return {
      combo, seeds: mine.length,
      finished: out.filter((o) => o.status === 'finished').length,
      failed: out.filter((o) => o.status === 'failed').length,
      learned: learned.length,
      threshold: learnedBelow(mine[0]!.config),
      steps: spreadOf(learned.map((o) => o.learnedStep!)),
      seconds: spreadOf(learned.map((o) => o.learnedSec!)),
    };
  });
}

const num = (v: number | null, digits: number): string => (v === null ? '-' : v.toFixed(digits));

/** The summary as a table of text, one line per combination. */
export function formatSummary(rows: readonly ComboSummary[]): string {
  const head = ['combination', 'learned', 'steps median (p10..p90)', 'seconds median (p10..p90)'];
  const body = rows.map((r) => [
    r.combo, `${r.learned}/${r.seeds}${r.failed > 0 ? ` (${r.failed} failed)` : ''}`,
    `${num(r.steps.median, 0)} (${num(r.steps.p10, 0)}..${num(r.steps.p90, 0)})`,
    `${num(r.seconds.median, 1)} (${num(r.seconds.p10, 1)}..${num(r.seconds.p90, 1)})`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [head, ...body].map((cells) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
