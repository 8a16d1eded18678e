import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { contentWeights } from '../memory/content.js';
import { readMemory } from '../memory/read.js';
import { writeMemory } from '../memory/write.js';
import { locationWeights } from '../memory/location.js';
import { WEIGHT_FLOOR } from '../memory/sharpen.js';
import { updateLinkage } from '../memory/linkage.js';
import { allocationWeights, writeAllocations } from '../memory/allocation.js';
import { updateUsage } from '../memory/usage.js';
import { writeWeighting } from '../memory/write-weighting.js';
import { readWeighting } from '../memory/read-weighting.js';
import { followLinksHeads } from '../memory/temporal-read.js';
import { oneplus } from '../tensor/ops.js';
import { linear, matmulXWt, matmulXWtBackward, matmulXWtBackwardTs, matmulXWtTs } from '../nn/linear.js';
import { findPreset } from '../config/presets.js';
import { createTask } from '../tasks/registry.js';
import { clamp, softmax, sigmoid, tanh, weightedSum, addScalars } from '../tensor/ops.js';
import { concat, splitActivate } from '../nn/columns.js';
import { lstmCell } from '../nn/lstm.js';
import { cloneConfig, DEFAULTS, type ModelConfig } from '../config/schema.js';
import { createModel } from '../models/registry.js';
import { headsFused, type HeadLayout } from '../models/params.js';
import { copyTask } from '../tasks/copy.js';
import { accumulateGradients, StepContext } from '../train/gradients.js';
import { Rng } from '../tensor/random.js';
import { Dnc } from '../models/dnc.js';
import { maskedBceLoss } from '../train/loss.js';
import { Tensor } from '../tensor/tensor.js';
import { BufferPool } from '../tensor/pool.js';
import { onTape, Tape } from '../tensor/tape.js';
import { assertAllClose } from '../tensor/testing.js';
import { activeKernels, heapAllocator, heapFor, kernelsAvailable, setKernels } from './wasm.js';
import { kernelBuild, kernelHeapOrNull } from './heap.js';
import { OpContext } from '../tensor/context.js';

// Each WASM kernel against its TypeScript twin, float32, within 1e-5 (SIMD sums in another order).
const B = 3, N = 7, W = 5, H = 2;

function rand(shape: number[], rng: Rng, scale = 1, ctx = OpContext.plain): Tensor {
  const t = Tensor.zeros(shape, 'f32', true, ctx);
  for (let i = 0; i < t.size; i++) t.data[i] = scale * rng.normal();
  return t;
}

/**
 * Forward values and every input's gradient of a probe loss, with the given kernels. An op with
 * several outputs returns them all: the values are compared concatenated and the probe loss sums
 * over each (an output left out of the list gets no gradient, as an unused output in a model).
 * @param pool when given, the run is one step of it (its inputs and every op's buffers from it)
 */
function run(kind: 'wasm' | 'ts', build: (inputs: Tensor[]) => Tensor | Tensor[], seed: number, shapes: number[][], pool: BufferPool | null = null): { out: Float32Array; grads: Float32Array[]; onHeap: boolean } {
  setKernels(kind);
  try {
    const rng = new Rng(seed);
    const tape = new Tape();
    const ctx = pool === null ? new OpContext(null, tape, null) : OpContext.step(pool, tape);
    const inputs = shapes.map((s) => rand(s, rng, 1, ctx));
    const o = build(inputs);
    const outs = Array.isArray(o) ? o : [o];
    const c = new Rng(seed + 1);
    const probes = outs.map((out) => weightedSum(out, Array.from({ length: out.size }, () => c.normal())));
    const loss = probes.length === 1 ? probes[0]! : addScalars(probes);
    tape.backward(loss);
    const grads = inputs.map((x) => Float32Array.from(x.grad ?? new Float32Array(x.size)));
    const out = new Float32Array(outs.reduce((n, t) => n + t.size, 0));
    outs.reduce((off, t) => (out.set(t.data, off), off + t.size), 0);
    return { out, grads, onHeap: outs.every((t) => kernelHeapOrNull()!.owns(t.data)) };
  } finally {
    setKernels('wasm');
  }
}

/**
 * The kernels on buffers off the heap (copied in and out) and on a heap-backed pool's buffers
 * (in place, as in training), each against the TypeScript twins.
 */
function compare(name: string, build: (inputs: Tensor[]) => Tensor | Tensor[], shapes: number[][]): void {
  const b = run('ts', build, 11, shapes);
  const copied = run('wasm', build, 11, shapes);
  const pool = new BufferPool(heapAllocator());
  const inPlace = run('wasm', build, 11, shapes, pool);
  assert.ok(inPlace.onHeap && !copied.onHeap, 'the pooled run works on the heap, the other off it');
  for (const [how, a] of [['copied', copied], ['in place', inPlace]] as const) {
    assertAllClose(a.out, b.out, 1e-5, 1e-5, `${name} forward (${how})`);
    a.grads.forEach((g, i) => assertAllClose(g, b.grads[i]!, 1e-5, 1e-5, `${name} gradient ${i} (${how})`));
  }
  pool.clear();
}

test('the WASM kernels are built and selected by default', () => {
  assert.ok(kernelsAvailable(), 'dist/kernels/*.wasm missing: run npm run build');
  assert.equal(activeKernels(), 'wasm');
  setKernels('ts');
  assert.equal(activeKernels(), 'ts');
  setKernels('wasm');
});

