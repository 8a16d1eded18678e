/**
 * @file Optimisers over named parameters, with their state as named buffers (for checkpoints),
 * and global-norm gradient clipping.
 *
 *   rmsprop     (PyTorch)       v ← αv + (1−α)g²,  v₀ = 0;  p ← p − lr·g / (√v + ε)
 *   rmsprop-tf  (TensorFlow 1)  v ← αv + (1−α)g²,  v₀ = 1;  p ← p − lr·g / √(v + ε)
 *   adam        (PyTorch)       bias-corrected first and second moments, ε outside the root
 * With momentum μ > 0, RMSprop keeps a buffer b ← μb + g/(…) and steps p ← p − lr·b.
 */
import type { OptimizerConfig } from '../config/schema.js';
import { heapFor } from '../kernels/wasm.js';
import type { KernelHeap } from '../kernels/heap.js';
import type { Buf, Tensor } from '../tensor/tensor.js';
import { OpContext } from '../tensor/context.js';

export interface Optimizer {
  /**
   * Applies one update from each parameter's `grad`. With `backup`, the old contents of every
   * buffer it changes (a parameter's data and its state buffers) go first into backup(buffer), a
   * buffer of the same length. Counts the step first, whatever comes of it.
   * @returns true when every value it wrote is finite
   */
  step(backup?: (b: Buf) => Buf): boolean;
  /** Named state buffers, e.g. `square_avg.controller.lstm.weight_ih`, and the step count. */
  state(): { step: number; buffers: Map<string, Buf> };
  loadState(step: number, buffers: ReadonlyMap<string, Buf>): void;
}

// The update loops when a parameter is off the kernel heap (the TypeScript kernels, float64
// gradient checks). Float32 ones round every operation with Math.fround, written out (a rounding
// function passed in boxes every intermediate); float64 ones are the same formulas unrounded.
// Each returns true when every value it wrote is finite.

function adamLoop32(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, b1: number, c1: number, b2: number, c2: number, stepSize: number, sqrtBc2: number, e: number): boolean {
  const f = Math.fround;
  let finite = true;
  for (let i = 0; i < w.length; i++) {
    const gi = g[i]!;
    const mi = (m[i] = f(f(b1 * m[i]!) + f(c1 * gi)));
    const vi = (v[i] = f(f(b2 * v[i]!) + f(f(c2 * gi) * gi)));
    const wi = (w[i] = f(w[i]! - f(f(stepSize * mi) / f(f(f(Math.sqrt(vi)) / sqrtBc2) + e))));
    if (!(Number.isFinite(wi) && Number.isFinite(mi) && Number.isFinite(vi))) finite = false;
  }
  return finite;
}

function adamLoop64(w: Buf, g: Buf, m: Buf, v: Buf, b1: number, c1: number, b2: number, c2: number, stepSize: number, sqrtBc2: number, e: number): boolean {
  let finite = true;
  for (let i = 0; i < w.length; i++) {
    const gi = g[i]!;
    const mi = (m[i] = b1 * m[i]! + c1 * gi);
    const vi = (v[i] = b2 * v[i]! + c2 * gi * gi);
    const wi = (w[i] = w[i]! - (stepSize * mi) / (Math.sqrt(vi) / sqrtBc2 + e));
    if (!(Number.isFinite(wi) && Number.isFinite(mi) && Number.isFinite(vi))) finite = false;
  }
  return finite;
}

function rmspropLoop32(w: Float32Array, g: Float32Array, sq: Float32Array, mom: Float32Array | null, a: number, c: number, e: number, l: number, mu: number, tf: boolean): boolean {
  const f = Math.fround;
  let finite = true;
  for (let i = 0; i < w.length; i++) {
    const gi = g[i]!;
    const s = (sq[i] = f(f(a * sq[i]!) + f(f(c * gi) * gi)));
    const u = f(gi / (tf ? f(Math.sqrt(f(s + e))) : f(f(Math.sqrt(s)) + e)));
    let wi: number;
    if (mom) {
      const b = (mom[i] = f(f(mu * mom[i]!) + u));
      wi = w[i] = f(w[i]! - f(l * b));
      if (!Number.isFinite(b)) finite = false;
    } else {
      wi = w[i] = f(w[i]! - f(l * u));
    }
    if (!(Number.isFinite(wi) && Number.isFinite(s))) finite = false;
  }
  return finite;
}

function rmspropLoop64(w: Buf, g: Buf, sq: Buf, mom: Buf | null, a: number, c: number, e: number, l: number, mu: number, tf: boolean): boolean {
  let finite = true;
  for (let i = 0; i < w.length; i++) {
    const gi = g[i]!;
    const s = (sq[i] = a * sq[i]! + c * gi * gi);
    const u = gi / (tf ? Math.sqrt(s + e) : Math.sqrt(s) + e);
    let wi: number;
    if (mom) {
      const b = (mom[i] = mu * mom[i]! + u);
      wi = w[i] = w[i]! - l * b;
      if (!Number.isFinite(b)) finite = false;
    } else {
      wi = w[i] = w[i]! - l * u;
    }
    if (!(Number.isFinite(wi) && Number.isFinite(s))) finite = false;
  }
  return finite;
}

