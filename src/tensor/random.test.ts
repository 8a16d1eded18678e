import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from './random.js';

const draw = (rng: Rng, n: number): number[] => Array.from({ length: n }, () => rng.nextU32());

test('Rng: equal seeds (and labels) give equal streams; different seeds or labels differ', () => {
  const a = draw(new Rng(123), 50), b = draw(new Rng(123), 50);
  assert.deepEqual(a, b);
  for (const v of a) assert.ok(Number.isInteger(v) && v >= 0 && v <= 0xffffffff);
  assert.equal(new Set(a).size, 50, 'no repeats in 50 uint32 draws');
  assert.notDeepEqual(draw(new Rng(124), 50), a);
  assert.notDeepEqual(draw(new Rng(123, 'x'), 50), a);
  assert.deepEqual(draw(new Rng(123, 'x'), 50), draw(new Rng(123, 'x'), 50));
  assert.notDeepEqual(draw(new Rng(0), 10), new Array(10).fill(0), 'seed 0 is not the forbidden all-zero state');
});

test('Rng.fork: does not advance the parent; same label reproduces, different labels differ', () => {
  const parent = new Rng(7);
  const before = parent.getState();
  const c1 = parent.fork('init');
  assert.deepEqual(parent.getState(), before, 'forking leaves the parent state untouched');
  assert.deepEqual(draw(parent, 20), draw(new Rng(7), 20), 'the parent continues as if never forked');

  const p2 = new Rng(7);
  const c1again = p2.fork('init');
  const c2 = p2.fork('train');
  const s1 = draw(c1, 30);
  assert.deepEqual(draw(c1again, 30), s1, 'same parent state and label give the same child');
  const s2 = draw(c2, 30);
  assert.notDeepEqual(s2, s1);
  assert.equal(s1.filter((v, i) => v === s2[i]).length, 0, 'the two children share no draw position');
  assert.notDeepEqual(s1, draw(new Rng(7), 30), 'a child is not the parent stream');
});

test('Rng.fork: drawing from a child does not disturb the parent or a sibling', () => {
  const p = new Rng(99);
  const a = p.fork('a'), b = p.fork('b');
  const bRef = draw(new Rng(99).fork('b'), 10);
  draw(a, 1000);
  assert.deepEqual(draw(b, 10), bRef);
  assert.deepEqual(draw(p, 10), draw(new Rng(99), 10));
});

test('Rng.getState / setState: round trip reproduces the rest of the sequence', () => {
  const r = new Rng(5);
  draw(r, 17);
  const st = r.getState();
  assert.equal(st.length, 4);
  const next = draw(r, 40);
  r.setState(st);
  assert.deepEqual(draw(r, 40), next);
  const other = new Rng(1234);
  other.setState(st);
  assert.deepEqual(draw(other, 40), next, 'a different generator given the state continues identically');
  // getState returns a copy: mutating it does not change the generator
  const st2 = other.getState();
  st2[0] = 0;
  assert.notDeepEqual(other.getState(), st2);
});

test('Rng.setState: rejects anything but four uint32 words', () => {
  const r = new Rng(1);
  assert.throws(() => r.setState([1, 2, 3]), /Rng.setState: expected four uint32 words/);
  assert.throws(() => r.setState([1, 2, 3, -1]), /four uint32 words/);
  assert.throws(() => r.setState([1, 2, 3, 2 ** 32]), /four uint32 words/);
  assert.throws(() => r.setState([1, 2, 3, 0.5]), /four uint32 words/);
});

test('Rng.uniform: in [0, 1), mean ≈ 1/2, spread over the interval', () => {
  const r = new Rng(8);
  const n = 20000;
  let s = 0, lo = 1, hi = 0;
  const bins = new Array(10).fill(0);
  for (let i = 0; i < n; i++) {
    const u = r.uniform();
    assert.ok(u >= 0 && u < 1, `uniform gave ${u}`);
    s += u; lo = Math.min(lo, u); hi = Math.max(hi, u);
    bins[Math.floor(u * 10)]++;
  }
  assert.ok(Math.abs(s / n - 0.5) < 0.01, `mean ${s / n}`);
  assert.ok(lo < 0.001 && hi > 0.999);
  for (const c of bins) assert.ok(Math.abs(c - n / 10) < 0.1 * (n / 10), `bin count ${c}`);
});

