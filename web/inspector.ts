/**
 * @file The memory inspector: one sample through the model, step by step. Input, target
 * and output bit grids; each head's weighting over slots × time; the memory at the chosen
 * step; for the NTM each head's gate, shift and sharpening; for the DNC usage, allocation,
 * gates, read modes and the temporal link matrix; for the LSTM baseline (no memory) the bit
 * grids alone. A slider (or ← →) picks the step, as the reference's test mode did one
 * keypress per step.
 */
import type { Inspection, Series } from '../src/server/protocol.js';
import { Chart, type ChartOptions, type Curve } from './chart.js';
import { PALETTE } from './colors.js';
import { clear, h } from './dom.js';
import { Heatmap, type HeatmapSpec } from './heatmap.js';

/** A [T, K] series as K rows × T columns. */
function overTime(s: Series): { rows: number; cols: number; values: number[] } {
  const T = s.shape[0]!, K = s.shape[1] ?? 1;
  const values = new Array<number>(T * K);
  for (let t = 0; t < T; t++) for (let k = 0; k < K; k++) values[k * T + t] = s.data[t * K + k]!;
  return { rows: K, cols: T, values };
}

/** Step t of a [T, ...rest] series, flattened. */
function at(s: Series, t: number): number[] {
  const k = s.shape.slice(1).reduce((a, b) => a * b, 1);
  return s.data.slice(t * k, (t + 1) * k) as number[];
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

export class Inspector {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly slider: HTMLInputElement;
  private readonly stepLabel: HTMLElement;
  private readonly playButton: HTMLButtonElement;
  private insp: Inspection | null = null;
  private t = 0;
  private timeMaps: Heatmap[] = [];
  private stepMaps: { map: Heatmap; spec: (t: number) => HeatmapSpec }[] = [];
  private timer: number | null = null;
  /** shapes of the inspection shown, and its figures by name, for redrawing in place */
  private key = '';
  private figures = new Map<string, unknown>();

  constructor(controls?: HTMLElement) {
    this.summary = h('div', { class: 'summary' }, 'waiting for the first evaluation…');
    this.slider = h('input', { type: 'range', min: '0', max: '0', value: '0', class: 'slider', 'aria-label': 'time step', oninput: () => this.setT(Number(this.slider.value)) });
    this.stepLabel = h('span', { class: 'step-label', 'data-inspector-t': '0' }, 't = 0');
    this.playButton = h('button', { type: 'button', onclick: () => this.togglePlay() }, '▶ play');
    const bar = h('div', { class: 'timebar' },
      h('button', { type: 'button', title: 'previous step (←)', onclick: () => this.setT(this.t - 1) }, '◀'),
      this.slider,
      h('button', { type: 'button', title: 'next step (→)', onclick: () => this.setT(this.t + 1) }, '▶'),
      this.stepLabel, this.playButton,
      h('span', { class: 'hint' }, '← → step · click a column to jump'));
    this.body = h('div', { class: 'inspector-body' });
    this.el = h('section', { class: 'panel inspector', 'data-inspector': '' },
      h('h2', {}, 'Memory inspector'), controls ?? null, this.summary, bar, this.body);
    document.addEventListener('keydown', (ev) => {
      const tag = (ev.target as HTMLElement | null)?.tagName;
      if (tag === 'INPUT' && (ev.target as HTMLInputElement).type !== 'range' || tag === 'SELECT' || tag === 'TEXTAREA') return;
      if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft') {
        if (tag === 'INPUT') return; // the slider moves itself
        this.setT(this.t + (ev.key === 'ArrowRight' ? 1 : -1));
        ev.preventDefault();
      }
    });
  }

  setT(t: number): void {
    if (!this.insp) return;
    this.t = Math.max(0, Math.min(this.insp.T - 1, t));
    this.slider.value = String(this.t);
    this.stepLabel.textContent = `t = ${this.t} / ${this.insp.T - 1}`;
    this.stepLabel.dataset.inspectorT = String(this.t);
    for (const m of this.timeMaps) m.setCursor(this.t);
    for (const s of this.stepMaps) s.map.update(s.spec(this.t));
  }

  private togglePlay(): void {
    if (this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
      this.playButton.textContent = '▶ play';
      return;
    }
    this.playButton.textContent = '❚❚ pause';
    this.timer = window.setInterval(() => this.setT(this.insp && this.t >= this.insp.T - 1 ? 0 : this.t + 1), 350);
  }

  /**
   * Shows a new inspection. One with the same shapes as the last (the next evaluation of the
   * same sample) redraws the figures in place, so the page neither flickers nor scrolls.
   */
  show(insp: Inspection): void {
    const key = JSON.stringify([insp.model, insp.T, insp.N, insp.W, insp.X, insp.Y, insp.writeWeights.length, insp.readWeights.length, insp.dnc?.link === null]);
    const reuse = key === this.key;
    this.key = key;
    this.insp = insp;
    const old = this.figures;
    this.figures = new Map();
    this.timeMaps = [];
    this.stepMaps = [];
    if (!reuse) clear(this.body);
    const { T, N, W } = insp;
    this.slider.max = String(T - 1);
    let errors = 0;
    for (let t = 0; t < T; t++) {
      if (!insp.mask.data[t]) continue;
      for (let y = 0; y < insp.Y; y++) if ((insp.output.data[t * insp.Y + y]! > 0.5 ? 1 : 0) !== insp.target.data[t * insp.Y + y]) errors++;
    }
    this.summary.textContent = `${insp.model.toUpperCase()} · ${insp.title} · ${insp.words} ${insp.lengthName ?? 'words'}, T = ${T} steps · ` +
      `${insp.ntm || insp.dnc ? `memory ${N} × ${W}` : 'no memory'} · ${errors} wrong output bit${errors === 1 ? '' : 's'}`;
    const pick = (c: number): void => this.setT(c);
    const figure = <F>(name: string, make: () => F): F => {
      const f = (reuse ? (old.get(name) as F | undefined) : undefined) ?? make();
      this.figures.set(name, f);
      return f;
    };
    const timeMap = (name: string, spec: HeatmapSpec, maxH = 200, maxW = 380): Heatmap => {
      const m = figure(name, () => new Heatmap(name, maxW, maxH, pick));
      m.update(spec);
      this.timeMaps.push(m);
      return m;
    };
    /** @returns the chart's box (made once: on a redraw in place, group() below appends nothing) */
    const chart = (opts: ChartOptions, curves: Curve[], ys: number[][], wide = false): HTMLElement => {
      const f = figure(`chart:${opts.name}`, () => {
        const c = new Chart(opts, curves);
        return { c, box: h('div', { class: wide ? 'chart-box wide' : 'chart-box' }, c.el) };
      });
      f.c.setData(range(T), ys);
      return f.box;
    };
    const group = (title: string, ...figs: HTMLElement[]): void => {
      if (reuse) return; // the figures are on the page already
      this.body.append(h('div', { class: 'group' }, h('h3', {}, title), h('div', { class: 'figures' }, ...figs)));
    };

    // the sequence: input, target, output over time
    const mask = (c: number): boolean => !insp.mask.data[c];
    const inp = overTime(insp.input), tgt = overTime(insp.target), out = overTime(insp.output);
    group('Sequence',
      timeMap('input', { title: 'input x', ...inp, rowLabel: 'channel', colLabel: 't', range: [0, 1], colormap: 'gray', timeCols: true }, 120, 300).el,
      timeMap('target', { title: 'target y', ...tgt, rowLabel: 'bit', colLabel: 't', range: [0, 1], colormap: 'gray', blank: (_r, c) => mask(c), timeCols: true }, 120, 300).el,
      timeMap('output', {
        title: 'output σ(logits) (red: wrong bit)', ...out, rowLabel: 'bit', colLabel: 't', range: [0, 1], colormap: 'gray', timeCols: true,
        blank: (_r, c) => mask(c),
        marked: (r, c) => !mask(c) && (out.values[r * T + c]! > 0.5 ? 1 : 0) !== tgt.values[r * T + c],
      }, 120, 300).el);

    // head weightings over slots × time
    const heads = [
      ...insp.writeWeights.map((s, i) => ({ name: `write-${i}`, title: `write weighting w^w (head ${i})`, s })),
      ...insp.readWeights.map((s, i) => ({ name: `read-${i}`, title: `read weighting w^r (head ${i})`, s })),
    ];
    if (heads.length > 0) group('Head weightings (slot × time)', ...heads.map((hd) =>
      timeMap(hd.name, { title: hd.title, ...overTime(hd.s), rowLabel: 'slot', colLabel: 't', range: [0, 1], colormap: 'viridis', timeCols: true }).el));

    // memory (and the DNC's links) at the chosen step
    const stepMap = (name: string, maxW: number, maxH: number, spec: (t: number) => HeatmapSpec): HTMLElement => {
      const m = figure(name, () => new Heatmap(name, maxW, maxH));
      this.stepMaps.push({ map: m, spec });
      m.update(spec(Math.min(this.t, T - 1)));
      return m.el;
    };
    // (made only for a model with memory: the LSTM baseline has none)
    const memoryFigure = (): HTMLElement => stepMap('memory', 300, 260, (t) => ({
      title: `memory M_t at t = ${t}`, rows: N, cols: W, values: at(insp.memory, t), rowLabel: 'slot', colLabel: 'element',
      range: 'symmetric', colormap: 'diverging',
    }));

    if (insp.ntm) {
      group('Memory at the chosen step', memoryFigure());
      for (const hs of insp.ntm.heads) {
        const S = hs.shift.shape[1] ?? 1, R = (S - 1) / 2;
        const shift = timeMap(`shift-${hs.head.replace(' ', '-')}`, {
          title: `shift s (${hs.head})`, ...overTime(hs.shift), rowLabel: 'offset', colLabel: 't',
          rowNames: range(S).map((k) => (k - R > 0 ? `+${k - R}` : String(k - R))), range: [0, 1], colormap: 'viridis', timeCols: true,
        }, 90);
        const gates = chart(
          { name: `gates-${hs.head.replace(' ', '-')}`, title: `gate g, sharpening γ, strength β (${hs.head})`, xLabel: 't', yLabel: 'g', y2Label: 'γ, β', height: 180, yRange: [0, 1], integerX: true },
          [
            { label: 'gate g', color: PALETTE[0]!, points: true },
            { label: 'sharpening γ', color: PALETTE[1]!, scale: 'y2', points: true },
            { label: 'key strength β', color: PALETTE[4]!, scale: 'y2', dash: [4, 3] },
          ],
          [hs.gate.data as number[], hs.gamma.data as number[], hs.beta.data as number[]],
        );
        group(`Addressing: ${hs.head} head`, shift.el, gates);
      }
    }
    if (insp.dnc) {
      const d = insp.dnc;
      const Wh = d.writeHeads.length;
      const links = d.link
        ? range(Wh).map((hh) => stepMap(`link-${hh}`, 260, 260, (t) => ({
          title: `temporal link L_t at t = ${t} (write head ${hh})`, rows: N, cols: N,
          values: at(d.link!, t).slice(hh * N * N, (hh + 1) * N * N), rowLabel: 'slot i (written after)', colLabel: 'slot j',
          range: [0, 1], colormap: 'viridis',
        })))
        : [h('p', { class: 'note' }, 'The link matrix is too large to send for this memory size.')];
      group('Memory and temporal links at the chosen step', memoryFigure(), ...links);
      group('Memory management (slot × time)',
        timeMap('usage', { title: 'usage u', ...overTime(d.usage), rowLabel: 'slot', colLabel: 't', range: [0, 1], colormap: 'viridis', timeCols: true }).el,
        ...d.writeHeads.map((w, hh) => timeMap(`allocation-${hh}`, {
          title: `allocation a (${w.head})`, ...overTime(w.allocation), rowLabel: 'slot', colLabel: 't', range: [0, 1], colormap: 'viridis', timeCols: true,
        }).el));
      const gates = chart(
        { name: 'dnc-gates', title: 'write, allocation and free gates', xLabel: 't', yLabel: 'gate', height: 200, yRange: [0, 1], integerX: true },
        [
          ...d.writeHeads.flatMap((w, hh) => [
            { label: `write gate g^w (${w.head})`, color: PALETTE[(2 * hh) % 10]!, points: true },
            { label: `allocation gate g^a (${w.head})`, color: PALETTE[(2 * hh + 1) % 10]!, dash: [4, 3] },
          ]),
          ...d.readHeads.map((r, i) => ({ label: `free gate f (${r.head})`, color: PALETTE[(2 * Wh + i) % 10]!, dash: [1, 3] })),
        ],
        [
          ...d.writeHeads.flatMap((w) => [w.writeGate.data as number[], w.allocGate.data as number[]]),
          ...d.readHeads.map((r) => r.free.data as number[]),
        ],
        true,
      );
      group('Gates', gates);
      group('Read modes π (backward, forward, content)', ...d.readHeads.map((r, i) => timeMap(`modes-${i}`, {
        title: `read modes (${r.head})`, ...overTime(r.modes), rowLabel: 'mode', colLabel: 't', rowNames: d.modeNames,
        range: [0, 1], colormap: 'viridis', timeCols: true,
      }, 90).el));
    }
    this.setT(Math.min(this.t, T - 1));
  }
}
