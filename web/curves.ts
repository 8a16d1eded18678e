/**
 * @file The three metrics (and the training loss) against steps, for one run
 * (live view, report) or several laid side by side (past runs).
 */
import type { GeneralisationRecord, MetricRecord, SeedBand, SweepCurves } from '../src/server/protocol.js';
import { Chart, joinCurves, type Curve } from './chart.js';
import { PALETTE } from './colors.js';
import { h } from './dom.js';

export const METRICS = [
  { key: 'loss', title: 'evaluation loss (reference scale)', y: 'loss' },
  { key: 'bitsPerSeq', title: 'bits per sequence', y: 'bits / seq' },
  { key: 'bitErrorsPerSeq', title: 'bit errors per sequence', y: 'bit errors / seq' },
] as const;

type MetricKey = (typeof METRICS)[number]['key'] | 'trainLoss';

const value = (r: MetricRecord, k: MetricKey): number | null => {
  const v = r[k];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};

/** One run: loss (eval and train), bits per sequence, bit errors per sequence. */
export class RunCharts {
  readonly el: HTMLElement;
  private readonly charts: Chart[];

  constructor() {
    this.charts = [
      // train loss first, so the evaluation curve is drawn over it
      new Chart({ name: 'loss', title: 'loss', xLabel: 'step', yLabel: 'loss', integerX: true }, [
        { label: 'train loss', color: PALETTE[1]! },
        { label: 'eval loss', color: PALETTE[0]!, points: true, width: 2.2 },
      ]),
      new Chart({ name: 'bitsPerSeq', title: METRICS[1].title, xLabel: 'step', yLabel: METRICS[1].y, integerX: true }, [{ label: 'eval bits/seq', color: PALETTE[2]!, points: true }]),
      new Chart({ name: 'bitErrorsPerSeq', title: METRICS[2].title, xLabel: 'step', yLabel: METRICS[2].y, integerX: true }, [{ label: 'eval bit errors/seq', color: PALETTE[4]!, points: true }]),
    ];
    this.el = h('div', { class: 'charts' }, ...this.charts.map((c) => c.el));
  }

  /**
   * @param train the training loss per step (live), else each record's trainLoss
   */
  update(evals: readonly MetricRecord[], train?: { steps: readonly number[]; loss: readonly number[] }): void {
    const steps = evals.map((r) => r.step);
    const trainCurve = train ? { x: train.steps, y: train.loss } : { x: steps, y: evals.map((r) => value(r, 'trainLoss')) };
    const [x, ys] = joinCurves([trainCurve, { x: steps, y: evals.map((r) => value(r, 'loss')) }]);
    this.charts[0]!.setData(x, ys);
    this.charts[1]!.setData(steps, [evals.map((r) => value(r, 'bitsPerSeq'))]);
    this.charts[2]!.setData(steps, [evals.map((r) => value(r, 'bitErrorsPerSeq'))]);
  }

  setLog(on: boolean): void {
    for (const c of this.charts) c.setLog(on);
  }
}

export interface RunCurves {
  readonly name: string;
  readonly color: string;
  readonly evals: readonly MetricRecord[];
}

/** Several runs: one chart per metric, one curve per run. */
export class CompareCharts {
  readonly el: HTMLElement;
  private readonly charts: { key: MetricKey; chart: Chart }[];
  private names = '';

  constructor() {
    const all: { key: MetricKey; title: string; y: string }[] = [...METRICS, { key: 'trainLoss', title: 'training loss (mean since the previous evaluation)', y: 'loss' }];
    this.charts = all.map((m) => ({ key: m.key, chart: new Chart({ name: `compare-${m.key}`, title: m.title, xLabel: 'step', yLabel: m.y, integerX: true }, []) }));
    this.el = h('div', { class: 'charts' }, ...this.charts.map((c) => c.chart.el));
  }

  update(runs: readonly RunCurves[], xAxis: 'step' | 'elapsedSec', log: boolean): void {
    const names = JSON.stringify([runs.map((r) => [r.name, r.color]), xAxis]);
    for (const { key, chart } of this.charts) {
      const [x, ys] = joinCurves(runs.map((r) => ({ x: r.evals.map((e) => (xAxis === 'step' ? e.step : e.elapsedSec)), y: r.evals.map((e) => value(e, key)) })));
      chart.setLog(log);
      if (names !== this.names) {
        const curves: Curve[] = runs.map((r) => ({ label: r.name, color: r.color, points: true }));
        chart.setCurves(curves, x, ys, xAxis === 'step' ? 'step' : 'training seconds', xAxis === 'step');
      } else {
        chart.setData(x, ys);
      }
    }
    this.names = names;
  }
}

