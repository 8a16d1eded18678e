import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentWeights } from '../memory/content.js';
import { readMemory } from '../memory/read.js';
import { writeMemory } from '../memory/write.js';
import { locationWeights } from '../memory/location.js';
import { oneplus } from '../tensor/ops.js';
import { matmulXWt, matmulXWtBackward, matmulXWtBackwardTs, matmulXWtTs } from '../nn/linear.js';
import { softmax, sigmoid, tanh, weightedSum, addScalars, concat } from '../tensor/ops.js';
import { lstmCell } from '../nn/lstm.js';
import { cloneConfig, DEFAULTS } from '../config/schema.js';
import { createModel } from '../models/registry.js';
import { headsFused, type HeadSpec } from '../models/params.js';
import { copyTask } from '../tasks/copy.js';
import { accumulateGradients } from '../train/gradients.js';
import { Rng } from '../tensor/random.js';
import { alloc, BufferPool, Tape, Tensor, withPool, withTape } from '../tensor/tensor.js';
import { assertAllClose } from '../tensor/testing.js';
import { activeKernels, heapAllocator, kernelsAvailable, setKernels } from './wasm.js';
import { kernelHeapOrNull } from './heap.js';

// Each WASM kernel against its TypeScript twin, float32, within 1e-5 (SIMD sums in another order).
const B = 3, N = 7, W = 5, H = 2;

function rand(shape: number[], rng: Rng, scale = 1): Tensor {
  const t = Tensor.zeros(shape, 'f32', true);
  for (let i = 0; i < t.size; i++) t.data[i] = scale * rng.normal();
  return t;
}

/** Forward values and every input's gradient of a probe loss, with the given kernels. */
function run(kind: 'wasm' | 'ts', build: (inputs: Tensor[]) => Tensor, seed: number, shapes: number[][]): { out: Float32Array; grads: Float32Array[]; onHeap: boolean } {
  setKernels(kind);
  try {
    const rng = new Rng(seed);
    const inputs = shapes.map((s) => rand(s, rng));
    const tape = new Tape();
    let out!: Tensor;
    const loss = withTape(tape, () => {
      out = build(inputs);
      const c = new Rng(seed + 1);
      return weightedSum(out, Array.from({ length: out.size }, () => c.normal()));
    });
    tape.backward(loss);
    const grads = inputs.map((x) => Float32Array.from(x.grad ?? new Float32Array(x.size)));
    return { out: Float32Array.from(out.data), grads, onHeap: kernelHeapOrNull()!.owns(out.data) };
  } finally {
    setKernels('wasm');
  }
}

/**
 * The kernels on buffers off the heap (copied in and out) and on a heap-backed pool's buffers
 * (in place, as in training), each against the TypeScript twins.
 */
