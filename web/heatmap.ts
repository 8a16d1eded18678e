/**
 * @file A heatmap on a canvas: rows × cols cells, tick labels, a colour bar, an optional
 * column cursor (the inspector's time step) and outlined cells; hover shows a cell's value,
 * a click picks a column. Saves as PNG (the canvas) or SVG (one rect per cell).
 */
import { colorAt, css, type ColorMap } from './colors.js';
import { canvasToPng, escapeXml, exportButtons, fmtNum, h } from './dom.js';

export interface HeatmapSpec {
  readonly title: string;
  readonly rows: number;
  readonly cols: number;
  /** row-major values, rows × cols */
  readonly values: ArrayLike<number>;
  readonly rowLabel: string;
  readonly colLabel: string;
  /** names for each row (channels, read modes); numbers otherwise */
  readonly rowNames?: readonly string[];
  /** [min, max], or 'symmetric' for ±max|v| */
  readonly range: readonly [number, number] | 'symmetric';
  readonly colormap: ColorMap;
  /** cells drawn with a red outline (wrong output bits) */
  readonly marked?: (r: number, c: number) => boolean;
  /** cells left blank (unscored outputs) */
  readonly blank?: (r: number, c: number) => boolean;
  /** whether the columns are time steps (then the cursor is drawn) */
  readonly timeCols?: boolean;
}

interface Layout {
  cw: number;
  ch: number;
  left: number;
  top: number;
  width: number;
  height: number;
  plotW: number;
  plotH: number;
  lo: number;
  hi: number;
}

const FONT = '10px system-ui, sans-serif';
const BAR = 8;

function layout(s: HeatmapSpec, maxW: number, maxH: number): Layout {
  const names = s.rowNames;
  const left = names ? Math.min(80, 8 + 6 * Math.max(...names.map((n) => n.length))) : 8 + 6 * String(s.rows - 1).length + 6;
  const cw = Math.max(2, Math.min(22, Math.floor(maxW / Math.max(1, s.cols))));
  const ch = Math.max(2, Math.min(22, Math.floor(maxH / Math.max(1, s.rows))));
  const plotW = cw * s.cols, plotH = ch * s.rows;
  let lo: number, hi: number;
  if (s.range === 'symmetric') {
    let m = 0;
    for (let i = 0; i < s.values.length; i++) m = Math.max(m, Math.abs(s.values[i]!));
    hi = m > 0 ? m : 1;
    lo = -hi;
  } else {
    [lo, hi] = s.range;
  }
  return { cw, ch, left, top: 4, width: left + plotW + 12 + BAR + 44, height: 4 + plotH + 18, plotW, plotH, lo, hi };
}

/** Tick positions 0, k, 2k, … spaced at least `minPx` apart. */
function ticks(n: number, px: number, minPx: number): number[] {
  const steps = [1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000];
  const k = steps.find((s) => s * px >= minPx) ?? n;
  const out: number[] = [];
  for (let i = 0; i < n; i += k) out.push(i);
  return out;
}

export class Heatmap {
  readonly el: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly caption: HTMLElement;
  private readonly titleEl: HTMLElement;
  private spec: HeatmapSpec | null = null;
  private lay: Layout | null = null;
  private cursor: number | null = null;

  /**
   * @param name the figure's id for tests and file names (`write-0`, `memory`)
   * @param onPick called with the column clicked (time-column heatmaps)
   */
  constructor(readonly name: string, private readonly maxW = 400, private readonly maxH = 260, private readonly onPick?: (col: number) => void) {
    this.canvas = h('canvas', { class: 'heatmap', 'data-heatmap': name });
    this.caption = h('div', { class: 'caption' }, '\u00a0');
    this.titleEl = h('span', { class: 'title' });
    this.el = h('figure', { class: 'figure' },
      h('figcaption', {}, this.titleEl, exportButtons(() => this.spec?.title ?? name, () => canvasToPng(this.canvas, this.exportTitle()), () => this.svg())),
      this.canvas, this.caption);
    this.canvas.addEventListener('mousemove', (ev) => this.hover(ev));
    this.canvas.addEventListener('mouseleave', () => (this.caption.textContent = '\u00a0'));
    this.canvas.addEventListener('click', (ev) => {
      const cell = this.cellAt(ev);
      if (cell && this.spec?.timeCols && this.onPick) this.onPick(cell[1]);
    });
  }