/** Linux's CPU flags list fma (false where it cannot be read). */
function cpuHasFma(): boolean {
  try {
    return /^flags\s*:.*\bfma\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

test('the kernels\' build: fused multiply-adds where they run (ENGRAM_FMA=0: the build without), and every product path rounds as its build says', () => {
  const heap = kernelHeapOrNull()!;
  const build = kernelBuild();
  if (process.env.ENGRAM_FMA === '0') assert.equal(build, 'simd');
  // an x64 CPU with FMA (this project's machines) runs the fused build unless told not to
  else if (process.env.ENGRAM_FMA === undefined && process.arch === 'x64' && cpuHasFma()) assert.equal(build, 'fma');
  assert.equal(heap.k.fusedMultiplyAdd(), build === 'fma' ? 1 : 0);
  // (1 + 2⁻²³)(1 − 2⁻²³) − 1 = −2⁻⁴⁶: fused it survives, rounded first it is 0
  const e = 2 ** -23, fused = build === 'fma' ? -(2 ** -46) : 0;
  for (const [B, O] of [[1, 1], [2, 4], [2, 1], [1, 4]] as const) {
    // I = 5: the −1 in the SIMD lanes' sum, then the product as the last (fifth) term, which a
    // pair of rows adds in a lane and a row alone as a scalar
    const I = 5;
    const x = new Float32Array(B * I), w = new Float32Array(O * I);
    for (let b = 0; b < B; b++) { x[b * I] = -1; x[b * I + 4] = 1 + e; }
    for (let o = 0; o < O; o++) { w[o * I] = 1; w[o * I + 4] = 1 - e; }
    const y = new Float32Array(B * O);
    matmulXWt(heapFor(), x, w, y, B, I, O);
    assert.deepEqual(y, new Float32Array(B * O).fill(fused), `y ${B}×${I}×${O}`);
  }
  // the backward products start from the gradient's value: −1 + (1 + 2⁻²³)(1 − 2⁻²³)
  for (const [B, I, O] of [[1, 1, 1], [2, 4, 2], [2, 16, 2], [2, 8, 2], [1, 3, 1]] as const) {
    const x = new Float32Array(B * I).fill(1 - e), w = new Float32Array(O * I).fill(1 - e);
    const gy = new Float32Array(B * O);
    for (let b = 0; b < B; b++) gy[b * O] = 1 + e; // one term per sum: output 0 only
    const gx = new Float32Array(B * I).fill(-1), gw = new Float32Array(O * I).fill(-1);
    matmulXWtBackward(heapFor(), x, w, gy, gx, gw, B, I, O);
    assert.deepEqual(gx, new Float32Array(B * I).fill(fused), `gx ${B}×${I}×${O}`);
    // gW row 0 sums B terms from −1: with B = 2 the second one rounds the sum to 1 either way, so B = 1 only
    if (B === 1) assert.deepEqual(gw.subarray(0, I), new Float32Array(I).fill(fused), `gW ${B}×${I}×${O}`);
  }
});

test('content kernel agrees with its TypeScript twin (rows one at a time, and four at a time when W is a multiple of 4)', () => {
  compare('contentWeights', ([M, k, beta]) => contentWeights(M!, tanh(k!), beta!), [[B, N, W], [B, W], [B, 1]]);
  // W 8: blocks of four rows, then N mod 4 rows one at a time; N 16: blocks only
  for (const [n, w] of [[7, 8], [16, 8], [5, 12]] as const) {
    compare(`contentWeights N=${n} W=${w}`, ([M, k, beta]) => contentWeights(M!, tanh(k!), oneplus(beta!)), [[B, n, w], [B, w], [B, 1]]);
  }
  // a zero row and a zero key: the ε terms keep the similarity finite
  compare('contentWeights zero rows', ([M, k]) => {
    const Mz = Tensor.from(Array.from(M!.data, (v, i) => (Math.floor(i / 8) % 3 === 0 ? 0 : v)), [B, 7, 8], 'f32', true);
    return contentWeights(Mz, tanh(k!), Tensor.full([B, 1], 4));
  }, [[B, 7, 8], [B, 8]]);
});

test('read kernel agrees with its TypeScript twin (rows one at a time, and four at a time when W is a multiple of 4)', () => {
  compare('readMemory', ([M, w]) => readMemory(M!, softmax(w!)), [[B, N, W], [B, N]]);
  // N 7: a block of four rows and three alone; N 8: blocks only
  for (const n of [7, 8]) compare(`readMemory N=${n} W=8`, ([M, w]) => readMemory(M!, softmax(w!)), [[B, n, 8], [B, n]]);
});

test('write kernel agrees with its TypeScript twin, one and several heads (W 5, and W 8: the one-head path)', () => {
  for (const w of [W, 8]) {
    for (const heads of [1, H, 3]) {
      const shapes = [[B, N, w]];
      for (let h = 0; h < heads; h++) shapes.push([B, N], [B, w], [B, w]);
      for (const alsoLater of [false, true]) {
        // alsoLater: M is read after the write too, so the write's backward adds to a gradient
        // already there (else it is M's first and is written)
        compare(`writeMemory ×${heads} W=${w}${alsoLater ? ', M used later' : ''}`, ([M, ...rest]) => {
          const hs = [];
          for (let h = 0; h < heads; h++) hs.push({ weights: softmax(rest[3 * h]!), erase: sigmoid(rest[3 * h + 1]!), add: tanh(rest[3 * h + 2]!) });
          const y = writeMemory(M!, hs);
          return alsoLater ? [y, tanh(M!)] : y;
        }, shapes);
      }
    }
  }
});

test('splitActivate kernel agrees with its TypeScript twin: every activation, widths below and above four, large inputs, parts without a gradient', () => {
  const parts = [
    { size: 5, activation: 'tanh' }, { size: 1, activation: 'softplus' }, { size: 1, activation: 'sigmoid' }, { size: 3, activation: 'softmax' },
    { size: 1, activation: 'oneplus' }, { size: 8, activation: 'sigmoid' }, { size: 6, activation: 'softplus' }, { size: 2, activation: 'identity' },
    { size: 4, activation: 'oneplus' }, { size: 5, activation: 'softmax' }, { size: 4, activation: 'tanh' },
  ] as const;
  const K = parts.reduce((n, p) => n + p.size, 0);
  for (const scale of [1, 30]) {
    // scale 30: saturated sigmoids and tanhs, softplus far into both tails, peaked softmaxes
    compare(`splitActivate ×${scale}`, ([x]) => {
      for (let i = 0; i < x!.size; i++) x!.data[i]! *= scale;
      return splitActivate(x!, parts);
    }, [[B, K]]);
    // two parts' outputs unused: no gradient flows from them
    compare(`splitActivate ×${scale}, some parts unused`, ([x]) => {
      for (let i = 0; i < x!.size; i++) x!.data[i]! *= scale;
      return splitActivate(x!, parts).filter((_, i) => i !== 3 && i !== 6);
    }, [[B, K]]);
  }
});

test('splitActivate kernel: tanh keeps its relative accuracy near 0 (a series there, not 1 − a number near 1)', () => {
  const xs = [0, -0, 1e-30, -1e-20, 1e-8, 3e-6, -1e-4, 0.01, 0.1, -0.2, 0.2499, 0.25, -0.2501, 0.3, 0.5, 1, -2, 5, 9, 20, -40];
  for (let v = -3; v <= 3; v += 0.01) xs.push(v);
  const x = new Tensor(Float32Array.from(xs), [1, xs.length]);
  const [y] = splitActivate(x, [{ size: xs.length, activation: 'tanh' }]);
  xs.forEach((v, i) => {
    const exact = Math.tanh(Math.fround(v));
    const got = y!.data[i]!;
    assert.ok(exact === 0 ? Object.is(got, exact) : Math.abs(got - exact) <= 1e-6 * Math.abs(exact), `tanh(${v}) = ${got}, exactly ${exact}`);
  });
});

test('splitActivate kernel: softplus keeps its relative accuracy in the tails (log1p, not log of 1 + a tiny number)', () => {
  const xs = Array.from({ length: 161 }, (_, i) => -20 + i * 0.25);
  const x = new Tensor(Float32Array.from(xs), [1, xs.length]);
  const [y] = splitActivate(x, [{ size: xs.length, activation: 'softplus' }]);
  xs.forEach((v, i) => {
    const exact = Math.max(Math.fround(v), 0) + Math.log1p(Math.exp(-Math.abs(Math.fround(v))));
    assert.ok(Math.abs(y!.data[i]! - exact) <= 1e-6 * exact, `softplus(${v}) = ${y!.data[i]}, exactly ${exact}`);
  });
});

test('write-weighting kernel agrees with its TypeScript twin (N 7: a tail of three, and 16), inputs without gradients included', () => {
  for (const n of [7, 16]) {
    compare(`writeWeighting N=${n}`, ([a, c, ga, gw]) => writeWeighting(softmax(a!), softmax(c!), sigmoid(ga!), sigmoid(gw!)), [[B, n], [B, n], [B, 1], [B, 1]]);
    // constant allocation and gates: only the content weights' gradient is wanted
    compare(`writeWeighting N=${n}, constant allocation and gates`, ([c]) =>
      writeWeighting(Tensor.full([B, n], 1 / n), softmax(c!), Tensor.full([B, 1], 0.3), Tensor.full([B, 1], 0.8)), [[B, n]]);
  }
});

test('read-weighting kernel agrees with its TypeScript twin (one and two write heads, N 7 and 8)', () => {
  for (const n of [N, 8]) {
    for (const wh of [1, 2]) {
      const shapes = [[B, n], ...Array.from({ length: 2 * wh }, () => [B, n]), [B, 2 * wh + 1]];
      compare(`readWeighting Wh=${wh} N=${n}`, ([c, ...rest]) => {
        const bwd = rest.slice(0, wh).map((t) => softmax(t)), fwd = rest.slice(wh, 2 * wh).map((t) => softmax(t));
        return readWeighting(softmax(c!), bwd, fwd, softmax(rest[2 * wh]!));
      }, shapes);
    }
  }
});

test('concat and the bias of linear on the kernel heap (block copies and adds in WebAssembly) give the same bits as their loops off it', () => {
  const cases: [string, (t: Tensor[]) => Tensor[], number[][]][] = [
    // a's gradient holds tanh's part when concat's backward adds to it
    ['concat', ([a, b, c]) => [concat([a!, tanh(b!), c!]), tanh(a!)], [[B, 5], [B, 1], [B, 9]]],
    // so does the bias's
    ['linear', ([x, w, b]) => [linear(x!, w!, b!), tanh(b!)], [[B, 6], [7, 6], [7]]],
  ];
  for (const [name, build, shapes] of cases) {
    const off = run('wasm', build, 5, shapes);
    const pool = new BufferPool(heapAllocator());
    const on = run('wasm', build, 5, shapes, pool);
    assert.ok(on.onHeap && !off.onHeap);
    assert.deepEqual(Array.from(on.out), Array.from(off.out), name);
    on.grads.forEach((g, i) => assert.deepEqual(Array.from(g), Array.from(off.grads[i]!), `${name} gradient ${i}`));
    pool.clear();
  }
});

test('fused location kernel (interpolate, shift, sharpen) agrees with its three TypeScript twins', () => {
  for (const S of [3, 5]) {
    compare(`locationWeights S=${S}`, ([wc, wp, g, s, gm]) =>
      locationWeights(softmax(wc!), softmax(wp!), sigmoid(g!), softmax(s!), oneplus(gm!)), [[B, N], [B, N], [B, 1], [B, S], [B, 1]]);
  }
  // exact zeros in the shifted weights (one-hot previous weights, gate shut, no shift spread)
  compare('locationWeights with zeros', ([s]) => {
    const wc = Tensor.full([B, N], 1 / N);
    const prev = Tensor.zeros([B, N]);
    for (let b = 0; b < B; b++) prev.data[b * N + 2] = 1; // gate 0: w~ is this one-hot spread over 3 slots, 0 elsewhere
    return locationWeights(wc, prev, Tensor.zeros([B, 1]), softmax(s!), Tensor.full([B, 1], 2.5));
  }, [[B, 3]]);
  // weights that sharpen below the floor (2^-64): 0 in both, with no gradient through them
  compare('locationWeights below the weight floor', ([s]) => {
    const wc = Tensor.full([B, N], 1e-9);
    for (let b = 0; b < B; b++) wc.data[b * N + b] = 1 - (N - 1) * 1e-9;
    return locationWeights(wc, Tensor.full([B, N], 1 / N), Tensor.full([B, 1], 1 - 1e-7), softmax(s!), Tensor.full([B, 1], 3));
  }, [[B, 3]]);
});

test('fused location kernel: a weight that sharpens below the floor is exactly 0, as in its twin, and takes no gradient', () => {
  for (const kernels of ['wasm', 'ts'] as const) {
    setKernels(kernels);
    try {
      // w~ ≈ 1.5e-8 off the diagonal: cubed, ~3e-24, under the floor (2^-64 ≈ 5.4e-20)
      const wc = Tensor.full([B, N], 1e-9), prev = Tensor.full([B, N], 1 / N);
      for (let b = 0; b < B; b++) wc.data[b * N + b] = 1 - (N - 1) * 1e-9;
      const content = new Tensor(wc.data, [B, N], true);
      const tape = new Tape();
      const w = onTape(tape, [content], () => locationWeights(content, prev, Tensor.full([B, 1], 1 - 1e-7), Tensor.from(Array(B).fill([0, 1, 0]).flat(), [B, 3]), Tensor.full([B, 1], 3)));
      tape.backward(weightedSum(w, Array.from({ length: B * N }, (_, i) => (i % 3) - 1)));
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < N; i++) {
          const v = w.data[b * N + i]!, g = content.grad![b * N + i]!;
          if (i === b) assert.ok(v > 0.99 && Number.isFinite(g), `${kernels}: the kept weight (${b}, ${i}) ${v}, gradient ${g}`);
          else assert.ok(v === 0 && g === 0, `${kernels}: weight (${b}, ${i}) ${v} (floor ${WEIGHT_FLOOR}), gradient ${g}`);
        }
      }
    } finally {
      setKernels('wasm');
    }
  }
});

