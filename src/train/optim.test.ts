import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clipGradNorm, createOptimizer, globalGradNorm, zeroGrads } from './optim.js';
import { DEFAULTS, type OptimizerConfig } from '../config/schema.js';
import { Tensor, type Buf } from '../tensor/tensor.js';
import { assertAllClose } from '../tensor/testing.js';
import { Rng } from '../tensor/random.js';
import { kernelHeapOrNull } from '../kernels/heap.js';

// One parameter of 3 elements (one with a zero gradient on the first step), two steps.
const P0 = [1.0, -2.0, 0.5];
const G1 = [0.5, -0.1, 0.0];
const G2 = [0.2, 0.3, -1.0];

function cfg(over: Partial<OptimizerConfig>): OptimizerConfig {
  return { ...DEFAULTS.optimizer, lr: 0.01, alpha: 0.9, eps: 1e-8, momentum: 0, beta1: 0.9, beta2: 0.999, ...over };
}

/** A parameter store with `w` (float64) and a parameter `frozen` that never gets a gradient. */
function store(): Map<string, Tensor> {
  return new Map([
    ['w', Tensor.from(P0, [3], 'f64', true)],
    ['frozen', Tensor.from([7, 8], [2], 'f64', true)],
  ]);
}

function run(c: OptimizerConfig): { after1: number[]; after2: number[]; params: Map<string, Tensor>; opt: ReturnType<typeof createOptimizer> } {
  const params = store();
  const opt = createOptimizer(c, params);
  const w = params.get('w')!;
  w.grad = Float64Array.from(G1);
  opt.step();
  const after1 = Array.from(w.data);
  w.grad = Float64Array.from(G2);
  opt.step();
  return { after1, after2: Array.from(w.data), params, opt };
}

test('rmsprop (PyTorch): v₀ = 0, v ← αv + (1−α)g², p ← p − lr·g/(√v + ε)', () => {
  const { after1, after2, params, opt } = run(cfg({ name: 'rmsprop' }));
  // step 1 by hand: v = 0.1·g², so each moved element moves by lr·g/(√0.1·|g| + ε) ≈ lr/√0.1 = 0.0316228
  assertAllClose(after1, [1 - 0.01 * 0.5 / (Math.sqrt(0.025) + 1e-8), -2 + 0.01 * 0.1 / (Math.sqrt(0.001) + 1e-8), 0.5], 0, 1e-15);
  assertAllClose(after1, [0.968377225398316, -1.968377233398313, 0.5], 1e-15, 0);
  assertAllClose(after2, [0.956091323816354, -1.9985283648257866, 0.5316227756016838], 1e-15, 0);
  const st = opt.state();
  assert.equal(st.step, 2);
  assert.deepEqual([...st.buffers.keys()].sort(), ['square_avg.frozen', 'square_avg.w']);
  assertAllClose(st.buffers.get('square_avg.w')!, [0.0265, 0.0099, 0.1], 1e-16, 1e-12);
  assert.deepEqual(Array.from(params.get('frozen')!.data), [7, 8], 'a parameter without a gradient is not touched');
});

test('rmsprop-tf (TensorFlow 1): v₀ = 1, p ← p − lr·g/√(v + ε)', () => {
  const { after1, after2, opt } = run(cfg({ name: 'rmsprop-tf' }));
  // step 1 by hand: v = 0.9 + 0.1·g² = [0.925, 0.901, 0.9]
  assertAllClose(after1, [1 - 0.005 / Math.sqrt(0.925 + 1e-8), -2 + 0.001 / Math.sqrt(0.901 + 1e-8), 0.5], 1e-15, 0);
  assertAllClose(after1, [0.994801247579001, -1.9989464925718765, 0.5], 1e-15, 0);
  assertAllClose(after2, [0.9926145082272614, -2.002259640361285, 0.5104828483096211], 1e-15, 0);
  assertAllClose(opt.state().buffers.get('square_avg.w')!, [0.8365, 0.8199, 0.91], 1e-15);
  // the frozen parameter's accumulator keeps its initial 1
  assert.deepEqual(Array.from(opt.state().buffers.get('square_avg.frozen')!), [1, 1]);
});

