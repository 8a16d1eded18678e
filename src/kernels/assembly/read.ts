// @file Memory read on WASM SIMD, forward and backward (twin: src/memory/read.ts).

import { axpyW, dotW, f, fma, setf, sum4 } from './common';

// r [B,W] = Σ_i w[b,i]·M[b,i,:]  (r zeroed by the caller)
export function readForward(M: usize, w: usize, r: usize, B: i32, N: i32, W: i32): void {
  for (let b = 0; b < B; b++) {
    const rb = r + (<usize>(b * W) << 2);
    for (let i = 0; i < N; i++) axpyW(rb, f(w, b * N + i), M + (<usize>((b * N + i) * W) << 2), W);
  }
}

// Gradients of readForward added to gM [B,N,W] and gw [B,N].
// Four rows at a time when W is a multiple of 4 (gr's columns loaded once for the four, their gw
// dot products reduced together), the rest one by one.
export function readBackward(M: usize, w: usize, gr: usize, gM: usize, gw: usize, B: i32, N: i32, W: i32): void {
  const N4 = (W & 3) == 0 ? N & ~3 : 0;
  const rowB = <usize>W << 2;
  for (let b = 0; b < B; b++) {
    const grb = gr + (<usize>(b * W) << 2);
    let i = 0;
    for (; i < N4; i += 4) {
      const bi = b * N + i;
      const r0 = <usize>(bi * W) << 2, r1 = r0 + rowB, r2 = r1 + rowB, r3 = r2 + rowB;
      const wp = w + (<usize>bi << 2);
      const w0 = v128.load32_splat(wp), w1 = v128.load32_splat(wp + 4), w2 = v128.load32_splat(wp + 8), w3 = v128.load32_splat(wp + 12);
      let d0 = f32x4.splat(0), d1 = f32x4.splat(0), d2 = f32x4.splat(0), d3 = f32x4.splat(0);
      for (let j = 0; j < W; j += 4) {
        const o = <usize>j << 2;
        const g = v128.load(grb + o);
        d0 = fma(d0, g, v128.load(M + r0 + o));
        d1 = fma(d1, g, v128.load(M + r1 + o));
        d2 = fma(d2, g, v128.load(M + r2 + o));
        d3 = fma(d3, g, v128.load(M + r3 + o));
        v128.store(gM + r0 + o, fma(v128.load(gM + r0 + o), w0, g));
        v128.store(gM + r1 + o, fma(v128.load(gM + r1 + o), w1, g));
        v128.store(gM + r2 + o, fma(v128.load(gM + r2 + o), w2, g));
        v128.store(gM + r3 + o, fma(v128.load(gM + r3 + o), w3, g));
      }
      const q = gw + (<usize>bi << 2);
      v128.store(q, f32x4.add(v128.load(q), sum4(d0, d1, d2, d3)));
    }
    for (; i < N; i++) {
      const bi = b * N + i;
      const row = M + (<usize>(bi * W) << 2);
      setf(gw, bi, f(gw, bi) + dotW(grb, row, W));
      axpyW(gM + (<usize>(bi * W) << 2), f(w, bi), grb, W);
    }
  }
}