test('fused location kernel and its twin: a blurred w~ and a large γ (N=128, γ = 20 and 50) give weights summing to 1, and agree', () => {
  const n = 128;
  // w_c a softmax over logits clamped to ±0.05 (entries within 10% of each other), w_{t−1} uniform:
  // every w~^γ is below 1e-40, so only an exact normalisation keeps each row's sum at 1
  const build = (gv: number) => ([wc, g, s]: Tensor[]): Tensor =>
    locationWeights(softmax(clamp(wc!, -0.05, 0.05)), Tensor.full([B, n], 1 / n), sigmoid(g!), softmax(s!), Tensor.full([B, 1], gv));
  for (const gv of [20, 50]) {
    for (const kernels of ['wasm', 'ts'] as const) {
      setKernels(kernels);
      try {
        const rng = new Rng(13);
        const w = build(gv)([rand([B, n], rng), rand([B, 1], rng), rand([B, 3], rng)]);
        for (let b = 0; b < B; b++) {
          let sum = 0;
          for (let i = 0; i < n; i++) sum += w.data[b * n + i]!;
          assert.ok(Math.abs(sum - 1) < 1e-6, `${kernels} γ=${gv}: row ${b} sums to ${sum}`);
        }
        // uniform w~ (gate shut on a uniform w_{t−1}): each weight exactly 1/N
        const u = locationWeights(Tensor.full([B, n], 1 / n), Tensor.full([B, n], 1 / n), Tensor.zeros([B, 1]), Tensor.from(Array(B).fill([0.2, 0.5, 0.3]).flat(), [B, 3]), Tensor.full([B, 1], gv));
        assert.ok(Array.from(u.data).every((v) => v === 1 / n), `${kernels} γ=${gv}: uniform weights ${u.data.slice(0, 4)}`);
      } finally {
        setKernels('wasm');
      }
    }
    compare(`locationWeights blurred N=${n} γ=${gv}`, build(gv), [[B, n], [B, 1], [B, 3]]);
  }
});

test('fused location kernel and its twin: an all-zero w~ gives all-zero weights and zero gradients, no NaN', () => {
  for (const kernels of ['wasm', 'ts'] as const) {
    setKernels(kernels);
    try {
      // w_c = w_{t−1} = 0: w~ = 0 whatever the gate and shift; every input requires its gradient
      const [wc, wp, g, s, gm] = [[B, N], [B, N], [B, 1], [B, 3], [B, 1]].map((shape) => Tensor.zeros(shape, 'f32', true)) as [Tensor, Tensor, Tensor, Tensor, Tensor];
      g.data.fill(0.5);
      s.data.fill(1 / 3);
      gm.data.fill(2.5);
      const tape = new Tape();
      const w = onTape(tape, [wc, wp, g, s, gm], () => locationWeights(wc, wp, g, s, gm));
      tape.backward(weightedSum(w, Array.from({ length: B * N }, (_, i) => (i % 3) - 1)));
      assert.ok(Array.from(w.data).every((v) => v === 0), `${kernels}: weights ${Array.from(w.data)}`);
      for (const [name, x] of [['w_c', wc], ['w_{t−1}', wp], ['g', g], ['s', s], ['γ', gm]] as const) {
        assert.ok(Array.from(x.grad!).every((v) => v === 0), `${kernels}: gradient of ${name} ${Array.from(x.grad!)}`);
      }
    } finally {
      setKernels('wasm');
    }
  }
  // the same with its gradients compared to the twin's, from random gates, shifts and γ
  compare('locationWeights all-zero w~', ([wc, wp, g, s, gm]) =>
    locationWeights(setTo(wc!, Tensor.zeros([B, N])), setTo(wp!, Tensor.zeros([B, N])), sigmoid(g!), softmax(s!), oneplus(gm!)), [[B, N], [B, N], [B, 1], [B, 3], [B, 1]]);
});

