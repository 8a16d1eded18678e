/**
 * @file The past-runs view of `engram dashboard --runs DIR`: a table of the runs, their
 * curves laid side by side (pick runs, x by step or by training time, log scale), and the
 * memory inspector on any run's checkpoint. Refreshes every few seconds, so runs still
 * training elsewhere grow on the page.
 */
import { API, runPath, type GeneralisationRecord, type Inspection, type MetricRecord, type RunSummary, type ServerInfo } from '../src/server/protocol.js';
import { PALETTE } from './colors.js';
import { CompareCharts, GeneralisationChart } from './curves.js';
import { clear, fmtDuration, fmtNum, h, section } from './dom.js';
import { Inspector } from './inspector.js';
import { sweepsView } from './sweeps.js';

const REFRESH_MS = 5000;
/** runs ticked at first: the most recently evaluated */
const FIRST_SELECTED = 4;

/** Newest first (the last evaluation or test), then by name. */
const byRecency = (a: RunSummary, b: RunSummary): number => (b.updated ?? -Infinity) - (a.updated ?? -Infinity) || a.name.localeCompare(b.name);

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url, { cache: 'no-store' });
  if (!r.ok) {
    const body = (await r.json().catch(() => ({}))) as { error?: string };
    throw new Error(body.error ?? `${r.status} ${r.statusText}`);
  }
  return (await r.json()) as T;
}

