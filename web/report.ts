/**
 * @file The view of a report written by `engram test --report`: everything comes from the
 * JSON element in the file itself, so it works offline with no server.
 */
import type { ReportData } from '../src/server/protocol.js';
import { RunCharts } from './curves.js';
import { card, fmtNum, h, section } from './dom.js';
import { Inspector } from './inspector.js';

export function reportView(root: HTMLElement, data: ReportData): void {
  root.append(h('header', {}, h('h1', {}, 'engram', h('span', { class: 'mode' }, 'report')), h('span', { class: 'run-name' }, data.title)));
  if (data.run) root.append(h('div', { class: 'run-desc' }, `${data.run.model.toUpperCase()} on ${data.run.task}: ${data.run.description}`));
  const cards = h('div', { class: 'cards' });
  const t = data.test;
  card('test batches', cards).textContent = `${t.batches}${t.length ? ` × ${t.length} words` : ''}`;
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
  const inspector = new Inspector();
  root.append(inspector.el);
  inspector.show(data.inspection);
}