test('fused location kernel and its twin: a NaN γ gives NaN weights and gradients, not weights floored to 0', () => {
  for (const kernels of ['wasm', 'ts'] as const) {
    setKernels(kernels);
    try {
      const content = new Tensor(Tensor.full([B, N], 1 / N).data, [B, N], true);
      const tape = new Tape();
      const w = onTape(tape, [content], () => locationWeights(content, Tensor.full([B, N], 1 / N), Tensor.full([B, 1], 0.5), Tensor.from(Array(B).fill([0, 1, 0]).flat(), [B, 3]), Tensor.full([B, 1], NaN)));
      tape.backward(weightedSum(w, Array.from({ length: B * N }, (_, i) => 1 + (i % 3))));
      assert.ok(Array.from(w.data).every(Number.isNaN), `${kernels}: weights ${Array.from(w.data)}`);
      assert.ok(Array.from(content.grad!).every(Number.isNaN), `${kernels}: gradient ${Array.from(content.grad!)}`);
    } finally {
      setKernels('wasm');
    }
  }
});

/** Rows of weights that are all zero (w = 0) or one-hot on a slot varying with the row (Σ w = 1). */
function degenerate(kind: 'zero' | 'oneHot', B: number, N: number): Tensor {
  const w = Tensor.zeros([B, N]);
  if (kind === 'oneHot') for (let b = 0; b < B; b++) w.data[b * N + ((3 * b + 1) % N)] = 1;
  return w;
}

/** x, its values replaced by `values`: a degenerate input that still has its gradient compared. */
function setTo(x: Tensor, values: Tensor): Tensor {
  x.data.set(values.data);
  return x;
}

test('temporal-read kernel (every read head from one link) agrees with followLinksBoth per head', () => {
  // N = 7 runs the kernels' scalar tails, N = 16 (the DNC presets) only their SIMD loops
  for (const n of [7, 16]) {
    const heads = (w: Tensor[]): Tensor[] => w.map((x) => softmax(x));
    const shapes = (R: number): number[][] => [[B, n, n], ...Array.from({ length: R }, () => [B, n])];
    for (const R of [1, 4]) {
      compare(`followLinksHeads N=${n} R=${R}`, ([L, ...w]) => {
        const d = followLinksHeads(sigmoid(L!), heads(w));
        return [...d.forward, ...d.backward];
      }, shapes(R));
    }
    // absent output gradients: one direction unused, and a head whose outputs are both unused
    compare(`followLinksHeads N=${n} forward only`, ([L, ...w]) => followLinksHeads(sigmoid(L!), heads(w)).forward, shapes(3));
    compare(`followLinksHeads N=${n} backward only`, ([L, ...w]) => followLinksHeads(sigmoid(L!), heads(w)).backward, shapes(3));
    compare(`followLinksHeads N=${n} head 1 unused`, ([L, ...w]) => {
      const d = followLinksHeads(sigmoid(L!), heads(w));
      return [d.forward[0]!, d.backward[2]!];
    }, shapes(3));
    // absent input gradients: a constant link (the DNC's first step), constant read weights
    compare(`followLinksHeads N=${n} constant link`, ([L, ...w]) => {
      const d = followLinksHeads(new Tensor(sigmoid(L!).data, [B, n, n]), heads(w));
      return [...d.forward, ...d.backward];
    }, shapes(2));
    compare(`followLinksHeads N=${n} constant weights`, ([L]) => {
      const d = followLinksHeads(sigmoid(L!), [degenerate('oneHot', B, n), Tensor.full([B, n], 1 / n)]);
      return [...d.forward, ...d.backward];
    }, [[B, n, n]]);
    // degenerate: all-zero and one-hot read weights, an all-zero link
    compare(`followLinksHeads N=${n} zero and one-hot weights`, ([L, z, o]) => {
      const zero = setTo(z!, degenerate('zero', B, n)), hot = setTo(o!, degenerate('oneHot', B, n));
      const d = followLinksHeads(sigmoid(L!), [zero, hot]);
      return [...d.forward, ...d.backward];
    }, [[B, n, n], [B, n], [B, n]]);
    // one tensor as two heads' weights: its gradient is the sum over both (the op takes its
    // TypeScript twin for repeated tensors, so this holds the dispatch, not the kernel)
    compare(`followLinksHeads N=${n} one tensor twice (runs the twin)`, ([L, w]) => {
      const s = softmax(w!);
      const d = followLinksHeads(sigmoid(L!), [s, s]);
      return [...d.forward, ...d.backward];
    }, [[B, n, n], [B, n]]);
    compare(`followLinksHeads N=${n} zero link`, ([L, w]) => {
      const d = followLinksHeads(setTo(L!, Tensor.zeros([B, n, n])), [softmax(w!)]);
      return [...d.forward, ...d.backward];
    }, [[B, n, n], [B, n]]);
  }
});

test('followLinksHeads and updateLinkage run as one kernel op on float32, as their twins otherwise', () => {
  // the comparisons above would pass trivially if an op fell back to its twin: count the tape entries
  const ops = (kind: 'wasm' | 'ts', dtype: 'f32' | 'f64', op: (L: Tensor, w: Tensor[]) => unknown): number => {
    setKernels(kind);
    try {
      const L = Tensor.zeros([B, N, N], dtype, true);
      const w = [0, 1, 2].map(() => new Tensor(Tensor.full([B, N], 1 / N, dtype).data, [B, N], true));
      const tape = new Tape();
      onTape(tape, [L, ...w], () => op(L, w));
      return tape.length;
    } finally {
      setKernels('wasm');
    }
  };
  const follow = (L: Tensor, w: Tensor[]): unknown => followLinksHeads(L, w);
  assert.equal(ops('wasm', 'f32', follow), 1);
  assert.equal(ops('ts', 'f32', follow), 3); // followLinksBoth per head
  assert.equal(ops('wasm', 'f64', follow), 3);
  const linkage = (L: Tensor, w: Tensor[]): unknown => updateLinkage(L, w[0]!, w[1]!);
  assert.equal(ops('wasm', 'f32', linkage), 1);
  assert.equal(ops('ts', 'f32', linkage), 2); // updateLink, updatePrecedence
  assert.equal(ops('wasm', 'f64', linkage), 2);
});

test('linkage kernel (link and precedence fused) agrees with updateLink and updatePrecedence', () => {
  for (const n of [7, 16]) {
    // weights: a softmax scaled by a gate, Σ w < 1 as the DNC's write weights
    const ww = (w: Tensor, g: Tensor): Tensor => writeWeighting(softmax(w), softmax(w), Tensor.full([B, 1], 0.5), sigmoid(g));
    const shapes = [[B, n, n], [B, n], [B, n], [B, 1]];
    const both = (r: { link: Tensor; precedence: Tensor }): Tensor[] => [r.link, r.precedence];
    compare(`updateLinkage N=${n}`, ([L, p, w, g]) => both(updateLinkage(sigmoid(L!), softmax(p!), ww(w!, g!))), shapes);
    // absent output gradients: only the link used, only the precedence used
    compare(`updateLinkage N=${n} link only`, ([L, p, w, g]) => updateLinkage(sigmoid(L!), softmax(p!), ww(w!, g!)).link, shapes);
    compare(`updateLinkage N=${n} precedence only`, ([L, p, w, g]) => updateLinkage(sigmoid(L!), softmax(p!), ww(w!, g!)).precedence, shapes);
    // absent input gradients: the DNC's first step (zero link and precedence, constants)
    compare(`updateLinkage N=${n} first step`, ([w, g]) => both(updateLinkage(Tensor.zeros([B, n, n]), Tensor.zeros([B, n]), ww(w!, g!))), [[B, n], [B, 1]]);
    compare(`updateLinkage N=${n} constant weights`, ([L, p]) => both(updateLinkage(sigmoid(L!), softmax(p!), Tensor.full([B, n], 0.5 / n))), [[B, n, n], [B, n]]);
    compare(`updateLinkage N=${n} one tensor as precedence and weights (runs the twin)`, ([L, w, g]) => {
      const x = ww(w!, g!);
      return both(updateLinkage(sigmoid(L!), x, x));
    }, [[B, n, n], [B, n], [B, 1]]);
    // degenerate: no write at all (w = 0) and a saturated one-hot write (Σ w = 1, 1 − Σ w = 0)
    for (const kind of ['zero', 'oneHot'] as const) {
      compare(`updateLinkage N=${n} ${kind} weights`, ([L, p, w]) =>
        both(updateLinkage(sigmoid(L!), softmax(p!), setTo(w!, degenerate(kind, B, n)))), [[B, n, n], [B, n], [B, n]]);
    }
  }
});