test('rmsprop with momentum: b ← μb + g/(√v + ε), p ← p − lr·b', () => {
  const { after1, after2, opt } = run(cfg({ name: 'rmsprop', momentum: 0.5 }));
  // the first step equals plain RMSprop (b starts at 0); the second adds half the first update again
  assertAllClose(after1, [0.968377225398316, -1.968377233398313, 0.5], 1e-15, 0);
  assertAllClose(after2, [0.940279936515512, -1.982716981524943, 0.5316227756016838], 1e-15, 0);
  const st = opt.state();
  assert.deepEqual([...st.buffers.keys()].sort(), ['momentum.frozen', 'momentum.w', 'square_avg.frozen', 'square_avg.w']);
  assertAllClose(st.buffers.get('momentum.w')!, [2.8097288882804055, 1.4339748126630163, -3.1622775601683832], 1e-14, 0);
});

test('adam (PyTorch): bias-corrected moments, ε outside the root', () => {
  const { after1, after2, opt } = run(cfg({ name: 'adam' }));
  // step 1 by hand: m̂ = g, v̂ = g², so p moves by lr·g/(|g| + ε) ≈ lr·sign(g)
  assertAllClose(after1, [1 - 0.01 * 0.5 / (0.5 + 1e-8), -2 + 0.01 * 0.1 / (0.1 + 1e-8), 0.5], 1e-15, 0);
  assertAllClose(after2, [0.9810142483902928, -1.9949418991120065, 0.5074413681304593], 1e-15, 0);
  const st = opt.state();
  assert.equal(st.step, 2);
  assertAllClose(st.buffers.get('exp_avg.w')!, [0.065, 0.021, -0.1], 1e-16, 1e-12);
  assertAllClose(st.buffers.get('exp_avg_sq.w')!, [0.00028975, 0.00009999, 0.001], 1e-18, 1e-12);
});

test('optimizer state: loadState into a fresh optimizer continues exactly; a missing buffer is an error', () => {
  for (const name of ['rmsprop', 'rmsprop-tf', 'adam'] as const) {
    const c = cfg({ name, momentum: name === 'rmsprop' ? 0.5 : 0 });
    const a = store();
    const optA = createOptimizer(c, a);
    a.get('w')!.grad = Float64Array.from(G1);
    optA.step();
    const st = optA.state();
    const saved = new Map([...st.buffers].map(([k, v]) => [k, Float64Array.from(v)]));

    const b = store();
    b.get('w')!.data.set(a.get('w')!.data);
    const optB = createOptimizer(c, b);
    optB.loadState(st.step, saved);
    assert.equal(optB.state().step, 1);
    a.get('w')!.grad = Float64Array.from(G2);
    b.get('w')!.grad = Float64Array.from(G2);
    optA.step();
    optB.step();
    assert.deepEqual(Array.from(b.get('w')!.data), Array.from(a.get('w')!.data), name);

    saved.delete([...saved.keys()][0]!);
    assert.throws(() => createOptimizer(c, store()).loadState(1, saved), /optimizer state: missing or mis-sized buffer/);
  }
});

test('globalGradNorm: √Σg² over every gradient, skipping parameters without one; NaN and Inf propagate', () => {
  const a = Tensor.zeros([2], 'f64', true), b = Tensor.zeros([1], 'f32', true), none = Tensor.zeros([5], 'f64', true);
  a.grad = Float64Array.from([3, 4]);
  b.grad = Float32Array.from([12]);
  assert.equal(globalGradNorm([a, b, none]), 13);
  assert.equal(globalGradNorm([]), 0);
  a.grad[0] = NaN;
  assert.ok(Number.isNaN(globalGradNorm([a, b])));
  a.grad[0] = Infinity;
  assert.equal(globalGradNorm([a, b]), Infinity);
  a.grad[0] = -Infinity;
  assert.equal(globalGradNorm([b, a]), Infinity);
});