function compare(name: string, build: (inputs: Tensor[]) => Tensor, shapes: number[][]): void {
  const b = run('ts', build, 11, shapes);
  const copied = run('wasm', build, 11, shapes);
  const pool = new BufferPool(8, heapAllocator());
  const inPlace = withPool(pool, 0, () => run('wasm', build, 11, shapes));
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

test('content kernel agrees with its TypeScript twin', () => {
  compare('contentWeights', ([M, k, beta]) => contentWeights(M!, tanh(k!), beta!), [[B, N, W], [B, W], [B, 1]]);
});

test('read kernel agrees with its TypeScript twin', () => {
  compare('readMemory', ([M, w]) => readMemory(M!, softmax(w!)), [[B, N, W], [B, N]]);
});

test('write kernel agrees with its TypeScript twin, one and several heads', () => {
  for (const heads of [1, H, 3]) {
    const shapes = [[B, N, W]];
    for (let h = 0; h < heads; h++) shapes.push([B, N], [B, W], [B, W]);
    compare(`writeMemory ×${heads}`, ([M, ...rest]) => {
      const hs = [];
      for (let h = 0; h < heads; h++) hs.push({ weights: softmax(rest[3 * h]!), erase: sigmoid(rest[3 * h + 1]!), add: tanh(rest[3 * h + 2]!) });
      return writeMemory(M!, hs);
    }, shapes);
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
});

test('matmul kernels agree with their TypeScript twins, on the heap (in place) and off it (copied)', () => {
  const heap = kernelHeapOrNull()!;
  for (const onHeap of [true, false]) {
    for (const [b, I, O] of [[5, 13, 7], [16, 130, 400], [1, 3, 1]] as const) {
      const rng = new Rng(b * I * O);
      const make = (n: number): Float32Array => (onHeap ? heap.alloc(n)! : new Float32Array(n));
      const w = make(I * O), gw = make(I * O), x = make(b * I), gy = make(b * O);
      for (let i = 0; i < w.length; i++) w[i] = rng.normal();
      for (let i = 0; i < x.length; i++) x[i] = rng.normal();
      for (let i = 0; i < gy.length; i++) gy[i] = rng.normal();
      const y1 = make(b * O).fill(0.5), y2 = new Float32Array(b * O).fill(0.5);
      matmulXWt(x, w, y1, b, I, O);
      matmulXWtTs(x, w, y2, b, I, O);
      assertAllClose(y1, y2, 1e-4, 1e-5, `matmul ${b}×${I}×${O}`);
      const gx1 = make(b * I).fill(1), gx2 = new Float32Array(b * I).fill(1), gw2 = new Float32Array(I * O);
      matmulXWtBackward(x, w, gy, gx1, gw, b, I, O);
      matmulXWtBackwardTs(x, w, gy, gx2, gw2, b, I, O);
      assertAllClose(gx1, gx2, 1e-4, 1e-5, 'gx');
      assertAllClose(gw, gw2, 1e-4, 1e-5, 'gW');
      assert.equal(heap.owns(x), onHeap);
      if (onHeap) for (const t of [w, gw, x, gy, y1, gx1]) heap.release(t);
    }
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
  const pool = new BufferPool(1, { alloc: (n) => heap.alloc(n), release: (b) => { released++; heap.release(b); }, zero: (b) => heap.zero(b) });
  const first = withPool(pool, 1, () => alloc('f32', 64));
  assert.ok(heap.owns(first));
  withPool(pool, 2, () => alloc('f32', 64)); // key 1's plan is dropped: its buffer goes back
  assert.equal(released, 1);
  pool.clear();
  assert.equal(released, 2);
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
        const pool = new BufferPool(8, heapAllocator());
        const loss = accumulateGradients(model, batch, pool);
        const heads = [...model.params.keys()].filter((n) => n.startsWith('heads.') && n.endsWith('.weight'));
        const specs = (model as unknown as { heads: HeadSpec[] }).heads;
        const out = { loss, grads: [...model.params.values()].map((p) => Float32Array.from(p.grad!)), fused: heads.length > 0 && headsFused(model.params, specs) };
        pool.clear();
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

test('bulk kernels: sum of squares, finiteness and copies agree with plain loops (SIMD body and tail)', () => {
  const heap = kernelHeapOrNull()!;
  const rng = new Rng(5);
  for (const n of [1, 3, 4, 7, 64, 1001]) {
    const a = heap.alloc(n)!;
    for (let i = 0; i < n; i++) a[i] = rng.normal();
    let s = 0;
    for (let i = 0; i < n; i++) s += a[i]! * a[i]!;
    assert.ok(Math.abs(heap.k.sumSquares(a.byteOffset, n) - s) <= 1e-12 * s, `sumSquares n=${n}`);
    assert.equal(heap.k.allFinite(a.byteOffset, n), 1);
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const at of [0, n - 1, n >> 1]) {
        const keep = a[at]!;
        a[at] = bad;
        assert.equal(heap.k.allFinite(a.byteOffset, n), 0, `allFinite n=${n}, ${bad} at ${at}`);
        a[at] = keep;
      }
    }
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