test('usage kernel agrees with updateUsage, write gradient stopped or not', () => {
  for (const n of [7, 16]) {
    for (const [Wh, R] of [[1, 4], [2, 3], [1, 1]] as const) {
      // inputs: u, then Wh write weights, R free gates, R read weights
      const shapes = [[B, n], ...Array.from({ length: Wh }, () => [B, n]), ...Array.from({ length: R }, () => [B, 1]), ...Array.from({ length: R }, () => [B, n])];
      const split = (xs: Tensor[]): { u: Tensor; ww: Tensor[]; f: Tensor[]; wr: Tensor[] } => ({
        u: sigmoid(xs[0]!), ww: xs.slice(1, 1 + Wh).map((x) => softmax(x)),
        f: xs.slice(1 + Wh, 1 + Wh + R).map((x) => sigmoid(x)), wr: xs.slice(1 + Wh + R).map((x) => softmax(x)),
      });
      for (const stop of [true, false]) {
        compare(`updateUsage N=${n} Wh=${Wh} R=${R} stop=${stop}`, (xs) => {
          const { u, ww, f, wr } = split(xs);
          return updateUsage(u, ww, f, wr, { stopWriteGradient: stop });
        }, shapes);
      }
      // absent input gradients: the first step's usage (zeros), constant free gates and read weights of head 0
      compare(`updateUsage N=${n} Wh=${Wh} R=${R} constants`, (xs) => {
        const { ww, f, wr } = split(xs);
        return updateUsage(Tensor.zeros([B, n]), ww, [Tensor.full([B, 1], 0.5), ...f.slice(1)], [degenerate('oneHot', B, n), ...wr.slice(1)], { stopWriteGradient: false });
      }, shapes);
      compare(`updateUsage N=${n} Wh=${Wh} R=${R} one tensor for every read head (runs the twin)`, (xs) => {
        const { u, ww, f } = split(xs);
        const r = softmax(xs[1 + Wh + R]!);
        return updateUsage(u, ww, f, f.map(() => r));
      }, shapes);
      // degenerate: usage 0 or 1, free gates 0 or 1, one-hot and all-zero weights
      compare(`updateUsage N=${n} Wh=${Wh} R=${R} saturated`, (xs) => {
        const u = setTo(xs[0]!, Tensor.from(Array.from({ length: B * n }, (_, k) => (k % 3 === 0 ? 1 : 0)), [B, n]));
        const ww = xs.slice(1, 1 + Wh).map((x, h) => setTo(x, degenerate(h % 2 ? 'zero' : 'oneHot', B, n)));
        const f = xs.slice(1 + Wh, 1 + Wh + R).map((x, i) => setTo(x, Tensor.full([B, 1], i % 2)));
        const wr = xs.slice(1 + Wh + R).map((x, i) => setTo(x, degenerate(i % 2 ? 'oneHot' : 'zero', B, n)));
        return updateUsage(u, ww, f, wr, { stopWriteGradient: false });
      }, shapes);
    }
  }
});

test('allocation kernel agrees with allocationWeights exactly, ties and saturated usage included', () => {
  // the kernel rounds as the twin does: the same order and the same values and gradients, bit for bit
  const rows = (n: number, kind: 'random' | 'ties' | 'saturated', rng: Rng): Float32Array => {
    const u = new Float32Array(B * n);
    for (let x = 0; x < u.length; x++) {
      if (kind === 'random') u[x] = rng.uniform();
      else if (kind === 'ties') u[x] = [0.5, 0.2, 0.5, 0.2, 0.9, 0, 0.3][x % 7]!; // repeated values, ties by slot index
      else u[x] = x % 3 === 0 ? 1 : x % 3 === 1 ? 0 : 1e-9; // 1e-9 and 0 round to the same û: a tie
    }
    return u;
  };
  for (const n of [7, 16]) {
    for (const kind of ['random', 'ties', 'saturated'] as const) {
      const rng = new Rng(n);
      const u0 = rows(n, kind, rng);
      const ga = Array.from({ length: B * n }, () => rng.normal());
      const run1 = (k: 'wasm' | 'ts'): { a: Float32Array; gu: Float32Array } => {
        setKernels(k);
        try {
          const u = new Tensor(Float32Array.from(u0), [B, n], true);
          const tape = new Tape();
          let a!: Tensor;
          const loss = onTape(tape, [u], () => weightedSum((a = allocationWeights(u)), ga));
          tape.backward(loss);
          return { a: Float32Array.from(a.data), gu: Float32Array.from(u.grad!) };
        } finally {
          setKernels('wasm');
        }
      };
      const w = run1('wasm'), t = run1('ts');
      assertAllClose(w.a, t.a, 0, 0, `allocation N=${n} ${kind}`);
      assertAllClose(w.gu, t.gu, 0, 0, `allocation gradient N=${n} ${kind}`);
    }
  }
  // several write heads, each allocating from the usage advanced by the heads before it
  compare('writeAllocations ×3', ([u, ga, gw]) => writeAllocations(sigmoid(u!), [0, 1, 2].map(() => ({ allocGate: sigmoid(ga!), writeGate: sigmoid(gw!) }))), [[B, N], [B, 1], [B, 1]]);
});

test('a DNC step sequence gives the same logits and parameter gradients on either kernels', () => {
  // every DNC memory kernel in one model: 2 write heads (the allocation of the second from the
  // advanced usage), 4 read heads following both links, N = 16 slots as the presets
  const cfg: ModelConfig = { ...DEFAULTS.model, type: 'dnc', controller: 'lstm', hiddenSize: 12, memorySlots: 16, wordSize: 6, readHeads: 4, writeHeads: 2 };
  const T = 6, Bm = 3, X = 5, Y = 4;
  const rng = new Rng(41);
  const input = Float32Array.from({ length: T * Bm * X }, () => rng.bit());
  const target = Float32Array.from({ length: T * Bm * Y }, () => rng.bit());
  const mask = Float32Array.from({ length: T * Bm }, (_, k) => (k >= Bm ? 1 : 0));
  const b = { T, B: Bm, X, Y, input, target, mask, lengths: [2, 2, 2], repeats: [1, 1, 1] };
  const run1 = (kind: 'wasm' | 'ts'): { logits: Float32Array; grads: Float32Array[] } => {
    setKernels(kind);
    try {
      const model = new Dnc(cfg, X, Y, new Rng(42));
      const tape = new Tape();
      let logits!: Tensor[];
      const loss = maskedBceLoss((logits = model.forward(new OpContext(null, tape, null), input, T, Bm)), b);
      tape.backward(loss);
      const flat = new Float32Array(T * Bm * Y);
      logits.forEach((z, t) => flat.set(z.data, t * Bm * Y));
      return { logits: flat, grads: [...model.params.values()].map((p) => Float32Array.from(p.grad!)) };
    } finally {
      setKernels('wasm');
    }
  };
  const w = run1('wasm'), t = run1('ts');
  assertAllClose(w.logits, t.logits, 1e-5, 1e-5, 'logits');
  // the gradients reach ~1e-2; the kernels' other summation order moves them by ~1e-10
  w.grads.forEach((g, i) => assertAllClose(g, t.grads[i]!, 1e-7, 1e-4, `parameter ${i} gradient`));
});

