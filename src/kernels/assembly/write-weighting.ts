// @file DNC write weighting on WASM SIMD, forward and backward (twin: src/memory/write-weighting.ts).

import { f, fma, hsum, setf } from './common';

// DNC write weighting (src/memory/write-weighting.ts): w[b, n] = g_w[b]·(g_a[b]·a[b, n] + (1 − g_a[b])·c[b, n]).
export function writeWeightingForward(a: usize, c: usize, ga: usize, gw: usize, out: usize, B: i32, N: i32): void {
  const N4 = N & ~3;
  for (let b = 0; b < B; b++) {
    const o = <usize>(b * N) << 2;
    const g = f(ga, b), w = f(gw, b);
    const av = f32x4.splat(w * g), cv = f32x4.splat(w * (1 - g));
    let n = 0;
    for (; n < N4; n += 4) {
      const q = o + (<usize>n << 2);
      v128.store(out + q, fma(f32x4.mul(av, v128.load(a + q)), cv, v128.load(c + q)));
    }
    for (; n < N; n++) setf(out + o, n, w * g * f(a + o, n) + w * (1 - g) * f(c + o, n));
  }
}

// Its gradients, added: da += gy·g_w·g_a, dc += gy·g_w·(1 − g_a) (0: not wanted),
// dga[b] += Σ_n gy·g_w·(a − c), dgw[b] += Σ_n gy·(g_a·a + (1 − g_a)·c) (0: not wanted).
export function writeWeightingBackward(a: usize, c: usize, ga: usize, gw: usize, gy: usize, da: usize, dc: usize, dga: usize, dgw: usize, B: i32, N: i32): void {
  const N4 = N & ~3;
  for (let b = 0; b < B; b++) {
    const o = <usize>(b * N) << 2;
    const g = f(ga, b), w = f(gw, b);
    const gv = f32x4.splat(g), hv = f32x4.splat(1 - g), av = f32x4.splat(w * g), cv = f32x4.splat(w * (1 - g));
    let sd = f32x4.splat(0), sm = f32x4.splat(0);
    let n = 0;
    for (; n < N4; n += 4) {
      const q = o + (<usize>n << 2);
      const d = v128.load(gy + q), x = v128.load(a + q), y = v128.load(c + q);
      if (da != 0) v128.store(da + q, fma(v128.load(da + q), d, av));
      if (dc != 0) v128.store(dc + q, fma(v128.load(dc + q), d, cv));
      sd = fma(sd, d, f32x4.sub(x, y));
      sm = fma(sm, d, fma(f32x4.mul(gv, x), hv, y));
    }
    let s1 = hsum(sd), s2 = hsum(sm);
    for (; n < N; n++) {
      const d = f(gy + o, n), x = f(a + o, n), y = f(c + o, n);
      if (da != 0) setf(da + o, n, f(da + o, n) + d * w * g);
      if (dc != 0) setf(dc + o, n, f(dc + o, n) + d * w * (1 - g));
      s1 += d * (x - y);
      s2 += d * (g * x + (1 - g) * y);
    }
    if (dga != 0) setf(dga, b, f(dga, b) + w * s1);
    if (dgw != 0) setf(dgw, b, f(dgw, b) + s2);
  }
}