  update(spec: HeatmapSpec): void {
    if (spec.values.length !== spec.rows * spec.cols) {
      throw new Error(`heatmap ${this.name}: ${spec.values.length} values for ${spec.rows} × ${spec.cols} cells`);
    }
    this.spec = spec;
    this.lay = layout(spec, this.maxW, this.maxH);
    this.titleEl.textContent = spec.title;
    this.canvas.dataset.rows = String(spec.rows);
    this.canvas.dataset.cols = String(spec.cols);
    this.draw();
  }

  setCursor(col: number | null): void {
    this.cursor = col;
    this.draw();
  }

  private draw(): void {
    const s = this.spec, L = this.lay;
    if (!s || !L) return;
    const dpr = window.devicePixelRatio || 1;
    const cv = this.canvas;
    cv.width = Math.round(L.width * dpr);
    cv.height = Math.round(L.height * dpr);
    cv.style.width = `${L.width}px`;
    cv.style.height = `${L.height}px`;
    const g = cv.getContext('2d')!;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.fillStyle = '#fff';
    g.fillRect(0, 0, L.width, L.height);
    const span = L.hi - L.lo || 1;
    for (let r = 0; r < s.rows; r++) {
      for (let c = 0; c < s.cols; c++) {
        const x = L.left + c * L.cw, y = L.top + r * L.ch;
        if (s.blank?.(r, c)) {
          g.fillStyle = '#fff';
        } else {
          g.fillStyle = css(colorAt(s.colormap, (s.values[r * s.cols + c]! - L.lo) / span));
        }
        g.fillRect(x, y, L.cw, L.ch);
      }
    }
    if (s.marked) {
      g.strokeStyle = '#e0201b';
      g.lineWidth = 1.5;
      for (let r = 0; r < s.rows; r++) {
        for (let c = 0; c < s.cols; c++) if (s.marked(r, c)) g.strokeRect(L.left + c * L.cw + 0.75, L.top + r * L.ch + 0.75, L.cw - 1.5, L.ch - 1.5);
      }
    }
    g.strokeStyle = '#999';
    g.lineWidth = 1;
    g.strokeRect(L.left - 0.5, L.top - 0.5, L.plotW + 1, L.plotH + 1);
    if (s.timeCols && this.cursor !== null && this.cursor < s.cols) {
      g.strokeStyle = '#ff2d55';
      g.lineWidth = 2;
      g.strokeRect(L.left + this.cursor * L.cw - 1, L.top - 2, L.cw + 2, L.plotH + 4);
    }
    // tick labels
    g.fillStyle = '#444';
    g.font = FONT;
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    const rowTicks = s.rowNames ? ticks(s.rows, L.ch, 11) : ticks(s.rows, L.ch, 12);
    for (const r of rowTicks) g.fillText(s.rowNames?.[r] ?? String(r), L.left - 4, L.top + (r + 0.5) * L.ch);
    g.textAlign = 'center';
    g.textBaseline = 'top';
    for (const c of ticks(s.cols, L.cw, 18)) g.fillText(String(c), L.left + (c + 0.5) * L.cw, L.top + L.plotH + 4);
    // colour bar
    const bx = L.left + L.plotW + 12, bh = Math.max(20, L.plotH);
    for (let i = 0; i < bh; i++) {
      g.fillStyle = css(colorAt(s.colormap, 1 - i / (bh - 1)));
      g.fillRect(bx, L.top + i, BAR, 1);
    }
    g.fillStyle = '#444';
    g.textAlign = 'left';
    g.textBaseline = 'top';
    g.fillText(fmtNum(L.hi), bx + BAR + 3, L.top);
    g.textBaseline = 'bottom';
    g.fillText(fmtNum(L.lo), bx + BAR + 3, L.top + bh);
  }

