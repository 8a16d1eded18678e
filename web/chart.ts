/**
 * @file A line chart on uPlot: several curves over one x axis (nulls where a curve has no
 * point), a log scale on demand, zoom by dragging (double-click resets), and PNG / SVG export.
 */
import uPlot from 'uplot';
import { canvasToPng, escapeXml, exportButtons, fmtTick, h } from './dom.js';

export interface Curve {
  readonly label: string;
  readonly color: string;
  readonly dash?: number[];
  /** 'y' (left axis, default) or 'y2' (right axis) */
  readonly scale?: 'y' | 'y2';
  readonly points?: boolean;
  readonly width?: number;
}

export interface ChartOptions {
  /** the figure's id for tests and file names */
  readonly name: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** label of the right axis, when a curve uses 'y2' */
  readonly y2Label?: string;
  readonly height?: number;
  /** fixed range of the left axis (gates: [0, 1]) */
  readonly yRange?: readonly [number, number];
  /** x is a time step: ticks on whole numbers only */
  readonly integerX?: boolean;
}

type Column = (number | null)[];

/** Merges curves with their own x values onto one sorted x axis, null where a curve has no point. */
export function joinCurves(curves: readonly { x: readonly number[]; y: readonly (number | null)[] }[]): [number[], Column[]] {
  const xs = [...new Set(curves.flatMap((c) => c.x))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = curves.map((c) => {
    const col: Column = new Array<number | null>(xs.length).fill(null);
    c.x.forEach((x, i) => (col[index.get(x)!] = c.y[i] ?? null));
    return col;
  });
  return [xs, ys];
}

/** Tick spacings for whole-number axes (steps, time steps): 1, 2, 5, 10, … */
const WHOLE_INCREMENTS = Array.from({ length: 24 }, (_, i) => [1, 2, 5][i % 3]! * 10 ** Math.floor(i / 3));

/**
 * Tick labels with enough digits to tell neighbours apart, on linear and log axes alike:
 * uPlot's own keep at most 3 decimals, so 0.0145 reads 0.015 and a log axis's 1e-4 reads "0".
 * (uPlot's log-axis filter still decides which ticks get a label: it passes the rest as null.)
 */
const tickLabels = (_u: uPlot, splits: (number | null)[]): string[] => splits.map((v) => (v === null || v === undefined ? '' : fmtTick(v)));

interface AxisState {
  _splits?: number[];
  _values?: (string | null)[];
}

export class Chart {
  readonly el: HTMLElement;
  private readonly host: HTMLElement;
  private u: uPlot | null = null;
  private curves: readonly Curve[] = [];
  private x: number[] = [];
  private ys: Column[] = [];
  private log = false;
  private width = 0;
  private xLabel: string;
  /** the reader dragged out a range: live updates keep it until a double-click */
  private zoomed = false;
  private integerX: boolean;

  constructor(readonly opts: ChartOptions, curves: readonly Curve[]) {
    this.curves = curves;
    this.xLabel = opts.xLabel;
    this.integerX = opts.integerX ?? false;
    this.host = h('div', { class: 'chart-host' });
    this.el = h('figure', { class: 'figure chart', 'data-chart': opts.name, 'data-points': '0' },
      h('figcaption', {}, h('span', { class: 'title' }, opts.title),
        exportButtons(() => opts.title, () => this.png(), () => this.svg())),
      this.host);
    new ResizeObserver(() => {
      const w = Math.floor(this.host.clientWidth);
      if (w > 0 && w !== this.width) {
        this.width = w;
        if (this.u) this.u.setSize({ width: w, height: this.height() });
        else this.build();
      }
    }).observe(this.host);
  }

  /** Replaces the curves (the runs shown changed). */
  setCurves(curves: readonly Curve[], x: number[], ys: Column[], xLabel = this.xLabel, integerX = this.integerX): void {
    this.curves = curves;
    this.xLabel = xLabel;
    this.integerX = integerX;
    this.x = x;
    this.ys = ys;
    this.rebuild();
  }

  setData(x: number[], ys: Column[]): void {
    this.x = x;
    this.ys = ys;
    this.el.dataset.points = String(ys.reduce((n, col) => n + col.filter((v) => v !== null).length, 0));
    if (!this.u) return;
    if (this.log && !this.hasPositive()) return this.rebuild(); // nothing a log axis can show yet
    this.u.setData(this.aligned(), !this.zoomed); // a live update keeps the reader's zoom
  }

  setLog(on: boolean): void {
    if (on === this.log) return;
    this.log = on;
    this.rebuild();
  }

  private height(): number {
    return this.opts.height ?? 240;
  }

  private hasPositive(): boolean {
    return this.ys.some((col, i) => (this.curves[i]?.scale ?? 'y') === 'y' && col.some((v) => v !== null && v > 0));
  }

  private logActive(): boolean {
    return this.log && this.hasPositive();
  }

  private aligned(): uPlot.AlignedData {
    const log = this.logActive();
    const ys = this.ys.map((col, i) =>
      log && (this.curves[i]?.scale ?? 'y') === 'y' ? col.map((v) => (v !== null && v > 0 ? v : null)) : col,
    );
    return [this.x, ...ys] as uPlot.AlignedData;
  }

  private rebuild(): void {
    this.el.dataset.points = String(this.ys.reduce((n, col) => n + col.filter((v) => v !== null).length, 0));
    this.el.dataset.x = this.xLabel; // what x is, for tests
    if (this.u) {
      this.u.destroy();
      this.u = null;
    }
    if (this.width > 0) this.build();
  }

  private build(): void {
    const o = this.opts;
    const log = this.logActive();
    const axis = { stroke: '#555', grid: { stroke: '#eee', width: 1 }, ticks: { stroke: '#ccc', width: 1 }, font: '11px system-ui, sans-serif', labelFont: '11px system-ui, sans-serif' };
    const useY2 = this.curves.some((c) => c.scale === 'y2');
    const opts: uPlot.Options = {
      width: this.width,
      height: this.height(),
      scales: {
        x: { time: false },
        y: log ? { distr: 3, log: 10 } : o.yRange ? { auto: false, range: [o.yRange[0], o.yRange[1]] } : {},
        ...(useY2 ? { y2: {} } : {}),
      },
      axes: [
        { ...axis, label: this.xLabel, size: 36, ...(this.integerX ? { incrs: WHOLE_INCREMENTS } : {}) },
        { ...axis, label: o.yLabel + (log ? ' (log)' : ''), size: 56, values: tickLabels },
        ...(useY2 ? [{ ...axis, label: o.y2Label ?? '', scale: 'y2', side: 1, size: 50, grid: { show: false }, values: tickLabels }] : []),
      ],
      series: [
        { label: this.xLabel },
        ...this.curves.map((c) => ({
          label: c.label,
          stroke: c.color,
          width: c.width ?? 1.6,
          dash: c.dash,
          scale: c.scale ?? 'y',
          spanGaps: true,
          points: { show: c.points ?? false, size: c.width ? 6 : 4 },
        })),
      ],
      cursor: { drag: { x: true, y: false } },
      hooks: { setSelect: [(u: uPlot) => void (u.select.width > 0 && (this.zoomed = true))] },
      legend: { live: true },
    };
    this.zoomed = false;
    this.u = new uPlot(opts, this.aligned(), this.host);
    this.u.over.addEventListener('dblclick', () => (this.zoomed = false));
  }

  private png(): Promise<Blob> {
    const u = this.u;
    if (!u) return Promise.reject(new Error('chart not drawn yet'));
    const rows = this.curves.length;
    return canvasToPng(u.ctx.canvas, this.opts.title, {
      height: 8 + 16 * rows,
      draw: (g, y) => {
        g.font = '11px system-ui, sans-serif';
        this.curves.forEach((c, i) => {
          g.fillStyle = c.color;
          g.fillRect(12, y + 8 + 16 * i, 14, 3);
          g.fillStyle = '#333';
          g.fillText(c.label, 32, y + 10 + 16 * i);
        });
      },
    });
  }

  /** The chart as vector graphics: uPlot's own axis ticks and scales, curves as paths. */
  svg(): string {
    const u = this.u;
    if (!u) return '<svg xmlns="http://www.w3.org/2000/svg"/>';
    const dpr = uPlot.pxRatio;
    const bx = u.bbox.left / dpr, by = u.bbox.top / dpr, bw = u.bbox.width / dpr, bh = u.bbox.height / dpr;
    const head = 22, legend = 8 + 16 * this.curves.length;
    const W = u.width, H = u.height + head + legend;
    const out: string[] = [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="system-ui, sans-serif" font-size="11">`,
      `<rect width="100%" height="100%" fill="#fff"/>`,
      `<text x="8" y="15" font-size="12" font-weight="600">${escapeXml(this.opts.title)}</text>`,
      `<g transform="translate(0 ${head})">`,
    ];
    const f = (v: number): string => v.toFixed(1);
    u.axes.forEach((a, i) => {
      const st = a as unknown as AxisState;
      const scale = i === 0 ? 'x' : (a.scale ?? 'y');
      const splits = st._splits ?? [], values = st._values ?? [];
      splits.forEach((v, k) => {
        if (values[k] === null || values[k] === undefined) return;
        const p = u.valToPos(v, scale);
        if (!Number.isFinite(p)) return;
        if (i === 0) {
          out.push(`<line x1="${f(bx + p)}" y1="${f(by)}" x2="${f(bx + p)}" y2="${f(by + bh)}" stroke="#eee"/>`);
          out.push(`<text x="${f(bx + p)}" y="${f(by + bh + 14)}" text-anchor="middle" fill="#555">${escapeXml(String(values[k]))}</text>`);
        } else {
          const right = a.side === 1;
          if (!right) out.push(`<line x1="${f(bx)}" y1="${f(by + p)}" x2="${f(bx + bw)}" y2="${f(by + p)}" stroke="#eee"/>`);
          out.push(`<text x="${f(right ? bx + bw + 6 : bx - 6)}" y="${f(by + p + 4)}" text-anchor="${right ? 'start' : 'end'}" fill="#555">${escapeXml(String(values[k]))}</text>`);
        }
      });
    });
    out.push(`<rect x="${f(bx)}" y="${f(by)}" width="${f(bw)}" height="${f(bh)}" fill="none" stroke="#bbb"/>`);
    out.push(`<text x="${f(bx + bw / 2)}" y="${f(by + bh + 30)}" text-anchor="middle" fill="#333">${escapeXml(this.xLabel)}</text>`);
    out.push(`<text transform="translate(12 ${f(by + bh / 2)}) rotate(-90)" text-anchor="middle" fill="#333">${escapeXml(String(u.axes[1]?.label ?? ''))}</text>`);
    out.push(`<clipPath id="plot"><rect x="${f(bx)}" y="${f(by)}" width="${f(bw)}" height="${f(bh)}"/></clipPath><g clip-path="url(#plot)">`);
    const data = u.data;
    this.curves.forEach((c, i) => {
      const scale = c.scale ?? 'y';
      const ys = data[i + 1] as (number | null | undefined)[];
      let d = '';
      const dots: string[] = [];
      (data[0] as number[]).forEach((x, k) => {
        const y = ys[k];
        if (y === null || y === undefined) return; // spanGaps: the line goes on past a gap
        const px = bx + u.valToPos(x, 'x'), py = by + u.valToPos(y, scale);
        if (!Number.isFinite(px) || !Number.isFinite(py)) return;
        d += `${d ? 'L' : 'M'}${f(px)} ${f(py)}`;
        if (c.points) dots.push(`<circle cx="${f(px)}" cy="${f(py)}" r="${c.width ? 2.5 : 2}" fill="#fff" stroke="${c.color}"/>`);
      });
      if (d) out.push(`<path d="${d}" fill="none" stroke="${c.color}" stroke-width="${c.width ?? 1.6}"${c.dash ? ` stroke-dasharray="${c.dash.join(' ')}"` : ''}/>`);
      out.push(...dots);
    });
    out.push('</g>');
    this.curves.forEach((c, i) => {
      const y = u.height + 12 + 16 * i;
      out.push(`<rect x="12" y="${y - 4}" width="14" height="3" fill="${c.color}"/>`);
      out.push(`<text x="32" y="${y}" fill="#333">${escapeXml(c.label)}</text>`);
    });
    out.push('</g></svg>');
    return out.join('\n');
  }
}