/**
 * @param heap the kernel heap its updates run on, where the parameters are on it (its trainer's;
 * null: the TypeScript loops; the process's default kernels when not given)
 */
export function createOptimizer(cfg: OptimizerConfig, params: ReadonlyMap<string, Tensor>, heap: KernelHeap | null = heapFor()): Optimizer {
  const names = [...params.keys()];
  const slots = cfg.name === 'adam' ? ['exp_avg', 'exp_avg_sq'] : cfg.momentum > 0 ? ['square_avg', 'momentum'] : ['square_avg'];
  const buffers = new Map<string, Buf>();
  for (const slot of slots) {
    for (const n of names) {
      const p = params.get(n)!;
      // beside the parameters on the kernel heap when they are there (for the SIMD checks and copies)
      const b = (heap !== null && heap.owns(p.data) ? heap.alloc(p.size) : null) ?? OpContext.plain.alloc(p.dtype, p.size);
      if (cfg.name === 'rmsprop-tf' && slot === 'square_avg') b.fill(1);
      buffers.set(`${slot}.${n}`, b);
    }
  }
  // each parameter's state keys, made once (the buffers are looked up each step: Trainer.dispose
  // replaces them)
  const slotsOf = names.map((n) => ({ n, keys: slots.map((slot) => `${slot}.${n}`) }));
  let t = 0;
  const { lr: baseLr, alpha, eps, momentum, beta1, beta2, lrDecayEvery, lrDecayFactor } = cfg;
  /** the learning rate at optimiser step t (1, 2, …): step decay every lrDecayEvery steps, if set */
  const lrAt = (t: number): number => (lrDecayEvery > 0 ? baseLr * Math.pow(lrDecayFactor, Math.floor((t - 1) / lrDecayEvery)) : baseLr);
  let lr = baseLr;
  const same = (x: number): number => x; // constants of float64 parameters stay as they are
  /** the byte offset of a backup of b (−1: off the heap), 0 without backups */
  const saveAt = (h: KernelHeap, b: Buf, backup: ((b: Buf) => Buf) | undefined): number => (backup === undefined ? 0 : h.ptr(backup(b)));
  const save = (b: Buf, backup: ((b: Buf) => Buf) | undefined): void => {
    if (backup !== undefined) backup(b).set(b);
  };
  // Float32 parameters are updated in float32 arithmetic, as PyTorch does: every operation
  // rounded to float32 (Math.fround of a float64 +, −, ×, ÷ or √ of float32 values is the
  // float32 operation's result), constants included; float64 ones in float64. The constants of
  // both, made once here (the Adam ones each step).
  const c32 = { a: 0, c: 0, e: 0, l: 0, mu: 0, b1: 0, c1: 0, b2: 0, c2: 0, stepSize: 0, sqrtBc2: 0 };
  const c64 = { ...c32 };
  const constants = (c: typeof c32, r: (x: number) => number): void => {
    c.a = r(alpha); c.c = r(1 - alpha); c.e = r(eps); c.l = r(lr); c.mu = r(momentum);
    c.b1 = r(beta1); c.c1 = r(1 - beta1); c.b2 = r(beta2); c.c2 = r(1 - beta2);
  };
  constants(c32, Math.fround);
  constants(c64, same);
  /** the rate from now on, with the RMSprop constant made from it (Adam's step size is made each step) */
  const useLr = (v: number): void => {
    lr = v;
    c32.l = Math.fround(v);
    c64.l = v;
  };
  return {
    step(backup) {
      t++;
      if (lrDecayEvery > 0) {
        const now = lrAt(t);
        if (now !== lr) useLr(now);
      }
      let finite = true;
      // the kernels (src/kernels/assembly/optim.ts) do these loops' arithmetic, same bits, when every buffer is on the heap
      const on = heap;
      if (cfg.name === 'adam') {
        const bc1 = 1 - Math.pow(beta1, t), bc2 = 1 - Math.pow(beta2, t);
        c32.stepSize = Math.fround(lr / bc1); c32.sqrtBc2 = Math.fround(Math.sqrt(bc2));
        c64.stepSize = lr / bc1; c64.sqrtBc2 = Math.sqrt(bc2);
      }
      for (const { n, keys } of slotsOf) {
        const p = params.get(n)!;
        const g = p.grad;
        if (g === null) continue;
        const w = p.data;
        const k = w instanceof Float32Array ? c32 : c64;
        if (cfg.name === 'adam') {
          const m = buffers.get(keys[0]!)!, v = buffers.get(keys[1]!)!;
          const { b1, c1, b2, c2, stepSize, sqrtBc2, e } = k;
          const pw = on === null ? -1 : on.ptr(w), pg = pw < 0 ? -1 : on!.ptr(g), pm = pg < 0 ? -1 : on!.ptr(m), pv = pm < 0 ? -1 : on!.ptr(v);
          const uw = pv < 0 ? -1 : saveAt(on!, w, backup), um = uw < 0 ? -1 : saveAt(on!, m, backup), uv = um < 0 ? -1 : saveAt(on!, v, backup);
          if (uv >= 0) {
            finite = on!.k.adamStep(pw, pg, pm, pv, w.length, b1, c1, b2, c2, stepSize, sqrtBc2, e, uw, um, uv) === 1 && finite;
            continue;
          }
          save(w, backup); save(m, backup); save(v, backup);
          const ok = w instanceof Float32Array
            ? adamLoop32(w, g as Float32Array, m as Float32Array, v as Float32Array, b1, c1, b2, c2, stepSize, sqrtBc2, e)
            : adamLoop64(w, g, m, v, b1, c1, b2, c2, stepSize, sqrtBc2, e);
          finite = ok && finite;
        } else {
          const sq = buffers.get(keys[0]!)!;
          const mom = momentum > 0 ? buffers.get(keys[1]!)! : null;
          const tf = cfg.name === 'rmsprop-tf';
          const { a, c, e, l, mu } = k;
          const pw = on === null ? -1 : on.ptr(w), pg = pw < 0 ? -1 : on!.ptr(g), ps = pg < 0 ? -1 : on!.ptr(sq), pb = mom === null ? 0 : ps < 0 ? -1 : on!.ptr(mom);
          const uw = ps < 0 || pb < 0 ? -1 : saveAt(on!, w, backup), us = uw < 0 ? -1 : saveAt(on!, sq, backup);
          const ub = mom === null || us < 0 ? us : saveAt(on!, mom, backup);
          if (ub >= 0) {
            finite = on!.k.rmspropStep(pw, pg, ps, pb, w.length, a, c, e, l, mu, tf ? 1 : 0, uw, us, mom === null ? 0 : ub) === 1 && finite;
            continue;
          }
          save(w, backup); save(sq, backup);
          if (mom) save(mom, backup);
          const ok = w instanceof Float32Array
            ? rmspropLoop32(w, g as Float32Array, sq as Float32Array, mom as Float32Array | null, a, c, e, l, mu, tf)
            : rmspropLoop64(w, g, sq, mom, a, c, e, l, mu, tf);
          finite = ok && finite;
        }
      }
      return finite;
    },
    state() {
      return { step: t, buffers };
    },
    loadState(step, loaded) {
      for (const [k, b] of buffers) {
        const src = loaded.get(k);
        if (src === undefined || src.length !== b.length) throw new Error(`optimizer state: missing or mis-sized buffer ${k}`);
        b.set(src);
      }
      t = step;
      useLr(lrAt(Math.max(t, 1)));
    },
  };
}