test('clipGradNorm: scales every gradient to the max norm; leaves small norms and maxNorm 0 alone', () => {
  const mk = (): Tensor[] => {
    const a = Tensor.zeros([2], 'f64', true), b = Tensor.zeros([1], 'f64', true);
    a.grad = Float64Array.from([3, 4]);
    b.grad = Float64Array.from([12]);
    return [a, b, Tensor.zeros([3], 'f64', true)];
  };
  const ps = mk();
  clipGradNorm(ps, globalGradNorm(ps), 6.5);
  const scale = 6.5 / (13 + 1e-6); // PyTorch's clip_grad_norm_: max_norm / (norm + 1e-6)
  assertAllClose(ps[0]!.grad!, [3 * scale, 4 * scale], 1e-15, 1e-14);
  assertAllClose(ps[1]!.grad!, [12 * scale], 1e-15, 1e-14);
  assert.ok(Math.abs(globalGradNorm(ps) - 6.5) < 1e-6);
  assert.ok(globalGradNorm(ps) <= 6.5);
  assert.equal(ps[2]!.grad, null);

  for (const max of [13, 50, 0]) {
    const qs = mk();
    clipGradNorm(qs, globalGradNorm(qs), max);
    assert.deepEqual(Array.from(qs[0]!.grad!), [3, 4], `maxNorm ${max}`);
    assert.deepEqual(Array.from(qs[1]!.grad!), [12], `maxNorm ${max}`);
  }
});

test('zeroGrads: zero-fills existing gradients and leaves missing ones null', () => {
  const a = Tensor.zeros([2], 'f64', true), b = Tensor.zeros([2], 'f64', true);
  a.grad = Float64Array.from([1, -2]);
  zeroGrads([a, b]);
  assert.deepEqual(Array.from(a.grad), [0, 0]);
  assert.equal(b.grad, null);
});

test('optimizers work in float32 too, and a float32 step matches float64 to float32 precision', () => {
  for (const name of ['rmsprop', 'rmsprop-tf', 'adam'] as const) {
    const p32 = new Map([['w', Tensor.from(P0, [3], 'f32', true)]]);
    const opt = createOptimizer(cfg({ name }), p32);
    assert.ok(opt.state().buffers.get(name === 'adam' ? 'exp_avg.w' : 'square_avg.w') instanceof Float32Array);
    p32.get('w')!.grad = Float32Array.from(G1);
    opt.step();
    const ref = run(cfg({ name })).after1;
    assertAllClose(p32.get('w')!.data, ref, 1e-6, 1e-6, name);
  }
});

test('optimizer kernels and loops report one value that is not finite wherever it is (SIMD body or tail)', () => {
  const heap = kernelHeapOrNull()!;
  for (const over of [{ name: 'rmsprop' }, { name: 'rmsprop', momentum: 0.9 }, { name: 'adam' }] as Partial<OptimizerConfig>[]) {
    for (const onHeap of [true, false]) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (const at of [0, 18, 35, 36]) {
          const n = 37;
          const make = (): Float32Array => (onHeap ? heap.alloc(n)! : new Float32Array(n));
          const w = new Tensor(make().fill(0.5), [n], true);
          w.grad = make().fill(0.1);
          const opt = createOptimizer(cfg(over), new Map([['w', w]]));
          assert.equal(opt.step(), true);
          w.grad[at] = bad;
          assert.equal(opt.step(), false, `${JSON.stringify(over)} ${bad} at ${at}${onHeap ? ' on the heap' : ''}`);
        }
      }
    }
  }
});

