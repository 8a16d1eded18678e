/**
 * @file The sweeps of `engram dashboard --runs DIR`: pick a sweep, see its summary table (per
 * combination: seeds learned, median and p10..p90 of steps and seconds to learn) and its
 * combinations' curves as the median over seeds with a band, by step or by training time.
 */
import { API, sweepPath, type SweepCurves, type SweepListing, type SweepSpread } from '../src/server/protocol.js';
import { PALETTE } from './colors.js';
import { SweepCharts } from './curves.js';
import { clear, h, section } from './dom.js';

const REFRESH_MS = 5000;

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url, { cache: 'no-store' });
  if (!r.ok) throw new Error(`${r.status} ${r.statusText}`);
  return (await r.json()) as T;
}

const spreadText = (s: SweepSpread, digits: number): string =>
  s.median === null ? '–' : `${s.median.toFixed(digits)} (${s.p10!.toFixed(digits)}..${s.p90!.toFixed(digits)})`;

/** Adds the sweeps section to `root` if the folder holds any sweep (and once one appears). */
export async function sweepsView(root: HTMLElement): Promise<void> {
  const sweepSel = h('select', { 'aria-label': 'sweep', onchange: () => void refresh() });
  const xSel = h('select', { 'aria-label': 'x axis', onchange: () => void refresh() },
    h('option', { value: 'step' }, 'x: step'), h('option', { value: 'time' }, 'x: training time (s)'));
  const logBox = h('input', { type: 'checkbox', onchange: () => void refresh() });
  const about = h('p', { class: 'note' });
  const tbody = h('tbody');
  const table = h('table', { class: 'runs sweep-summary' },
    h('thead', {}, h('tr', {}, ...['', 'combination', 'learned', 'steps to learn: median (p10..p90)', 'seconds to learn: median (p10..p90)'].map((t) => h('th', {}, t)))),
    tbody);
  const charts = new SweepCharts();
  const el = section('Sweeps', h('div', { class: 'controls' }, h('label', {}, 'sweep ', sweepSel), xSel, h('label', { class: 'toggle' }, logBox, ' log scale')),
    about, table, charts.el);
  el.hidden = true;
  el.dataset.section = 'sweeps';
  root.append(el);

  let sweeps: SweepListing[] = [];
  const refresh = async (): Promise<void> => {
    sweeps = await getJson<SweepListing[]>(API.sweeps);
    el.hidden = sweeps.length === 0;
    if (sweeps.length === 0) return;
    const keep = sweepSel.value;
    clear(sweepSel);
    for (const s of sweeps) sweepSel.append(h('option', { value: s.name }, s.name));
    sweepSel.value = sweeps.some((s) => s.name === keep) ? keep : sweeps[0]!.name;
    const sweep = sweeps.find((s) => s.name === sweepSel.value)!;
    about.textContent = `${sweep.description}: ${sweep.finished} of ${sweep.runs} runs ended${sweep.complete ? '' : ' (running or stopped)'}; ` +
      `learned means below ${sweep.summary[0]?.threshold ?? '?'} bit errors per sequence.`;
    const colors = sweep.summary.map((_, i) => PALETTE[i % PALETTE.length]!);
    clear(tbody);
    sweep.summary.forEach((row, i) => {
      const swatch = h('span', { class: 'swatch' });
      swatch.style.background = colors[i]!;
      tbody.append(h('tr', {}, h('td', {}, swatch), h('td', { class: 'name' }, row.combo),
        h('td', {}, `${row.learned} / ${row.seeds}${row.failed > 0 ? ` (${row.failed} failed)` : ''}`),
        h('td', {}, spreadText(row.steps, 0)), h('td', {}, spreadText(row.seconds, 1))));
    });
    const curves = await getJson<SweepCurves[]>(sweepPath(sweep.name, 'curves', xSel.value as 'step' | 'time'));
    // a combination's colour is its row's in the table
    const byCombo = new Map(sweep.summary.map((r, i) => [r.combo, colors[i]!]));
    charts.update(curves, curves.map((c, i) => byCombo.get(c.combo) ?? PALETTE[i % PALETTE.length]!), xSel.value as 'step' | 'time', logBox.checked);
  };

  await refresh();
  setInterval(() => {
    if (!document.hidden) void refresh().catch(() => undefined);
  }, REFRESH_MS);
}
