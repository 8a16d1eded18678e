/**
 * @file Numbers as the dashboard shows them (cards, tables, chart ticks). Plain functions with
 * no DOM, so the page (web/) and Node's tests import the same code.
 */

/** A number for a card or a legend: 3 significant digits, an exponent for the very small and large. */
export function fmtNum(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) return v.toExponential(2);
  return String(Number(v.toPrecision(3))); // 0.500 → 0.5, 0.0145 stays
}

/**
 * An axis tick: as fmtNum, with the exponent form short (1e-4, 2.5e-5, 1e+6 → 1e6), so a log
 * axis over 1e-6..1 reads 1e-6, 1e-5, …, 0.01, 0.1, 1 and never rounds a small tick to "0".
 */
export function fmtTick(v: number | null | undefined): string {
  const s = fmtNum(v);
  const m = /^(-?\d)(?:\.(\d*?))?0*e([+-])(\d+)$/.exec(s);
  if (!m) return s;
  return `${m[1]}${m[2] ? `.${m[2]}` : ''}e${m[3] === '-' ? '-' : ''}${m[4]}`;
}
