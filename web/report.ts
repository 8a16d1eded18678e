/**
 * @file The view of a report written by `engram test --report`: everything comes from the
 * JSON element in the file itself, so it works offline with no server.
 */
import type { ReportData } from '../src/server/protocol.js';
import { GeneralisationChart, RunCharts } from './curves.js';
import { PALETTE } from './colors.js';
import { card, fmtNum, h, section } from './dom.js';
import { Inspector } from './inspector.js';

export function reportView(root: HTMLElement, data: ReportData): void {
  root.append(h('header', {}, h('h1', {}, 'engram', h('span', { class: 'mode' }, 'report')), h('span', { class: 'run-name' }, data.title)));
  if (data.run) root.append(h('div', { class: 'run-desc' }, `${data.run.model.toUpperCase()} on ${data.run.task}: ${data.run.description}`));
  const cards = h('div', { class: 'cards' });
  const t = data.test;
  card('test batches', cards).textContent = `${t.batches}${t.length ? ` × ${t.length} ${data.generalisation?.lengthName ?? 'words'}` : ''}`;
  card('loss', cards, 'loss').textContent = fmtNum(t.loss);
  card('bits / seq', cards, 'bits').textContent = fmtNum(t.bitsPerSeq);
  card('bit errors / seq', cards, 'errors').textContent = fmtNum(t.bitErrorsPerSeq);
  root.append(section('Test', cards, h('div', { class: 'note' }, `checkpoint ${t.checkpoint}`)));
  if (data.evals.length > 0) {
    const charts = new RunCharts();
    const logBox = h('input', { type: 'checkbox', onchange: () => charts.setLog(logBox.checked) });
    root.append(section('Training', h('label', { class: 'toggle' }, logBox, ' log scale'), charts.el));
    charts.update(data.evals);
  }
  const g = data.generalisation;
  if (g && g.rows.length > 0) {
    const chart = new GeneralisationChart();
    const head = [g.lengthName, 'repeats', 'bits / seq', 'bit errors / seq', 'bits wrong'];
    const table = h('table', { class: 'runs' }, h('thead', {}, h('tr', {}, ...head.map((x) => h('th', {}, x)))),
      h('tbody', {}, ...g.rows.map((r) => h('tr', {}, h('td', {}, r.length === undefined ? '–' : String(r.length)), h('td', {}, r.repeats === undefined ? '–' : String(r.repeats)),
        h('td', {}, fmtNum(r.bitsPerSeq)), h('td', {}, fmtNum(r.bitErrorsPerSeq)), h('td', {}, `${(100 * r.bitErrorRate).toFixed(2)}%`)))));
    root.append(section('Generalisation', h('div', { class: 'note' }, `engram test --lengths at step ${g.step}, ${g.batches} batches per row`), chart.el, table));
    chart.update([{ name: data.title, color: PALETTE[0]!, record: g }], false);
  }
  const inspector = new Inspector();
  root.append(inspector.el);
  inspector.show(data.inspection);
}
