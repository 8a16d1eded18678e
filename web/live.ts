/**
 * @file The live view of `engram train --dashboard` and of the playground: progress, rate,
 * elapsed and remaining time, the curves as they grow, and the inspector refreshed at each
 * evaluation. Events arrive over Server-Sent Events (the dashboard) or from a function given
 * the view's `apply` (the playground's training worker); drawing happens at most once per
 * animation frame.
 */
import { API, type Inspection, type LiveEvent, type MetricRecord, type Progress, type RunSummary, type ServerInfo } from '../src/server/protocol.js';
import { RunCharts } from './curves.js';
import { card, fmtDuration, fmtNum, h, section } from './dom.js';
import { Inspector } from './inspector.js';

/** Hands each LiveEvent to `apply` as it comes, instead of the server's event stream. */
export type LiveEvents = (apply: (ev: LiveEvent) => void) => void;

export function liveView(root: HTMLElement, info: ServerInfo, events?: LiveEvents): void {
  const status = h('span', { class: 'status', 'data-state': 'connecting' }, 'connecting…');
  const runName = h('span', { class: 'run-name' }, info.title);
  const runDesc = h('div', { class: 'run-desc' });
  // (events given: the page trains the run itself, the playground; else a server's live run)
  root.append(h('header', {}, h('h1', {}, 'engram', h('span', { class: 'mode' }, events ? 'playground' : 'live')), runName, status), runDesc);

  const cards = h('div', { class: 'cards' });
  const bar = h('div', { class: 'progress' }, h('div', { class: 'fill' }));
  const stepEl = card('step', cards, 'step');
  const rateEl = card('steps / s', cards, 'rate');
  const elapsedEl = card('elapsed', cards, 'elapsed');
  const leftEl = card('time left', cards, 'left');
  const lossEl = card('eval loss', cards, 'loss');
  const bitsEl = card('bits / seq', cards, 'bits');
  const errEl = card('bit errors / seq', cards, 'errors');
  const rangeEl = card('range', cards, 'range');
  const logBox = h('input', { type: 'checkbox', id: 'log-scale', onchange: () => charts.setLog(logBox.checked) });
  const charts = new RunCharts();
  root.append(section('Training', cards, bar,
    h('label', { class: 'toggle' }, logBox, ' log scale'), charts.el));
  const inspector = new Inspector();
  root.append(inspector.el);

  let run: RunSummary | null = null;
  let evals: MetricRecord[] = [];
  const train = { steps: [] as number[], loss: [] as number[] };
  let progress: Progress | null = null;
  let inspection: Inspection | null = null;
  let dirty = { curves: false, progress: false, inspection: false };

  const render = (): void => {
    if (dirty.curves) charts.update(evals, train);
    if (dirty.progress && progress) {
      const p = progress;
      stepEl.textContent = `${p.step.toLocaleString()} / ${p.total.toLocaleString()}`;
      stepEl.dataset.step = String(p.step);
      rateEl.textContent = p.stepsPerSec > 0 ? p.stepsPerSec.toFixed(1) : '–';
      elapsedEl.textContent = fmtDuration(p.elapsedSec);
      leftEl.textContent = p.state === 'training' ? fmtDuration(p.etaSec) : p.state;
      (bar.firstChild as HTMLElement).style.width = `${Math.min(100, (100 * p.step) / Math.max(1, p.total))}%`;
      status.dataset.state = p.state;
      status.textContent = p.state === 'training' ? 'training' : p.state === 'done' ? 'training done' : p.state;
    }
    if (dirty.curves) {
      const last = evals[evals.length - 1];
      lossEl.textContent = fmtNum(last?.loss);
      bitsEl.textContent = fmtNum(last?.bitsPerSeq);
      errEl.textContent = fmtNum(last?.bitErrorsPerSeq);
      rangeEl.textContent = last?.range ?? '–';
    }
    if (dirty.inspection && inspection) inspector.show(inspection);
    dirty = { curves: false, progress: false, inspection: false };
  };
  let frame = 0;
  const schedule = (): void => {
    if (frame === 0) frame = requestAnimationFrame(() => {
      frame = 0;
      render();
    });
  };

  const apply = (ev: LiveEvent): void => {
    switch (ev.type) {
      case 'snapshot': {
        run = ev.data.run;
        runName.textContent = run.name;
        runDesc.textContent = `${run.model.toUpperCase()} on ${run.task}: ${run.description}`;
        evals = [...ev.data.evals];
        train.steps = [...ev.data.train.steps];
        train.loss = [...ev.data.train.loss];
        progress = ev.data.progress;
        inspection = ev.data.inspection;
        dirty = { curves: true, progress: true, inspection: inspection !== null };
        break;
      }
      case 'progress':
        progress = ev.data;
        dirty.progress = true;
        break;
      case 'train': {
        // a snapshot may already hold some of these points: keep steps increasing
        const last = train.steps[train.steps.length - 1] ?? -Infinity;
        ev.data.steps.forEach((s, i) => {
          if (s > last) {
            train.steps.push(s);
            train.loss.push(ev.data.loss[i]!);
          }
        });
        dirty.curves = true;
        break;
      }
      case 'trainSeries':
        train.steps = [...ev.data.steps];
        train.loss = [...ev.data.loss];
        dirty.curves = true;
        break;
      case 'eval':
        if (!evals.some((e) => e.step === ev.data.step)) evals.push(ev.data);
        dirty.curves = true;
        break;
      case 'inspection':
        inspection = ev.data;
        dirty.inspection = true;
        break;
    }
    schedule();
  };

  if (events) {
    events(apply);
    return;
  }
  const source = new EventSource(API.events);
  source.onopen = () => {
    if (status.dataset.state === 'connecting' || status.dataset.state === 'disconnected') {
      status.dataset.state = 'connected';
      status.textContent = 'connected';
    }
  };
  source.onmessage = (m: MessageEvent<string>) => apply(JSON.parse(m.data) as LiveEvent);
  source.onerror = () => {
    if (progress?.state === 'training' || progress === null) {
      status.dataset.state = 'disconnected';
      status.textContent = 'disconnected (retrying)';
    } else {
      status.textContent = `${status.textContent?.replace(/ · server closed$/, '')} · server closed`;
    }
  };
}