test('matmul kernels agree with their TypeScript twins, on the heap (in place) and off it (copied)', () => {
  const heap = kernelHeapOrNull()!;
  // widths through every column block (16, 8, 4, single) and sums through odd and even counts
  const shapes = [[5, 13, 7], [16, 130, 400], [1, 3, 1], [3, 30, 9], [4, 29, 6], [2, 8, 3], [7, 4, 5], [16, 70, 256], [1, 17, 2], [3, 12, 1], [2, 24, 5], [6, 63, 11]] as const;
  for (const onHeap of [true, false]) {
    for (const [b, I, O] of shapes) {
      const rng = new Rng(b * I * O);
      const make = (n: number): Float32Array => (onHeap ? heap.alloc(n)! : new Float32Array(n));
      const w = make(I * O), gw = make(I * O), x = make(b * I), gy = make(b * O);
      for (let i = 0; i < w.length; i++) w[i] = rng.normal();
      for (let i = 0; i < x.length; i++) x[i] = rng.normal();
      for (let i = 0; i < gy.length; i++) gy[i] = rng.normal();
      const y1 = make(b * O).fill(0.5), y2 = new Float32Array(b * O).fill(0.5);
      matmulXWt(heapFor(), x, w, y1, b, I, O);
      matmulXWtTs(x, w, y2, b, I, O);
      assertAllClose(y1, y2, 1e-4, 1e-5, `matmul ${b}×${I}×${O}`);
      const gx1 = make(b * I).fill(1), gx2 = new Float32Array(b * I).fill(1), gw2 = new Float32Array(I * O);
      matmulXWtBackward(heapFor(), x, w, gy, gx1, gw, b, I, O);
      matmulXWtBackwardTs(x, w, gy, gx2, gw2, b, I, O);
      assertAllClose(gx1, gx2, 1e-4, 1e-5, 'gx');
      assertAllClose(gw, gw2, 1e-4, 1e-5, 'gW');
      assert.equal(heap.owns(x), onHeap);
      if (onHeap) for (const t of [w, gw, x, gy, y1, gx1]) heap.release(t);
    }
  }
});

test('matmul kernels: a row or column gives the same bits whether it is tiled with others or alone (batch splits and head layouts do not change results)', () => {
  // widths whose last columns go as the top lanes of a block of eight (30, 29, 13) or four (27, 7), or one at a time (3)
  for (const [B, I, O] of [[5, 30, 9], [3, 29, 7], [7, 100, 13], [4, 27, 6], [3, 7, 5], [3, 13, 4], [3, 3, 3]] as const) {
    const rng = new Rng(B + I + O);
    const rand = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());
    const x = rand(B * I), w = rand(O * I), gy = rand(B * O);
    const y = new Float32Array(B * O), gx = new Float32Array(B * I), gw = new Float32Array(O * I);
    matmulXWt(heapFor(), x, w, y, B, I, O);
    matmulXWtBackward(heapFor(), x, w, gy, gx, gw, B, I, O);
    for (let b = 0; b < B; b++) {
      // batch row b alone
      const xb = x.slice(b * I, (b + 1) * I), gyb = gy.slice(b * O, (b + 1) * O);
      const yb = new Float32Array(O), gxb = new Float32Array(I), gwb = new Float32Array(O * I);
      matmulXWt(heapFor(), xb, w, yb, 1, I, O);
      matmulXWtBackward(heapFor(), xb, w, gyb, gxb, gwb, 1, I, O);
      assert.deepEqual(yb, y.slice(b * O, (b + 1) * O), `y row ${b} of ${B}×${I}×${O}`);
      assert.deepEqual(gxb, gx.slice(b * I, (b + 1) * I), `gx row ${b}`);
    }
    for (let o = 0; o < O; o++) {
      // output column o alone (one row of W)
      const wo = w.slice(o * I, (o + 1) * I), gyo = Float32Array.from({ length: B }, (_, b) => gy[b * O + o]!);
      const yo = new Float32Array(B), gwo = new Float32Array(I);
      matmulXWt(heapFor(), x, wo, yo, B, I, 1);
      matmulXWtBackward(heapFor(), x, wo, gyo, new Float32Array(B * I), gwo, B, I, 1);
      assert.deepEqual(yo, Float32Array.from({ length: B }, (_, b) => y[b * O + o]!), `y column ${o}`);
      assert.deepEqual(gwo, gw.slice(o * I, (o + 1) * I), `gW row ${o}`);
    }
  }
});

test('matmulXWtBackwardWList: the same bits as one matmulXWtBackwardW call per item, in order (16-wide blocks, tails, an odd last row, items of 0 rows or an all-zero gradient)', () => {
  const heap = kernelHeapOrNull()!;
  const rng = new Rng(17);
  for (const [I, O] of [[134, 256], [64, 135], [30, 9], [3, 5], [16, 7], [29, 6], [13, 1], [128, 5]] as const) {
    for (const rows of [[8, 8, 4, 0, 8], [1], [3, 2], [4, 4, 4]]) {
      const items = rows.map((B) => {
        const x = heap.alloc(Math.max(B, 1) * I)!, gy = heap.alloc(Math.max(B, 1) * O)!;
        for (let i = 0; i < x.length; i++) x[i] = rng.normal();
        for (let i = 0; i < gy.length; i++) gy[i] = rng.normal();
        return { x, gy, B };
      });
      // skipped, as matmulXWtBackwardW skips it (with Inf in x, not skipping it would add NaN)
      if (items.length > 3) {
        items[1]!.gy.fill(0);
        items[1]!.x.fill(Infinity);
      }
      const each = heap.alloc(I * O)!, once = heap.alloc(I * O)!;
      for (let i = 0; i < each.length; i++) each[i] = once[i] = rng.normal();
      for (const { x, gy, B } of items) if (B > 0) heap.k.matmulXWtBackwardW(heap.ptr(x), heap.ptr(gy), heap.ptr(each), B, I, O);
      const list = heap.alloc(3 * items.length)!, skip = heap.alloc(items.length)!;
      const words = new Int32Array(list.buffer, list.byteOffset, list.length);
      items.forEach(({ x, gy, B }, j) => words.set([heap.ptr(x), heap.ptr(gy), B], 3 * j));
      heap.k.matmulXWtBackwardWList(heap.ptr(list), items.length, heap.ptr(skip), heap.ptr(once), I, O);
      assert.deepEqual(once, each, `I ${I}, O ${O}, rows ${rows.join(' ')}`);
      for (const b of [each, once, list, skip, ...items.flatMap((it) => [it.x, it.gy])]) heap.release(b);
    }
  }
});

