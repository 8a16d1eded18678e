/**
 * @file `engram plot`: learning curves of run directories as one SVG file, for papers and docs.
 * Each `--run LABEL=DIR[,DIR…]` is one curve; several directories (seeds of one preset) draw
 * their median at each evaluation, with a band from the lowest to the highest.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { writeFileAtomic } from '../checkpoint/atomic.js';
import { readGeneralisation, readMetrics } from '../server/runs.js';
import { svgPlot, type SvgSeries } from '../server/svg-plot.js';
import { seedCurve, spread } from '../server/seed-curve.js';
import { parseFlags } from './args.js';
import { UserError } from './errors.js';

export const PLOT_HELP = `usage: engram plot --run LABEL=DIR[,DIR...] [--run ...] --out FILE.svg
                   [--metric bitsPerSeq|bitErrorsPerSeq|loss|trainLoss|excessBitsPerSeq|generalisation]
                   [--x step|time] [--log] [--title TEXT]

  --run LABEL=DIRS   one curve: a run directory, or several (seeds) drawn as their median with
                     a band from the lowest to the highest value at each evaluation
  --metric M         what to draw (default bitsPerSeq); excessBitsPerSeq is bits per sequence
                     above the task's optimal predictor (dynamic-ngrams); generalisation draws
                     each run's last engram test --lengths: bit errors per sequence against length
  --x step|time      x axis: training steps (default) or training seconds
  --log              log-scale y axis
  --out FILE.svg     where to write the figure`;

const METRICS = ['bitsPerSeq', 'bitErrorsPerSeq', 'loss', 'trainLoss', 'excessBitsPerSeq', 'generalisation'] as const;
type PlotMetric = (typeof METRICS)[number];

const TITLES: Record<PlotMetric, string> = {
  bitsPerSeq: 'cost per sequence (bits)', bitErrorsPerSeq: 'bit errors per sequence', loss: 'evaluation loss',
  trainLoss: 'training loss', excessBitsPerSeq: 'bits per sequence above the optimal predictor', generalisation: 'bit errors per sequence',
};

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

export function plotCommand(argv: string[]): number {
  const f = parseFlags('plot', argv, {
    run: { type: 'string', multiple: true },
    metric: { type: 'string' },
    x: { type: 'string' },
    log: { type: 'boolean' },
    title: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (f.help) {
    console.log(PLOT_HELP);
    return 0;
  }
  const specs = (f.run as string[] | undefined) ?? [];
  if (specs.length === 0) throw new UserError('engram plot needs at least one --run LABEL=DIR[,DIR...]');
  if (typeof f.out !== 'string' || !f.out.endsWith('.svg')) throw new UserError('engram plot needs --out FILE.svg');
  const metric = (f.metric ?? 'bitsPerSeq') as PlotMetric;
  if (!METRICS.includes(metric)) throw new UserError(`--metric must be one of ${METRICS.join(', ')}, got "${String(f.metric)}"`);
  const x = (f.x ?? 'step') as 'step' | 'time';
  if (x !== 'step' && x !== 'time') throw new UserError(`--x must be step or time, got "${String(f.x)}"`);
  const series: SvgSeries[] = specs.map((spec, i) => {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new UserError(`--run expects LABEL=DIR[,DIR...], got "${spec}"`);
    const label = spec.slice(0, eq), dirs = spec.slice(eq + 1).split(',').filter((d) => d !== '');
    for (const d of dirs) if (!existsSync(d) || !statSync(d).isDirectory()) throw new UserError(`--run ${label}: ${d} is not a run directory`);
    if (dirs.length === 0) throw new UserError(`--run ${label}: no run directory given`);
    const color = COLORS[i % COLORS.length]!;
    const name = dirs.length > 1 ? `${label} (median of ${dirs.length})` : label;
    if (metric === 'generalisation') {
      const recs = dirs.map((d) => readGeneralisation(d)).filter((g) => g !== null);
      if (recs.length === 0) throw new UserError(`--run ${label}: no engram test --lengths recorded in ${dirs.join(', ')}`);
      const lengths = [...new Set(recs.flatMap((g) => g.rows.map((r) => r.length ?? r.repeats ?? 0)))].sort((a, b) => a - b);
      const at = lengths.map((L) => spread(recs.map((g) => g.rows.find((r) => (r.length ?? r.repeats) === L)?.bitErrorsPerSeq).filter((v): v is number => v !== undefined)));
      return { label: name, color, x: lengths, y: at.map((a) => a.y), band: at.map((a) => a.band) };
    }
    const runs = dirs.map((d) => readMetrics(d));
    if (runs.every((r) => r.length === 0)) throw new UserError(`--run ${label}: no evaluations in ${dirs.join(', ')}`);
    return { label: name, color, ...seedCurve(runs, metric, x) };
  });
  const xLabel = metric === 'generalisation' ? 'length' : x === 'step' ? 'training step' : 'training seconds';
  const svg = svgPlot(series, { title: typeof f.title === 'string' ? f.title : TITLES[metric], xLabel, yLabel: TITLES[metric], log: f.log === true });
  const out = resolve(f.out);
  writeFileAtomic(out, svg);
  console.log(`plot: ${out}`);
  return 0;
}