  private cellAt(ev: MouseEvent): [number, number] | null {
    const s = this.spec, L = this.lay;
    if (!s || !L) return null;
    const rect = this.canvas.getBoundingClientRect();
    const c = Math.floor((ev.clientX - rect.left - L.left) / L.cw);
    const r = Math.floor((ev.clientY - rect.top - L.top) / L.ch);
    return r >= 0 && r < s.rows && c >= 0 && c < s.cols ? [r, c] : null;
  }

  private hover(ev: MouseEvent): void {
    const cell = this.cellAt(ev), s = this.spec;
    if (!cell || !s) {
      this.caption.textContent = '\u00a0';
      return;
    }
    const [r, c] = cell;
    const row = s.rowNames?.[r] ?? String(r);
    this.caption.textContent = `${s.rowLabel} ${row}, ${s.colLabel} ${c}: ${fmtNum(s.values[r * s.cols + c]!)}`;
  }

  /** The title of a saved picture, which has no page around it: with its axes named. */
  private exportTitle(): string {
    const s = this.spec;
    return s ? `${s.title} · rows: ${s.rowLabel}, columns: ${s.colLabel}` : this.name;
  }

  /** The same picture as vector graphics: one rect per cell. */
  svg(): string {
    const s = this.spec, L = this.lay;
    if (!s || !L) return '<svg xmlns="http://www.w3.org/2000/svg"/>';
    const top = 20, span = L.hi - L.lo || 1;
    const out: string[] = [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.max(L.width, 16 + 7 * this.exportTitle().length)}" height="${L.height + top}" font-family="system-ui, sans-serif" font-size="10">`,
      `<rect width="100%" height="100%" fill="#fff"/>`,
      `<text x="8" y="13" font-size="12" font-weight="600">${escapeXml(this.exportTitle())}</text>`,
      `<g transform="translate(0 ${top})" shape-rendering="crispEdges">`,
    ];
    for (let r = 0; r < s.rows; r++) {
      for (let c = 0; c < s.cols; c++) {
        const fill = s.blank?.(r, c) ? '#fff' : css(colorAt(s.colormap, (s.values[r * s.cols + c]! - L.lo) / span));
        out.push(`<rect x="${L.left + c * L.cw}" y="${L.top + r * L.ch}" width="${L.cw}" height="${L.ch}" fill="${fill}"/>`);
        if (s.marked?.(r, c)) out.push(`<rect x="${L.left + c * L.cw + 0.75}" y="${L.top + r * L.ch + 0.75}" width="${L.cw - 1.5}" height="${L.ch - 1.5}" fill="none" stroke="#e0201b" stroke-width="1.5"/>`);
      }
    }
    out.push(`<rect x="${L.left - 0.5}" y="${L.top - 0.5}" width="${L.plotW + 1}" height="${L.plotH + 1}" fill="none" stroke="#999"/>`);
    for (const r of ticks(s.rows, L.ch, 11)) {
      out.push(`<text x="${L.left - 4}" y="${L.top + (r + 0.5) * L.ch + 3.5}" text-anchor="end" fill="#444">${escapeXml(s.rowNames?.[r] ?? String(r))}</text>`);
    }
    for (const c of ticks(s.cols, L.cw, 18)) out.push(`<text x="${L.left + (c + 0.5) * L.cw}" y="${L.top + L.plotH + 13}" text-anchor="middle" fill="#444">${c}</text>`);
    const bx = L.left + L.plotW + 12, bh = Math.max(20, L.plotH);
    out.push(`<defs><linearGradient id="bar" x1="0" y1="1" x2="0" y2="0">`);
    for (let i = 0; i <= 8; i++) out.push(`<stop offset="${i / 8}" stop-color="${css(colorAt(s.colormap, i / 8))}"/>`);
    out.push(`</linearGradient></defs><rect x="${bx}" y="${L.top}" width="${BAR}" height="${bh}" fill="url(#bar)"/>`);
    out.push(`<text x="${bx + BAR + 3}" y="${L.top + 9}" fill="#444">${fmtNum(L.hi)}</text>`);
    out.push(`<text x="${bx + BAR + 3}" y="${L.top + bh}" fill="#444">${fmtNum(L.lo)}</text>`);
    out.push('</g></svg>');
    return out.join('\n');
  }
}