test('weight gradients deferred to the end of the backward pass (one list per weight) give the bits of a product per time step, on an NTM and a DNC', () => {
  const heap = kernelHeapOrNull()!;
  for (const name of ['ntm-copy-small', 'dnc-repeat-copy-small']) {
    const config = cloneConfig(findPreset(name)!.config);
    const task = createTask(config.task);
    const model = createModel(config.model, task.inputSize, task.outputSize, new Rng(4));
    const batch = task.sample(new Rng(5), 4);
    const grads = (defer: boolean): { grads: Float32Array[]; lists: number } => {
      const k = heap.k;
      let lists = 0;
      heap.k = { ...k, matmulXWtBackwardWList: (...a: number[]) => { lists++; (k.matmulXWtBackwardWList as (...b: number[]) => void)(...a); } } as typeof k;
      try {
        for (const p of model.params.values()) p.g().fill(0);
        // (no replay: a recording would put its own kernels in heap.k)
        const steps = new StepContext(new BufferPool(heapAllocator()), { replay: false, deferWeightGrads: defer });
        accumulateGradients(model, batch, steps);
        steps.pool.clear();
        return { grads: [...model.params.values()].map((p) => Float32Array.from(p.grad!)), lists };
      } finally {
        heap.k = k;
      }
    };
    const now = grads(false), later = grads(true);
    assert.equal(now.lists, 0);
    // the controller's two LSTM weights and each linear's weight: one list each
    assert.ok(later.lists >= 3, `${name}: ${later.lists} lists`);
    later.grads.forEach((g, i) => assert.deepEqual(g, now.grads[i], `${name}: gradient ${i}`));
  }
});

test('kernel heap: views stay valid as it grows; released blocks are reused by size; a pool gives its buffers back', () => {
  const heap = kernelHeapOrNull()!;
  const a = heap.alloc(1000)!;
  a[999] = 7;
  const grown = heap.alloc(4 << 20)!; // 16 MB: grows the memory
  assert.equal(a[999], 7, 'an older view reads the same memory after the growth');
  assert.ok(heap.owns(a) && heap.owns(grown) && !heap.owns(new Float32Array(4)));
  const off = grown.byteOffset;
  heap.release(grown);
  const again = heap.alloc(4 << 20)!;
  assert.equal(again.byteOffset, off, 'the released block of that size is handed out again');
  assert.ok(again.every((v) => v === 0), 'zeroed');
  heap.release(again);
  heap.release(a);

  let released = 0;
  const pool = new BufferPool({ alloc: (n) => heap.alloc(n), release: (b) => { released++; heap.release(b); }, zero: (b) => heap.zero(b) }, 2);
  const first = OpContext.step(pool).alloc('f32', 64);
  assert.ok(heap.owns(first));
  OpContext.step(pool).alloc('f32', 32);
  OpContext.step(pool).alloc('f32', 32); // the 64 floats have been idle for one step: kept
  assert.equal(released, 0);
  OpContext.step(pool).alloc('f32', 32); // idle for two: given back
  assert.equal(released, 1);
  pool.clear();
  assert.equal(released, 2);
});


test('kernel heap: ptr gives the byte offset of any float32 view on its memory (made by alloc or not, before or after a growth) and −1 for anything else', () => {
  const heap = kernelHeapOrNull()!;
  const a = heap.alloc(10)!;
  assert.equal(heap.ptr(a), a.byteOffset);
  // a view the heap did not make: found by its buffer, then remembered
  const other = new Float32Array(heap.memory.buffer, a.byteOffset + 8, 2);
  assert.equal(heap.ptr(other), a.byteOffset + 8);
  assert.equal(heap.ptr(other), a.byteOffset + 8, 'the second lookup (remembered) gives the same offset');
  const before = new Float32Array(heap.memory.buffer, a.byteOffset, 4); // on the buffer object from before the growth
  const grown = heap.alloc(8 << 20)!;
  assert.equal(heap.ptr(before), a.byteOffset);
  assert.equal(heap.ptr(grown), grown.byteOffset);
  assert.equal(heap.ptr(new Float32Array(4)), -1);
  assert.equal(heap.ptr(new Float64Array(heap.memory.buffer, 0, 2)), -1, 'float64 views are not for the float32 kernels');
  assert.equal(heap.ptr(new Float32Array(new SharedArrayBuffer(64))), -1, 'another shared memory');
  assert.equal(heap.ptr(null), -1);
  heap.release(grown);
  heap.release(a);
  assert.throws(() => heap.zero(new Float32Array(4)), /not on this heap/);
});
test('fused LSTM kernel agrees with its TypeScript twin (H a multiple of 4 and not; h, c or both used; saturated gates)', () => {
  for (const Hs of [8, 5]) {
    const G = 4 * Hs, X = 6;
    const shapes = [[G, X], [G, Hs], [G], [G], [B, X], [B, Hs], [B, Hs]];
    const cell = ([wih, whh, bih, bhh, x, h, c]: Tensor[], gain = 1): { h: Tensor; c: Tensor } => {
      for (let i = 0; i < x!.size; i++) x!.data[i]! *= gain; // gain 40: most gates saturate
      return lstmCell({ weightIh: wih!, weightHh: whh!, biasIh: bih!, biasHh: bhh! }, x!, h!, c!);
    };
    compare(`lstm H=${Hs} (h and c)`, (t) => { const o = cell(t); return concat([o.h, o.c]); }, shapes);
    compare(`lstm H=${Hs} (h only)`, (t) => cell(t).h, shapes);
    compare(`lstm H=${Hs} (c only)`, (t) => cell(t).c, shapes);
    compare(`lstm H=${Hs} (saturated)`, (t) => cell(t, 40).h, shapes);
  }
});

test('a whole model step trains identically enough on either kernels', () => {
  // guards the dispatch itself: the same probe through lstm-sized matmuls and memory ops
  compare('composite', ([M, k, x]) => {
    const w = contentWeights(M!, tanh(k!), Tensor.full([B, 1], 3));
    const r = readMemory(M!, w);
    return addScalars([weightedSum(r, new Array(B * W).fill(1)), weightedSum(x!, new Array(B * W).fill(0.5))]);
  }, [[B, N, W], [B, W], [B, W]]);
});

test('whole NTM and DNC training steps: WASM kernels (heads in one product, buffers in place) against the TypeScript twins', () => {
  for (const type of ['ntm', 'dnc'] as const) {
    const cfg = { ...cloneConfig(DEFAULTS).model, type, hiddenSize: 12, memorySlots: 6, wordSize: 5, readHeads: 2, writeHeads: type === 'dnc' ? 1 : 2 };
    const task = copyTask({ bits: 3, minWords: 1, maxWords: 3 });
    const batch = task.sample(new Rng(3), 4);
    const grads = (kind: 'wasm' | 'ts'): { loss: number; grads: Float32Array[]; fused: boolean } => {
      setKernels(kind);
      try {
        const model = createModel(cfg, task.inputSize, task.outputSize, new Rng(1));
        const steps = new StepContext(new BufferPool(heapAllocator()));
        const loss = accumulateGradients(model, batch, steps);
        const heads = [...model.params.keys()].filter((n) => n.startsWith('heads.') && n.endsWith('.weight'));
        const layout = (model as unknown as { heads: HeadLayout }).heads;
        const out = { loss, grads: [...model.params.values()].map((p) => Float32Array.from(p.grad!)), fused: heads.length > 0 && headsFused(model.params, layout) };
        steps.pool.clear();
        return out;
      } finally {
        setKernels('wasm');
      }
    };
    const a = grads('wasm'), b = grads('ts');
    assert.ok(a.fused && !b.fused, 'the WASM model lives on the heap, the TypeScript one does not');
    assert.ok(Math.abs(a.loss - b.loss) < 1e-5, `${type} loss ${a.loss} vs ${b.loss}`);
    a.grads.forEach((g, i) => assertAllClose(g, b.grads[i]!, 1e-3, 1e-5, `${type} gradient of parameter ${i}`));
  }
});

test('bulk kernels: sum of squares and copies agree with plain loops (eight at a time, and the tail)', () => {
  const heap = kernelHeapOrNull()!;
  const rng = new Rng(5);
  for (const n of [1, 3, 4, 7, 8, 13, 15, 64, 1001]) {
    const a = heap.alloc(n)!;
    for (let i = 0; i < n; i++) a[i] = rng.normal();
    let s = 0;
    for (let i = 0; i < n; i++) s += a[i]! * a[i]!;
    assert.ok(Math.abs(heap.k.sumSquares(a.byteOffset, n) - s) <= 1e-12 * s, `sumSquares n=${n}`);
    const b = heap.alloc(n)!;
    heap.copy(b, a);
    assert.deepEqual(Array.from(b), Array.from(a));
    heap.release(a);
    heap.release(b);
  }
});

