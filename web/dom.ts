/**
 * @file Small DOM helpers. Text from the server (run names above all) only ever goes in
 * through textContent, never as HTML.
 */

type Attrs = Record<string, string | number | boolean | undefined | ((ev: Event) => void)>;
type Child = Node | string | null | undefined | false;

/** Creates an element: attributes (on* are listeners; `class`, `data-*`, …) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k in el && !k.startsWith('data-') && k !== 'class' && k !== 'for') (el as unknown as Record<string, unknown>)[k] = v;
    else el.setAttribute(k === 'class' ? 'class' : k, v === true ? '' : String(v));
  }
  append(el, ...children);
  return el;
}

export function append(el: Element, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function fmtDuration(sec: number | null): string {
  if (sec === null || !Number.isFinite(sec)) return '–';
  const s = Math.max(0, Math.round(sec));
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  return hh > 0 ? `${hh}h ${String(mm).padStart(2, '0')}m` : mm > 0 ? `${mm}m ${String(ss).padStart(2, '0')}s` : `${ss}s`;
}

export { fmtNum, fmtTick } from '../src/server/format.js';

/** A stat card: a label above a value; returns the element whose text is the value. */
export function card(label: string, parent: Element, id?: string): HTMLElement {
  const value = h('div', { class: 'value', ...(id ? { 'data-stat': id } : {}) }, '–');
  parent.append(h('div', { class: 'card' }, h('div', { class: 'label' }, label), value));
  return value;
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'panel' }, h('h2', {}, title), ...children);
}

/** Starts a download of `blob` as `name`. */
export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A file name from untrusted text: letters, digits, dot, dash. */
export function fileName(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80) || 'chart';
}

/** PNG and SVG buttons for a figure. */
export function exportButtons(name: () => string, png: () => Promise<Blob>, svg: () => string): HTMLElement {
  return h('span', { class: 'export' },
    h('button', { type: 'button', title: 'save as PNG', onclick: () => void png().then((b) => download(b, `${fileName(name())}.png`)) }, 'PNG'),
    h('button', { type: 'button', title: 'save as SVG', onclick: () => download(new Blob([svg()], { type: 'image/svg+xml' }), `${fileName(name())}.svg`) }, 'SVG'),
  );
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A PNG of `canvas` on white, with `title` above it (and extra drawing below, if given). */
export function canvasToPng(canvas: HTMLCanvasElement, title: string, below?: { height: number; draw: (g: CanvasRenderingContext2D, y: number) => void }): Promise<Blob> {
  const dpr = canvas.width / (canvas.clientWidth || canvas.width);
  const head = 22, extra = below?.height ?? 0;
  const out = document.createElement('canvas');
  const font = '600 12px system-ui, sans-serif';
  const probe = out.getContext('2d')!;
  probe.font = font;
  out.width = Math.max(canvas.width, Math.ceil((probe.measureText(title).width + 16) * dpr));
  out.height = canvas.height + Math.round((head + extra) * dpr);
  const g = out.getContext('2d')!;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, out.width, out.height);
  g.drawImage(canvas, 0, Math.round(head * dpr));
  g.scale(dpr, dpr);
  g.fillStyle = '#222';
  g.font = font;
  g.textBaseline = 'middle';
  g.fillText(title, 8, head / 2);
  below?.draw(g, head + canvas.height / dpr);
  return new Promise((res, rej) => out.toBlob((b) => (b ? res(b) : rej(new Error('toBlob failed'))), 'image/png'));
}
