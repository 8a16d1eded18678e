/**
 * @file A line chart as a standalone SVG document, for `engram plot`: curves over one x axis, a
 * shaded band per curve (e.g. the range over seeds), linear or log y, ticks and a legend. Text
 * only, no DOM, so it runs in Node and its files open in any browser or document.
 */

export interface SvgSeries {
  readonly label: string;
  readonly color: string;
  readonly x: readonly number[];
  /** the line (null: no point there) */
  readonly y: readonly (number | null)[];
  /** a band around it, [low, high] per x (null: none there) */
  readonly band?: readonly (readonly [number, number] | null)[];
}

export interface SvgPlotOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly log?: boolean;
  readonly width?: number;
  readonly height?: number;
}

const esc = (s: string): string => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** A tick label with no more digits than it needs. */
export function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0).replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}

/** Ticks at 1, 2, 5 × 10^k covering [lo, hi] (about `n` of them). */
export function niceTicks(lo: number, hi: number, n = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n, p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** The SVG text of the chart. */
export function svgPlot(series: readonly SvgSeries[], o: SvgPlotOptions): string {
  const W = o.width ?? 720, H = o.height ?? 420, L = 72, R = 16, T = 36, B = 52;
  // the legend: entries left to right, wrapped to a new row when the next would not fit
  // (label widths estimated at 7 px a character)
  const legend: { x: number; row: number }[] = [];
  {
    let x = L, row = 0;
    for (const s of series) {
      const w = 24 + 7 * s.label.length + 20;
      if (x > L && x + w > W - R) {
        x = L;
        row++;
      }
      legend.push({ x, row });
      x += w;
    }
  }
  const legendRows = series.length === 0 ? 0 : legend[legend.length - 1]!.row + 1;
  const plotH = H - T - B - 18 * legendRows;
  const okX = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);
  const ok = (v: number | null | undefined): v is number => okX(v) && (!o.log || v > 0); // a y value
  const xs = series.flatMap((s) => s.x).filter(okX);
  const ys = series.flatMap((s) => [...s.y, ...(s.band ?? []).flatMap((b) => (b ? [b[0], b[1]] : []))]).filter(ok);
  const x0 = Math.min(...xs, 0), x1 = Math.max(...xs, 1);
  let y0 = o.log ? Math.min(...ys) : Math.min(0, ...ys), y1 = Math.max(...ys, o.log ? y0 * 10 : 1e-12);
  if (o.log) {
    y0 = 10 ** Math.floor(Math.log10(y0));
    y1 = 10 ** Math.ceil(Math.log10(y1));
  }
  const f = (v: number): number => (o.log ? Math.log10(v) : v);
  const px = (x: number): number => L + ((x - x0) / (x1 - x0 || 1)) * (W - L - R);
  const py = (y: number): number => T + plotH - ((f(y) - f(y0)) / (f(y1) - f(y0) || 1)) * plotH;
  const parts: string[] = [];
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">${esc(o.title)}</text>`);
  const yTicks = o.log
    ? Array.from({ length: Math.round(Math.log10(y1 / y0)) + 1 }, (_, i) => y0 * 10 ** i)
    : niceTicks(y0, y1);
  for (const t of yTicks) {
    const y = py(t).toFixed(1);
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${y}" y2="${y}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${L - 6}" y="${y}" dy="4" text-anchor="end" font-size="11">${tickLabel(t)}</text>`);
  }
  for (const t of niceTicks(x0, x1, 7)) {
    const x = px(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${T}" y2="${T + plotH}" stroke="#f0f0f0"/>`);
    parts.push(`<text x="${x}" y="${T + plotH + 16}" text-anchor="middle" font-size="11">${tickLabel(t)}</text>`);
  }
  parts.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${plotH}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${T + plotH + 36}" text-anchor="middle" font-size="12">${esc(o.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${T + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(o.yLabel)}${o.log ? ' (log)' : ''}</text>`);
  const clampY = (v: number): number => Math.min(Math.max(v, y0), y1);
  for (const s of series) {
    if (s.band) {
      // a band's low end at 0 on a log scale runs to the bottom of the chart
      const pts = s.x.map((x, i) => [x, s.band![i]] as const).filter(([x, b]) => okX(x) && b !== null && okX(b[0]) && ok(b[1]))
        .map(([x, b]) => [x, [ok(b![0]) ? b![0] : y0, b![1]]]) as [number, readonly [number, number]][];
      if (pts.length > 1) {
        const up = pts.map(([x, b]) => `${px(x).toFixed(1)},${py(clampY(b[1])).toFixed(1)}`);
        const down = pts.reverse().map(([x, b]) => `${px(x).toFixed(1)},${py(clampY(b[0])).toFixed(1)}`);
        parts.push(`<polygon points="${[...up, ...down].join(' ')}" fill="${s.color}" fill-opacity="0.15" stroke="none"/>`);
      }
    }
    // a line through the points, broken where a point is missing
    let d = '';
    let pen = false;
    s.x.forEach((x, i) => {
      const y = s.y[i];
      if (!okX(x) || !ok(y)) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${px(x).toFixed(1)},${py(clampY(y)).toFixed(1)}`;
      pen = true;
    });
    if (d) parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
  }
  series.forEach((s, i) => {
    const x = legend[i]!.x, y = H - 14 - 18 * (legendRows - 1 - legend[i]!.row);
    parts.push(`<line x1="${x}" x2="${x + 18}" y1="${y - 4}" y2="${y - 4}" stroke="${s.color}" stroke-width="3"/>`);
    parts.push(`<text x="${x + 24}" y="${y}" font-size="12">${esc(s.label)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">\n${parts.join('\n')}\n</svg>\n`;
}

/** The median of the finite values (null if none). */
export function median(values: readonly number[]): number | null {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 === 1 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}