test('vectorised exp and log (LSTM gates, sharpening): relative error below 5e-7 against Math.exp and Math.log', () => {
  const heap = kernelHeapOrNull()!;
  const n = 4096;
  const x = heap.alloc(n)!, y = heap.alloc(n)!;
  // exp over [−80, 80], where results are normal floats
  for (let i = 0; i < n; i++) x[i] = -80 + (160 * i) / (n - 1);
  heap.k.expArray(x.byteOffset, y.byteOffset, n);
  let worst = 0;
  for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(y[i]! / Math.exp(x[i]!) - 1));
  assert.ok(worst < 5e-7, `exp: worst relative error ${worst}`);
  // log over 1e−30 .. 1e30 (log-spaced) and around 1, where ln x is near 0
  for (let i = 0; i < n; i++) x[i] = i < n / 2 ? Math.pow(10, -30 + (60 * i) / (n / 2)) : 0.5 + (1.5 * (i - n / 2)) / (n / 2);
  heap.k.logArray(x.byteOffset, y.byteOffset, n);
  worst = 0;
  for (let i = 0; i < n; i++) {
    const t = Math.log(x[i]!);
    worst = Math.max(worst, Math.abs(y[i]! - t) / Math.max(Math.abs(t), 1e-3));
  }
  assert.ok(worst < 5e-7, `log: worst relative error ${worst}`);
  heap.release(x);
  heap.release(y);
});

test('kernel-only ops: switching to the TypeScript kernels between forward and backward keeps the gradients', () => {
  // location, links, linkage and allocation save what only their kernel reads: the backward
  // pass must run on the kernel whatever setKernels says by then (the tape's context keeps the
  // kernels it was made with)
  const cases: [string, number[][], (t: Tensor[]) => Tensor[]][] = [
    ['locationWeights', [[B, N], [B, N], [B, 1], [B, 3], [B, 1]],
      ([c, p, g, s, gm]) => [locationWeights(softmax(c!), softmax(p!), sigmoid(g!), softmax(s!), oneplus(gm!))]],
    ['allocationWeights', [[B, N]], ([u]) => [allocationWeights(sigmoid(u!))]],
    ['updateLinkage', [[B, N, N], [B, N], [B, N]], ([L, p, w]) => {
      const o = updateLinkage(sigmoid(L!), softmax(p!), softmax(w!));
      return [o.link, o.precedence];
    }],
    ['followLinksHeads', [[B, N, N], [B, N], [B, N]], ([L, a, b]) => {
      const o = followLinksHeads(sigmoid(L!), [softmax(a!), softmax(b!)]);
      return [...o.forward, ...o.backward];
    }],
  ];
  for (const [name, shapes, build] of cases) {
    const grads = (switchToTs: boolean): Float32Array[] => {
      const rng = new Rng(31);
      const inputs = shapes.map((sh) => rand(sh, rng));
      const tape = new Tape();
      const loss = onTape(tape, inputs, () => addScalars(build(inputs).map((y) => weightedSum(y, Array.from({ length: y.size }, (_, i) => Math.sin(i + 1))))));
      try {
        if (switchToTs) setKernels('ts');
        tape.backward(loss);
      } finally {
        setKernels('wasm');
      }
      return inputs.map((x) => Float32Array.from(x.grad ?? new Float32Array(x.size)));
    };
    const a = grads(false), b = grads(true);
    assert.ok(a.every((g) => g.some((v) => v !== 0)), `${name}: every input gets a gradient`);
    a.forEach((g, i) => assert.deepEqual(Array.from(b[i]!), Array.from(g), `${name} gradient ${i}`));
  }
});

test('one-head write: the kernel keeps no erase factor, its backward pass runs on the kernel whatever setKernels says by then, and agrees with the TypeScript kernels', () => {
  const grads = (fwd: 'wasm' | 'ts', bwd: 'wasm' | 'ts'): Float32Array[] => {
    const rng = new Rng(17);
    const inputs = [[B, N, 8], [B, N], [B, 8], [B, 8]].map((sh) => rand(sh, rng));
    const tape = new Tape();
    try {
      setKernels(fwd);
      const [M, w, e, a] = inputs;
      const y = onTape(tape, inputs, () => writeMemory(M!, [{ weights: softmax(w!), erase: sigmoid(e!), add: tanh(a!) }]));
      const loss = weightedSum(y, Array.from({ length: y.size }, (_, i) => Math.cos(i)));
      setKernels(bwd);
      tape.backward(loss);
    } finally {
      setKernels('wasm');
    }
    return inputs.map((x) => Float32Array.from(x.grad!));
  };
  const ts = grads('ts', 'ts'), switched = grads('wasm', 'ts'), wasm = grads('wasm', 'wasm');
  ts.forEach((g, i) => {
    assert.ok(g.some((v) => v !== 0), `input ${i} gets a gradient`);
    assert.deepEqual(Array.from(switched[i]!), Array.from(wasm[i]!), `switched (the context keeps its kernels), gradient ${i}`);
    assertAllClose(wasm[i]!, g, 1e-5, 1e-5, `kernel, gradient ${i}`);
  });
});

test('a kernel call that cannot get scratch (heap full) leaves nothing behind for the next call', () => {
  const heap = kernelHeapOrNull()!;
  const off = Float32Array.from([1, 2, 3]);
  const out = new Float32Array(3);
  heap.in(off);
  heap.out(out);
  assert.throws(() => heap.tmp(2 ** 31), /cannot grow/);
  off.set([7, 8, 9]);
  const p = heap.in(off); // a fresh copy, not the failed call's block
  assert.deepEqual(Array.from(heap.f32.subarray(p >>> 2, (p >>> 2) + 3)), [7, 8, 9]);
  heap.done();
  assert.deepEqual(Array.from(out), [0, 0, 0], 'the failed call copies nothing back');
});

test('one off-heap buffer passed as two arguments of a kernel call behaves as it does on the heap', () => {
  // lstmCell(p, t, t, c): the same tensor as input and previous hidden state, whose gradient
  // buffer then takes both contributions
  const Hs = 4, G = 16;
  const grads = (onHeap: boolean): Float32Array[] => {
    const pool = new BufferPool(heapAllocator());
    // a step of the heap-backed pool (every buffer on the heap), or no pool
    const body = (pooled: boolean): Float32Array[] => {
      const rng = new Rng(41);
      const tape = new Tape();
      const ctx = pooled ? OpContext.step(pool, tape) : new OpContext(null, tape, null);
      const [wih, whh, bih, bhh, x, c] = [[G, Hs], [G, Hs], [G], [G], [B, Hs], [B, Hs]].map((sh) => rand(sh, rng, 1, ctx));
      const o = lstmCell({ weightIh: wih!, weightHh: whh!, biasIh: bih!, biasHh: bhh! }, x!, x!, c!);
      const loss = weightedSum(concat([o.h, o.c]), Array.from({ length: 2 * B * Hs }, (_, i) => Math.cos(i)));
      tape.backward(loss);
      assert.equal(kernelHeapOrNull()!.owns(x!.data), onHeap);
      return [x!, wih!, whh!].map((t) => Float32Array.from(t.grad!));
    };
    try {
      return body(onHeap);
    } finally {
      pool.clear();
    }
  };
  const on = grads(true), off = grads(false);
  on.forEach((g, i) => assertAllClose(off[i]!, g, 1e-6, 1e-6, `gradient ${i}`));
});