test('optimizer kernels (parameters on the kernel heap) give the same bits as the TypeScript loops', () => {
  const heap = kernelHeapOrNull()!;
  const flavours: Partial<OptimizerConfig>[] = [
    { name: 'adam' }, { name: 'rmsprop' }, { name: 'rmsprop-tf' }, { name: 'rmsprop', momentum: 0.9 }, { name: 'adam', lr: 3 },
    // updates that overflow float32: the flag turns false on both
    { name: 'rmsprop', lr: 1e39 }, { name: 'rmsprop', momentum: 0.9, lr: 1e39 }, { name: 'adam', lr: 1e39 },
  ];
  for (const over of flavours) {
    const runOn = (onHeap: boolean): number[][] => {
      const rng = new Rng(9);
      const n = 37; // a SIMD body and a tail
      const make = (): Float32Array => (onHeap ? heap.alloc(n)! : new Float32Array(n));
      const w = new Tensor(make(), [n], true);
      w.grad = make();
      for (let i = 0; i < n; i++) w.data[i] = rng.normal();
      const opt = createOptimizer(cfg(over), new Map([['w', w]]));
      const copies = new Map<unknown, Float32Array>();
      const backup = (b: Buf): Buf => {
        if (!copies.has(b)) copies.set(b, make());
        return copies.get(b)!;
      };
      const out: number[][] = [];
      for (let s = 0; s < 5; s++) {
        for (let i = 0; i < n; i++) w.grad[i] = i % 7 === 0 ? 0 : rng.normal() * 10 ** (s - 2);
        const before = [w.data, ...opt.state().buffers.values()].map((b) => Array.from(b));
        const finite = s % 2 === 0 ? opt.step() : opt.step(backup);
        assert.equal(finite, [w.data, ...opt.state().buffers.values()].every((b) => b.every(Number.isFinite)), 'the flag says whether all it wrote is finite');
        if (s % 2 === 1) {
          const saved = [w.data, ...opt.state().buffers.values()].map((b) => Array.from(copies.get(b)!));
          assert.deepEqual(saved, before, 'every buffer it changed was backed up first');
        }
        out.push([finite ? 1 : 0]);
      }
      assert.equal(out.some(([f]) => f === 0), over.lr === 1e39, 'only the overflowing updates report a value that is not finite');
      // on the heap every buffer is there, so the kernel ran; off it none is, so the loops did
      assert.ok([...opt.state().buffers.values()].every((b) => heap.owns(b) === onHeap), 'optimiser state where its parameter is');
      return [...out, Array.from(w.data), ...[...opt.state().buffers.values()].map((b) => Array.from(b))];
    };
    assert.deepEqual(runOn(true), runOn(false), `${JSON.stringify(over)}: kernel and loops differ`);
  }
});

test('learning-rate step decay: each optimiser step takes lr × factor^⌊(t − 1) / every⌋, through a reload too', () => {
  // with lr decayed by ½ every 2 steps, steps 1–2 are those of lr, steps 3–4 those of lr/2, step 5 of lr/4;
  // the same steps taken by optimisers of those constant rates (from the same state) give the same values
  for (const name of ['rmsprop', 'adam'] as const) {
    const decayed = store(), w = decayed.get('w')!;
    const opt = createOptimizer(cfg({ name, lr: 0.04, lrDecayEvery: 2, lrDecayFactor: 0.5 }), decayed);
    const grads = [G1, G2, G2, G1, G2];
    const seen: number[][] = [];
    grads.forEach((g) => {
      w.grad = Float64Array.from(g);
      opt.step();
      seen.push(Array.from(w.data));
    });
    // the constant-rate optimiser with the rate of each step, resumed from the decayed one's state before it
    const replayed = store(), rw = replayed.get('w')!;
    let state = createOptimizer(cfg({ name, lr: 0.04 }), replayed).state();
    grads.forEach((g, i) => {
      const lr = 0.04 * 0.5 ** Math.floor(i / 2);
      const o = createOptimizer(cfg({ name, lr }), replayed);
      o.loadState(state.step, state.buffers);
      rw.grad = Float64Array.from(g);
      o.step();
      assert.deepEqual(Array.from(rw.data), seen[i], `${name} step ${i + 1} (lr ${lr})`);
      state = o.state();
    });
    // a decayed optimiser reloaded at step 3 takes step 4 at lr/2, as the uninterrupted one did
    const again = store(), aw = again.get('w')!;
    aw.data.set(seen[2]!);
    const o2 = createOptimizer(cfg({ name, lr: 0.04, lrDecayEvery: 2, lrDecayFactor: 0.5 }), again);
    const s3 = run3(name);
    o2.loadState(3, s3);
    aw.grad = Float64Array.from(grads[3]!);
    o2.step();
    assert.deepEqual(Array.from(aw.data), seen[3], `${name}: step 4 after a reload`);
  }
});

/** The optimiser state (copied) after the decayed run's first three steps. */
function run3(name: 'rmsprop' | 'adam'): Map<string, Buf> {
  const params = store(), w = params.get('w')!;
  const opt = createOptimizer(cfg({ name, lr: 0.04, lrDecayEvery: 2, lrDecayFactor: 0.5 }), params);
  for (const g of [G1, G2, G2]) {
    w.grad = Float64Array.from(g);
    opt.step();
  }
  return new Map([...opt.state().buffers].map(([k, b]) => [k, Float64Array.from(b)]));
}
