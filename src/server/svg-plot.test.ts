import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median, niceTicks, svgPlot, tickLabel } from './svg-plot.js';

test('niceTicks: steps of 1, 2 or 5 × 10^k inside the range; tickLabel keeps only the digits it needs', () => {
  assert.deepEqual(niceTicks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(0, 3000, 6), [0, 500, 1000, 1500, 2000, 2500, 3000]);
  assert.deepEqual(niceTicks(0.5, 1.5, 4), [0.5, 1, 1.5]);
  for (const [lo, hi] of [[0, 7], [3, 41], [0.001, 0.02], [250, 20000]] as const) {
    const t = niceTicks(lo, hi);
    assert.ok(t.length >= 2 && t.every((v) => v >= lo - 1e-12 && v <= hi + 1e-9), `${lo}..${hi}: ${t}`);
    const step = t[1]! - t[0]!;
    const m = step / 10 ** Math.floor(Math.log10(step));
    assert.ok([1, 2, 5].some((k) => Math.abs(m - k) < 1e-9), `step ${step}`);
  }
  assert.equal(tickLabel(0), '0');
  assert.equal(tickLabel(1500), '1500');
  assert.equal(tickLabel(0.25), '0.25');
  assert.equal(tickLabel(1e-4), '1e-4');
  assert.equal(tickLabel(2e6), '2e6');
});

test('median: the middle value (the mean of the two middle ones), NaN ignored, null for none', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([NaN, 5]), 5);
  assert.equal(median([]), null);
});

test('svgPlot: one path per curve through its points, a band polygon, the legend and the title escaped; log scale drops values ≤ 0', () => {
  const svg = svgPlot([
    { label: 'ntm <a>', color: '#111111', x: [0, 1, 2], y: [10, 1, 0.1], band: [[5, 20], [0.5, 2], null] },
    { label: 'lstm', color: '#222222', x: [0, 1, 2], y: [10, null, 0] },
  ], { title: 'bits & errors', xLabel: 'step', yLabel: 'bits', log: true });
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /bits &#38; errors/);
  assert.match(svg, /ntm &#60;a&#62;/);
  const paths = [...svg.matchAll(/<path d="([^"]+)" fill="none" stroke="(#\d+)"/g)];
  assert.equal(paths.length, 2);
  assert.equal((paths[0]![1].match(/[ML]/g) ?? []).length, 3, 'three points, one line');
  assert.equal(paths[1]![1].match(/[ML]/g)!.join(''), 'M', 'a missing point and a 0 on a log scale leave one point');
  assert.equal((svg.match(/<polygon /g) ?? []).length, 1);
  assert.match(svg, /\(log\)/);
  // a y of 10 lies above one of 0.1: smaller SVG y
  const ys = paths[0]![1].split(/[ML]/).filter(Boolean).map((p) => Number(p.split(',')[1]));
  assert.ok(ys[0]! < ys[1]! && ys[1]! < ys[2]!);
});