/** A run's generalisation test (`engram test --lengths`), for the chart of errors against length. */
export interface RunGeneralisation {
  readonly name: string;
  readonly color: string;
  readonly record: GeneralisationRecord;
}

/** Bit errors per sequence against the tested length: one curve per run (past runs) or per repeat count (a report). */
export class GeneralisationChart {
  readonly el: HTMLElement;
  private readonly chart: Chart;
  private names = '';

  constructor() {
    this.chart = new Chart({ name: 'generalisation', title: 'bit errors per sequence against length (engram test --lengths)', xLabel: 'length', yLabel: 'bit errors / seq', integerX: true }, []);
    this.el = this.chart.el;
  }

  update(runs: readonly RunGeneralisation[], log: boolean): void {
    // a test over lengths and repeats at once: one curve per repeat count
    const curves = runs.flatMap((g) => {
      const repeats = [...new Set(g.record.rows.map((r) => r.repeats))];
      // x is each row's length, or its repeats when the test varied only those (`--repeats` alone)
      const byLength = g.record.rows.some((r) => r.length !== undefined);
      const groups = byLength && repeats.length > 1 ? repeats : [undefined];
      return groups.map((rep, i) => {
        const rows = g.record.rows.filter((r) => (rep === undefined || r.repeats === rep) && (byLength ? r.length : r.repeats) !== undefined);
        return {
          label: rep === undefined ? g.name : `${g.name}, ${rep} repeats`,
          color: rep === undefined ? g.color : PALETTE[i % PALETTE.length]!,
          x: rows.map((r) => (byLength ? r.length : r.repeats)!),
          y: rows.map((r) => (Number.isFinite(r.bitErrorsPerSeq) ? r.bitErrorsPerSeq : null)),
        };
      });
    });
    const [x, ys] = joinCurves(curves);
    const xLabel = runs[0]?.record.rows.some((r) => r.length !== undefined) === false ? 'repeats' : `length (${runs[0]?.record.lengthName ?? 'words'})`;
    const names = JSON.stringify([curves.map((c) => [c.label, c.color]), xLabel]);
    this.chart.setLog(log);
    if (names !== this.names) this.chart.setCurves(curves.map((c) => ({ label: c.label, color: c.color, points: true })), x, ys, xLabel, true);
    else this.chart.setData(x, ys);
    this.names = names;
  }
}

/**
 * A sweep's combinations: one chart per metric; per combination the median over its seeds
 * (a solid line) and the lowest and highest seed (thin dashed lines in the same colour).
 */
export class SweepCharts {
  readonly el: HTMLElement;
  private readonly charts: { key: MetricKey; chart: Chart }[];
  private names = '';

  constructor() {
    const all: { key: MetricKey; title: string; y: string }[] = [...METRICS, { key: 'trainLoss', title: 'training loss (mean since the previous evaluation)', y: 'loss' }];
    this.charts = all.map((m) => ({ key: m.key, chart: new Chart({ name: `sweep-${m.key}`, title: `${m.title}: median over seeds, band lowest..highest`, xLabel: 'step', yLabel: m.y, integerX: true }, []) }));
    this.el = h('div', { class: 'charts' }, ...this.charts.map((c) => c.chart.el));
  }

  update(combos: readonly SweepCurves[], colors: readonly string[], xAxis: 'step' | 'time', log: boolean): void {
    const names = JSON.stringify([combos.map((c, i) => [c.combo, c.seeds, colors[i]]), xAxis]);
    for (const { key, chart } of this.charts) {
      const lines = combos.flatMap((c) => {
        const b: SeedBand = c[key];
        return [
          { x: b.x, y: b.y },
          { x: b.x, y: b.band.map((v) => v?.[0] ?? null) },
          { x: b.x, y: b.band.map((v) => v?.[1] ?? null) },
        ];
      });
      const [x, ys] = joinCurves(lines);
      chart.setLog(log);
      if (names !== this.names) {
        const curves: Curve[] = combos.flatMap((c, i) => [
          { label: `${c.combo} (median of ${c.seeds})`, color: colors[i]!, points: true, width: 2.2 },
          { label: `${c.combo} lowest`, color: colors[i]!, dash: [4, 4], width: 1 },
          { label: `${c.combo} highest`, color: colors[i]!, dash: [4, 4], width: 1 },
        ]);
        chart.setCurves(curves, x, ys, xAxis === 'step' ? 'step' : 'training seconds', xAxis === 'step');
      } else {
        chart.setData(x, ys);
      }
    }
    this.names = names;
  }
}
