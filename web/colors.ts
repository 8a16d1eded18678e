/**
 * @file Colour maps for the heatmaps (a value in [0, 1] → rgb) and the palette for curves.
 */

export type Rgb = readonly [number, number, number];
export type ColorMap = 'viridis' | 'diverging' | 'gray';

const hex = (s: string): Rgb => [parseInt(s.slice(1, 3), 16), parseInt(s.slice(3, 5), 16), parseInt(s.slice(5, 7), 16)];

/** Evenly spaced anchors, linearly interpolated. */
const ANCHORS: Record<ColorMap, readonly Rgb[]> = {
  // matplotlib's viridis at 0, 1/8, …, 1: perceptually uniform, readable in grey
  viridis: ['#440154', '#472d7b', '#3b528b', '#2c728e', '#21918c', '#28ae80', '#5ec962', '#addc30', '#fde725'].map(hex),
  // ColorBrewer RdBu reversed: blue below zero, red above, white at zero (the memory matrix)
  diverging: ['#2166ac', '#67a9cf', '#d1e5f0', '#f7f7f7', '#fddbc7', '#ef8a62', '#b2182b'].map(hex),
  // bits: near white for 0, near black for 1
  gray: ['#f6f6f6', '#1c1c1c'].map(hex),
};

export function colorAt(map: ColorMap, u: number): Rgb {
  const a = ANCHORS[map];
  const x = Math.min(1, Math.max(0, Number.isFinite(u) ? u : 0)) * (a.length - 1);
  const i = Math.min(a.length - 2, Math.floor(x));
  const f = x - i;
  const p = a[i]!, q = a[i + 1]!;
  return [Math.round(p[0] + f * (q[0] - p[0])), Math.round(p[1] + f * (q[1] - p[1])), Math.round(p[2] + f * (q[2] - p[2]))];
}

export const css = (c: Rgb): string => `rgb(${c[0]},${c[1]},${c[2]})`;

/** Tableau 10: distinct colours for curves and runs. */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