export async function runsView(root: HTMLElement, info: ServerInfo): Promise<void> {
  root.append(h('header', {}, h('h1', {}, 'engram', h('span', { class: 'mode' }, 'runs')), h('span', { class: 'run-name' }, info.title)));
  const tbody = h('tbody');
  const table = h('table', { class: 'runs' },
    h('thead', {}, h('tr', {}, ...['', 'run', 'model', 'task', 'steps', 'eval loss', 'bits/seq', 'bit errors/seq', 'time', ''].map((t) => h('th', {}, t)))),
    tbody);
  const empty = h('p', { class: 'note' });
  root.append(section('Runs', table, empty));
  await sweepsView(root);

  const xSel = h('select', { onchange: () => void draw() },
    h('option', { value: 'step' }, 'x: step'), h('option', { value: 'elapsedSec' }, 'x: training time (s)'));
  const logBox = h('input', { type: 'checkbox', onchange: () => void draw() });
  const compare = new CompareCharts();
  root.append(section('Curves side by side', h('div', { class: 'controls' }, xSel, h('label', { class: 'toggle' }, logBox, ' log scale')), compare.el));
  const genChart = new GeneralisationChart();
  const genNote = h('p', { class: 'note' });
  const genSection = section('Generalisation', genNote, genChart.el);
  root.append(genSection);

  const runSel = h('select', { 'aria-label': 'run to inspect' });
  const seedIn = h('input', { type: 'number', min: '0', value: '0', class: 'num', 'aria-label': 'sample seed' });
  const lenIn = h('input', { type: 'number', min: '1', max: '256', placeholder: 'any', class: 'num', 'aria-label': 'length' });
  const msg = h('span', { class: 'note' });
  const inspectBtn = h('button', { type: 'button', 'data-action': 'inspect', onclick: () => void inspect() }, 'inspect');
  const controls = h('div', { class: 'controls' }, h('label', {}, 'run ', runSel), h('label', {}, 'sample ', seedIn),
    h('label', {}, 'length ', lenIn), inspectBtn, msg);
  const inspector = new Inspector(controls);
  root.append(inspector.el);

  let runs: RunSummary[] = [];
  const selected = new Set<string>();
  const colors = new Map<string, string>();
  const metrics = new Map<string, MetricRecord[]>();
  const generalisation = new Map<string, GeneralisationRecord>();
  let first = true;

  const colorOf = (name: string): string => {
    if (!colors.has(name)) colors.set(name, PALETTE[colors.size % PALETTE.length]!);
    return colors.get(name)!;
  };

  const renderTable = (): void => {
    clear(tbody);
    for (const r of runs) {
      const box = h('input', {
        type: 'checkbox', 'data-run': r.name, checked: selected.has(r.name), 'aria-label': `show ${r.name}`,
        onchange: () => {
          if (box.checked) selected.add(r.name);
          else selected.delete(r.name);
          void refreshMetrics().then(draw);
        },
      });
      const swatch = h('span', { class: 'swatch' });
      swatch.style.background = colorOf(r.name);
      tbody.append(h('tr', {},
        h('td', {}, box, swatch),
        h('td', { class: 'name', title: r.description }, r.name, r.live ? h('span', { class: 'badge' }, 'live') : null),
        h('td', {}, r.model), h('td', {}, r.task),
        h('td', {}, `${r.last?.step ?? 0} / ${r.totalSteps}`),
        h('td', {}, fmtNum(r.last?.loss)), h('td', {}, fmtNum(r.last?.bitsPerSeq)), h('td', {}, fmtNum(r.last?.bitErrorsPerSeq)),
        h('td', {}, fmtDuration(r.last?.elapsedSec ?? null)),
        h('td', {}, h('button', { type: 'button', disabled: !r.hasCheckpoint, onclick: () => { runSel.value = r.name; void inspect(); } }, 'inspect'))));
    }
    empty.textContent = runs.length === 0 ? 'No run directories here yet (a run directory holds a config.json; the runs of a sweep are shown under Sweeps).' : '';
    const keep = runSel.value;
    clear(runSel);
    for (const r of runs.filter((x) => x.hasCheckpoint)) runSel.append(h('option', { value: r.name }, r.name));
    if (keep && runs.some((r) => r.name === keep)) runSel.value = keep;
  };

  const refreshMetrics = async (): Promise<void> => {
    await Promise.all([...selected].map(async (name) => {
      try {
        metrics.set(name, await getJson<MetricRecord[]>(runPath(name, 'metrics')));
      } catch {
        metrics.delete(name);
      }
      try {
        const g = await getJson<GeneralisationRecord | null>(runPath(name, 'generalisation'));
        if (g !== null && g.rows.length > 0) generalisation.set(name, g);
        else generalisation.delete(name);
      } catch {
        generalisation.delete(name);
      }
    }));
  };

  const draw = (): void => {
    const shown = runs.filter((r) => selected.has(r.name) && metrics.has(r.name))
      .map((r) => ({ name: r.name, color: colorOf(r.name), evals: metrics.get(r.name)! }));
    compare.update(shown, xSel.value as 'step' | 'elapsedSec', logBox.checked);
    const gen = runs.filter((r) => selected.has(r.name) && generalisation.has(r.name))
      .map((r) => ({ name: r.name, color: colorOf(r.name), record: generalisation.get(r.name)! }));
    genChart.update(gen, logBox.checked);
    genNote.textContent = gen.length === 0
      ? 'None of the ticked runs has a generalisation test yet: engram test --run-dir DIR --lengths 10,20,40,80 records one.'
      : `The last engram test --lengths of each ticked run (${gen.map((g) => `${g.name} at step ${g.record.step}`).join('; ')}).`;
  };

  const inspect = async (): Promise<void> => {
    const name = runSel.value;
    if (!name) return;
    const q = new URLSearchParams({ seed: seedIn.value || '0' });
    if (lenIn.value) q.set('length', lenIn.value);
    msg.textContent = 'running the sample…';
    try {
      inspector.show(await getJson<Inspection>(`${runPath(name, 'inspect')}?${q}`));
      msg.textContent = '';
    } catch (err) {
      msg.textContent = `cannot inspect ${name}: ${(err as Error).message}`;
    }
  };

  const refresh = async (): Promise<void> => {
    runs = await getJson<RunSummary[]>(API.runs);
    const names = new Set(runs.map((r) => r.name));
    for (const s of [...selected]) if (!names.has(s)) selected.delete(s);
    if (first) {
      for (const r of runs.filter((x) => x.evaluations > 0).sort(byRecency).slice(0, FIRST_SELECTED)) selected.add(r.name);
    }
    renderTable();
    await refreshMetrics();
    draw();
    if (first) {
      first = false;
      const withCkpt = runs.filter((r) => r.hasCheckpoint).sort(byRecency);
      if (withCkpt.length > 0) {
        runSel.value = withCkpt[0]!.name;
        await inspect();
      }
    }
  };

  await refresh();
  setInterval(() => {
    if (!document.hidden) void refresh().catch(() => undefined);
  }, REFRESH_MS);
}
