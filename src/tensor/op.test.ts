/**
 * op(): which pass runs (kernel or twin), what the tape records, which gradients a pass gets,
 * what a replay recording receives, a composite twin, and a gradient a kernel writes fresh.
 * The op here is y = 2·x₀ + x₁ on [B, N] = [2, 3], with a "kernel" that computes the same and
 * counts its calls.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { op, op1, type OpDef } from './op.js';
import { Tensor, type Buf } from './tensor.js';
import { OpContext } from './context.js';
import { onTape, Tape } from './tape.js';
import { weightedSum } from './ops.js';
import { assertGradcheck } from './testing.js';

const B = 2, N = 3;
const x0 = [0.5, -1, 2, 3, 0.25, -0.75], x1 = [1, 2, 3, 4, 5, 6];

interface Calls { twinF: number; twinB: number; kF: number; kB: number; fresh: boolean[] }

function twice(a: Tensor, b: Tensor, calls: Calls, extra: Partial<OpDef<undefined>> = {}, kernelRuns = true): Tensor {
  const forward = (x: readonly Buf[], y: readonly Buf[]): void => {
    for (let i = 0; i < B * N; i++) y[0]![i] = 2 * x[0]![i]! + x[1]![i]!;
  };
  const backward = (_x: readonly Buf[], _y: readonly Buf[], _s: undefined, gy: readonly (Buf | null)[], gx: readonly (Buf | null)[]): void => {
    for (let i = 0; i < B * N; i++) {
      if (gx[0]) gx[0][i]! += 2 * gy[0]![i]!;
      if (gx[1]) gx[1][i]! += gy[0]![i]!;
    }
  };
  return op1({
    inputs: [a, b],
    outputs: [[B, N]],
    forward: (x, y) => { calls.twinF++; forward(x, y); },
    backward: (x, y, s, gy, gx) => { calls.twinB++; backward(x, y, s, gy, gx); },
    kernel: {
      forward: (x, y) => { if (!kernelRuns) return false; calls.kF++; forward(x, y); return true; },
      backward: (x, y, s, gy, gx, fresh) => {
        if (!kernelRuns) return false;
        calls.kB++;
        calls.fresh.push(fresh);
        if (fresh) gx[0]!.fill(0); // (this test's kernel adds; a real one writes)
        backward(x, y, s, gy, gx);
        return true;
      },
    },
    ...extra,
  });
}

const calls = (): Calls => ({ twinF: 0, twinB: 0, kF: 0, kB: 0, fresh: [] });

test('op runs the kernel on float32 and its backward with it; the twin on float64; both give the same values', () => {
  for (const dt of ['f32', 'f64'] as const) {
    const c = calls();
    const a = Tensor.from(x0, [B, N], dt, true), b = Tensor.from(x1, [B, N], dt, true);
    const tape = new Tape();
    const y = onTape(tape, [a, b], () => twice(a, b, c));
    assert.deepEqual([...y.data], x0.map((v, i) => 2 * v + x1[i]!));
    assert.equal(y.requiresGrad, true);
    tape.backward(weightedSum(y, [1, 1, 1, 1, 1, 1]));
    assert.deepEqual([...a.grad!], [2, 2, 2, 2, 2, 2]);
    assert.deepEqual([...b.grad!], [1, 1, 1, 1, 1, 1]);
    if (dt === 'f32') assert.deepEqual([c.kF, c.kB, c.twinF, c.twinB], [1, 1, 0, 0]);
    else assert.deepEqual([c.kF, c.kB, c.twinF, c.twinB], [0, 0, 1, 1]);
  }
});

test('a kernel that does not run (kernels off) leaves the call to the twin, forward and backward', () => {
  const c = calls();
  const a = Tensor.from(x0, [B, N], 'f32', true), b = Tensor.from(x1, [B, N], 'f32', true);
  const tape = new Tape();
  const y = onTape(tape, [a, b], () => twice(a, b, c, {}, false));
  tape.backward(weightedSum(y, [1, 0, 0, 0, 0, 1]));
  assert.deepEqual([c.kF, c.kB, c.twinF, c.twinB], [0, 0, 1, 1]);
  assert.deepEqual([...a.grad!], [2, 0, 0, 0, 0, 2]);
});

test('kernel.accepts false runs the twin without calling the kernel', () => {
  const c = calls();
  const a = Tensor.from(x0, [B, N]), b = Tensor.from(x1, [B, N]);
  let asked = 0;
  twice(a, b, c, { kernel: { accepts: () => (asked++, false), forward: () => assert.fail('kernel called'), backward: () => assert.fail('kernel called') } });
  assert.equal(asked, 1);
  assert.equal(c.twinF, 1);
});

test('no tape, or no input needing a gradient: nothing is recorded and the output needs none', () => {
  const c = calls();
  const a = Tensor.from(x0, [B, N], 'f64'), b = Tensor.from(x1, [B, N], 'f64');
  const tape = new Tape();
  const y = onTape(tape, [a, b], () => twice(a, b, c));
  assert.equal(tape.length, 0);
  assert.equal(y.requiresGrad, false);
  const a2 = Tensor.from(x0, [B, N], 'f64', true);
  assert.equal(twice(a2, b, c).requiresGrad, false); // no tape
});

test('a stopped gradient: the input gets none, and an op whose only graded inputs are stopped records nothing', () => {
  const c = calls();
  const a = Tensor.from(x0, [B, N], 'f64', true), b = Tensor.from(x1, [B, N], 'f64', true);
  const tape = new Tape();
  const y = onTape(tape, [a, b], () => twice(a, b, c, { grads: [true, false] }));
  tape.backward(weightedSum(y, [1, 1, 1, 1, 1, 1]));
  assert.deepEqual([...a.grad!], [2, 2, 2, 2, 2, 2]);
  assert.equal(b.grad, null);
  const a3 = Tensor.from(x0, [B, N], 'f64'), tape2 = new Tape();
  const y2 = onTape(tape2, [a3, b], () => twice(a3, b, c, { grads: [true, false] }));
  assert.equal(tape2.length, 0);
  assert.equal(y2.requiresGrad, false);
});

test('the twin\'s passes are handed to a replay recording, with their arguments fixed; a kernel\'s are not', () => {
  const recorded: (() => void)[] = [];
  {
    const c = calls();
    const tape = new Tape();
    const ctx = new OpContext(null, tape, (fn) => recorded.push(() => fn({} as never, 0)));
    const a = Tensor.from(x0, [B, N], 'f64', true, ctx), b = Tensor.from(x1, [B, N], 'f64', true, ctx);
    const y = twice(a, b, c);
    const loss = weightedSum(y, [1, 1, 1, 1, 1, 1]);
    const before = recorded.length;
    tape.backward(loss);
    assert.ok(before >= 1 && recorded.length > before, 'forward and backward recorded');
    // a replay re-runs them on the same buffers: the input changed, the output follows
    a.data[0] = 10;
    recorded[0]!();
    assert.equal(y.data[0], 21);
    assert.equal(c.twinF, 2);
    const k = calls(), r0 = recorded.length;
    twice(Tensor.from(x0, [B, N], 'f32', false, ctx), Tensor.from(x1, [B, N], 'f32', false, ctx), k);
    assert.equal(recorded.length, r0, 'a kernel pass records itself, not through replayJs');
  }
});

test('a composite twin: the kernel serves float32, other ops float64, with the same gradients', () => {
  const f = (a: Tensor, b: Tensor, c: Calls): Tensor => op1({
    inputs: [a, b],
    outputs: [[B, N]],
    composite: () => [twice(a, b, c, { kernel: undefined })],
    kernel: {
      forward: (x, y) => { c.kF++; for (let i = 0; i < B * N; i++) y[0]![i] = 2 * x[0]![i]! + x[1]![i]!; return true; },
      backward: (_x, _y, _s, gy, gx) => { c.kB++; for (let i = 0; i < B * N; i++) { gx[0]![i]! += 2 * gy[0]![i]!; gx[1]![i]! += gy[0]![i]!; } return true; },
    },
  });
  const k = calls(), t = calls();
  const a32 = Tensor.from(x0, [B, N], 'f32', true), b32 = Tensor.from(x1, [B, N], 'f32', true);
  const a64 = Tensor.from(x0, [B, N], 'f64', true), b64 = Tensor.from(x1, [B, N], 'f64', true);
  for (const [a, b, c] of [[a32, b32, k], [a64, b64, t]] as const) {
    const tape = new Tape();
    tape.backward(onTape(tape, [a, b], () => weightedSum(f(a, b, c), [1, 2, 3, 4, 5, 6])));
  }
  assert.deepEqual([k.kF, k.kB, k.twinF], [1, 1, 0]);
  assert.deepEqual([t.kF, t.twinF, t.twinB], [0, 1, 1]);
  assert.deepEqual([...a32.grad!], [...a64.grad!]);
  assert.deepEqual([...b32.grad!], [...b64.grad!]);
});

test('writesFreshGradient: fresh only when the op gives input 0 its first gradient', () => {
  const c = calls();
  const a = Tensor.from(x0, [B, N], 'f32', true), b = Tensor.from(x1, [B, N], 'f32', true);
  const tape = new Tape();
  const kernelFresh = (x: Tensor, y: Tensor): Tensor => twice(x, y, c, {
    kernel: {
      writesFreshGradient: true,
      forward: (xs, ys) => { for (let i = 0; i < B * N; i++) ys[0]![i] = 2 * xs[0]![i]! + xs[1]![i]!; return true; },
      backward: (_x, _y, _s, gy, gx, fresh) => {
        c.fresh.push(fresh);
        for (let i = 0; i < B * N; i++) {
          gx[0]![i] = (fresh ? 0 : gx[0]![i]!) + 2 * gy[0]![i]!;
          gx[1]![i]! += gy[0]![i]!;
        }
        return true;
      },
    },
  });
  // y1: the later op, backward first: a's first gradient (both in one context: one step's)
  const [y1, y2] = onTape(tape, [a, b], () => [kernelFresh(a, b), kernelFresh(a, b)]);
  // s = Σ y1 + Σ y2, so each gives a its 2·1 per element
  const [s] = op({
    inputs: [y1, y2],
    outputs: [[1]],
    forward: (x, [o]) => { o![0] = 0; for (const v of x) for (let i = 0; i < v.length; i++) o![0] += v[i]!; },
    backward: (_x, _y, _s, [g], gx) => { for (const v of gx) v!.fill(g![0]!); },
  });
  tape.backward(s!);
  assert.deepEqual(c.fresh, [true, false]);
  assert.deepEqual([...a.grad!], [4, 4, 4, 4, 4, 4]);
});

test('finite differences through op()', () => {
  const a = Tensor.from(x0, [B, N], 'f64', true), b = Tensor.from(x1, [B, N], 'f64', true);
  assertGradcheck(() => weightedSum(twice(a, b, calls()), [0.3, -1, 2, 0.5, 1, -0.2]), [a, b]);
});