test('Rng.int: bounds inclusive, every value reached, roughly uniform, lo = hi allowed', () => {
  const r = new Rng(9);
  const counts = new Map<number, number>();
  for (let i = 0; i < 7000; i++) {
    const v = r.int(-2, 4);
    assert.ok(Number.isInteger(v) && v >= -2 && v <= 4, `int gave ${v}`);
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  assert.deepEqual([...counts.keys()].sort((a, b) => a - b), [-2, -1, 0, 1, 2, 3, 4]);
  for (const c of counts.values()) assert.ok(Math.abs(c - 1000) < 150, `count ${c}`);
  for (let i = 0; i < 20; i++) assert.equal(r.int(3, 3), 3);
});

test('Rng.bit: only 0 or 1, mean ≈ 1/2, not constant in short runs', () => {
  const r = new Rng(10);
  let ones = 0;
  const n = 20000;
  let run = 0, longest = 0, prev = -1;
  for (let i = 0; i < n; i++) {
    const b = r.bit();
    assert.ok(b === 0 || b === 1);
    ones += b;
    run = b === prev ? run + 1 : 1;
    prev = b;
    longest = Math.max(longest, run);
  }
  assert.ok(Math.abs(ones / n - 0.5) < 0.015, `mean ${ones / n}`);
  assert.ok(longest < 30, `longest run of equal bits ${longest}`);
});

test('Rng.normal: finite, mean ≈ 0, variance ≈ 1', () => {
  const r = new Rng(11);
  const n = 20000;
  let s = 0, s2 = 0;
  for (let i = 0; i < n; i++) {
    const v = r.normal();
    assert.ok(Number.isFinite(v));
    s += v; s2 += v * v;
  }
  const mean = s / n, variance = s2 / n - mean * mean;
  assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.05, `variance ${variance}`);
});

test('Rng.betaHalf: in [0, 1]; mean ≈ 1/2, variance ≈ 1/8; the CDF is (2/π)·arcsin(√x); more mass near 0 and 1 than in the middle', () => {
  const r = new Rng(12);
  const n = 40000, xs = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];
  const below = new Array<number>(xs.length).fill(0);
  let s = 0, s2 = 0, edges = 0, middle = 0;
  for (let i = 0; i < n; i++) {
    const v = r.betaHalf();
    assert.ok(v >= 0 && v <= 1, `betaHalf gave ${v}`);
    s += v; s2 += v * v;
    for (let k = 0; k < xs.length; k++) if (v <= xs[k]!) below[k]!++;
    if (v < 0.1 || v >= 0.9) edges++;
    else if (v >= 0.45 && v < 0.55) middle++;
  }
  const mean = s / n, variance = s2 / n - mean * mean;
  assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1 / 8) < 0.005, `variance ${variance}`);
  for (let k = 0; k < xs.length; k++) {
    const cdf = (2 / Math.PI) * Math.asin(Math.sqrt(xs[k]!));
    // 4 standard errors of a frequency over n draws
    assert.ok(Math.abs(below[k]! / n - cdf) < 4 * Math.sqrt(cdf * (1 - cdf) / n), `P(v ≤ ${xs[k]}) = ${below[k]! / n}, CDF ${cdf}`);
  }
  // the 20% of [0, 1] at its ends holds 41% of the mass; the 10% in the middle only 6.4%
  assert.ok(Math.abs(edges / n - 0.4097) < 0.015, `mass near 0 and 1: ${edges / n}`);
  assert.ok(Math.abs(middle / n - 0.0638) < 0.006, `mass in the middle: ${middle / n}`);
});
