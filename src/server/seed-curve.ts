/**
 * @file Several runs (the seeds of one setting) as one curve: their median at each evaluation
 * and a band from the lowest to the highest value. `engram plot` draws it as SVG; the
 * dashboard's sweep view draws the same curves.
 */
import type { MetricRecord, SeedBand } from './protocol.js';
import { median } from './svg-plot.js';

/** A metric of an evaluation record: one of its fields, or excessBitsPerSeq (bits per sequence above the optimal predictor). */
export type CurveMetric = 'bitsPerSeq' | 'bitErrorsPerSeq' | 'loss' | 'trainLoss' | 'excessBitsPerSeq' | 'generalisation';

export function metricOf(r: MetricRecord, m: CurveMetric): number | null {
  const v = m === 'excessBitsPerSeq' ? (r.optimalBitsPerSeq === undefined ? NaN : r.bitsPerSeq - r.optimalBitsPerSeq) : (r[m as keyof MetricRecord] as number | null | undefined);
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Several runs' values at one point: their median, and a band from the lowest to the highest (two or more values). */
export function spread(values: readonly number[]): { y: number | null; band: [number, number] | null } {
  return { y: median(values), band: values.length > 1 ? [Math.min(...values), Math.max(...values)] : null };
}

/**
 * One curve from several runs: at each x where any run was evaluated (by step or by training
 * time), the median and range of every run's latest value by then. A run that has ended carries
 * its last value on; a run not yet evaluated by then is left out. The x values only grow, also
 * by time, where the seeds' evaluations do not line up.
 */
export function seedCurve(runs: readonly MetricRecord[][], metric: CurveMetric, x: 'step' | 'time'): SeedBand {
  const at = (r: MetricRecord): number => (x === 'step' ? r.step : r.elapsedSec);
  const live = runs.filter((r) => r.length > 0);
  const grid = [...new Set(live.flatMap((r) => r.map(at)))].sort((a, b) => a - b);
  const next = live.map(() => 0); // per run: how many of its evaluations are at or before the grid point
  const xs: number[] = [], ys: (number | null)[] = [], band: ([number, number] | null)[] = [];
  for (const t of grid) {
    const values: number[] = [];
    live.forEach((r, k) => {
      while (next[k]! < r.length && at(r[next[k]!]!) <= t) next[k]!++;
      const v = next[k]! > 0 ? metricOf(r[next[k]! - 1]!, metric) : null;
      if (v !== null) values.push(v);
    });
    const vals = spread(values);
    xs.push(t);
    ys.push(vals.y);
    band.push(vals.band);
  }
  return { x: xs, y: ys, band };
}
