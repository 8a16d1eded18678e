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

/** One curve from several runs: the median (and range) at each evaluation index; a run that ended carries its last value on. */
export function seedCurve(runs: readonly MetricRecord[][], metric: CurveMetric, x: 'step' | 'time'): SeedBand {
  const live = runs.filter((r) => r.length > 0);
  const n = Math.max(0, ...live.map((r) => r.length));
  const xs: number[] = [], ys: (number | null)[] = [], band: ([number, number] | null)[] = [];
  for (let i = 0; i < n; i++) {
    // x from the runs that reached this evaluation; y from every run, an ended one at its last
    const going = live.filter((r) => r.length > i).map((r) => r[i]!);
    const vals = spread(live.map((r) => metricOf(r[Math.min(i, r.length - 1)]!, metric)).filter((v): v is number => v !== null));
    xs.push(median(going.map((r) => (x === 'step' ? r.step : r.elapsedSec)))!);
    ys.push(vals.y);
    band.push(vals.band);
  }
  return { x: xs, y: ys, band };
}