/**
 * √Σ g² over every parameter's gradient (NaN or Inf if any gradient is); on heap `heap`'s kernel
 * for a gradient on it (the process's default kernels' when not given).
 */
export function globalGradNorm(params: Iterable<Tensor>, heap: KernelHeap | null = heapFor()): number {
  let s = 0;
  for (const p of params) {
    const g = p.grad;
    if (g === null) continue;
    const pg = heap === null ? -1 : heap.ptr(g);
    if (pg >= 0) {
      s += heap!.k.sumSquares(pg, g.length); // float64 sums of SIMD lanes: the same to ~1e-16
      continue;
    }
    for (let i = 0; i < g.length; i++) s += g[i]! * g[i]!;
  }
  return Math.sqrt(s);
}

/** Scales every gradient by maxNorm/norm when norm > maxNorm (PyTorch's clip_grad_norm_). */
export function clipGradNorm(params: Iterable<Tensor>, norm: number, maxNorm: number): void {
  if (!(maxNorm > 0) || norm <= maxNorm) return;
  const scale = maxNorm / (norm + 1e-6);
  for (const p of params) {
    const g = p.grad;
    if (g === null) continue;
    for (let i = 0; i < g.length; i++) g[i]! *= scale;
  }
}

/** Zero-fills every gradient, on heap `heap`'s kernel for one on it (the process's default kernels' when not given). */
export function zeroGrads(params: Iterable<Tensor>, heap: KernelHeap | null = heapFor()): void {
  for (const p of params) {
    const g = p.grad;
    if (g === null) continue;
    const pg = heap === null ? -1 : heap.ptr(g);
    if (pg >= 0) heap!.k.zeroBytes(pg, 4 * g.length);
    else g.fill(0);
  }
}
