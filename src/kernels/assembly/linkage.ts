// @file DNC link matrix and precedence on WASM SIMD, forward and backward (twin: src/memory/linkage.ts).

import { axpyW, dotW, f, fma, setf } from './common';

// DNC temporal linkage, one write head (twins: updateLink, updatePrecedence in src/memory/linkage.ts):
//   Lo[i,j] = (1 − w[i] − w[j])·L[i,j] + w[i]·p[j]  (i ≠ j),  Lo[i,i] = 0;   po = (1 − Σ w)·p + w
// L, Lo [B,N,N]; p, w, po [B,N]; keep [B] saves 1 − Σ w for the backward pass.
export function linkageForward(L: usize, p: usize, w: usize, Lo: usize, po: usize, keep: usize, B: i32, N: i32): void {
  const N4 = N & ~3;
  for (let b = 0; b < B; b++) {
    const o = b * N;
    const wb = w + (<usize>o << 2), pb = p + (<usize>o << 2);
    for (let i = 0; i < N; i++) {
      const m = (o + i) * N;
      const row = L + (<usize>m << 2), orow = Lo + (<usize>m << 2);
      const wi = f(wb, i);
      const ci = f32x4.splat(1 - wi), wv = f32x4.splat(wi);
      let j = 0;
      for (; j < N4; j += 4) {
        const q = <usize>j << 2;
        const c = f32x4.sub(ci, v128.load(wb + q));
        v128.store(orow + q, fma(f32x4.mul(c, v128.load(row + q)), wv, v128.load(pb + q)));
      }
      for (; j < N; j++) setf(orow, j, (1 - wi - f(wb, j)) * f(row, j) + wi * f(pb, j));
      setf(orow, i, 0); // no self-links
    }
    let s: f32 = 0;
    for (let n = 0; n < N; n++) s += f(wb, n);
    const k: f32 = 1 - s;
    setf(keep, b, k);
    for (let n = 0; n < N; n++) setf(po, o + n, k * f(pb, n) + f(wb, n));
  }
}

// Gradients of linkageForward for gLo [B,N,N] and gpo [B,N] (zeros where absent), added to
// gL [B,N,N] (when wantL), gp and gw [B,N]. d [N] is scratch: a row of gLo with its diagonal
// zeroed, since Lo[i,i] is the constant 0 and passes no gradient on.
export function linkageBackward(L: usize, p: usize, w: usize, keep: usize, gLo: usize, gpo: usize, gL: usize, gp: usize, gw: usize, d: usize, wantL: i32, B: i32, N: i32): void {
  const N4 = N & ~3;
  for (let b = 0; b < B; b++) {
    const o = b * N;
    const wb = w + (<usize>o << 2), pb = p + (<usize>o << 2);
    const gpb = gp + (<usize>o << 2), gwb = gw + (<usize>o << 2);
    for (let i = 0; i < N; i++) {
      const m = (o + i) * N;
      const row = L + (<usize>m << 2);
      memory.copy(d, gLo + (<usize>m << 2), <usize>N << 2);
      setf(d, i, 0);
      const wi = f(wb, i);
      if (wantL) {
        const grow = gL + (<usize>m << 2);
        const ci = f32x4.splat(1 - wi);
        let j = 0;
        for (; j < N4; j += 4) {
          const q = <usize>j << 2;
          const c = f32x4.sub(ci, v128.load(wb + q));
          v128.store(grow + q, fma(v128.load(grow + q), v128.load(d + q), c));
        }
        for (; j < N; j++) setf(grow, j, f(grow, j) + f(d, j) * (1 - wi - f(wb, j)));
      }
      axpyW(gpb, wi, d, N); // gp[j] += gLo[i,j]·w[i]
      // gw[i] += Σ_j gLo[i,j]·(p[j] − L[i,j]);  gw[j] −= gLo[i,j]·L[i,j]
      setf(gwb, i, f(gwb, i) + dotW(d, pb, N) - dotW(d, row, N));
      let j = 0;
      for (; j < N4; j += 4) {
        const q = <usize>j << 2;
        v128.store(gwb + q, f32x4.sub(v128.load(gwb + q), f32x4.mul(v128.load(d + q), v128.load(row + q))));
      }
      for (; j < N; j++) setf(gwb, j, f(gwb, j) - f(d, j) * f(row, j));
    }
    // precedence: gp += gpo·keep;  gw[n] += gpo[n] − Σ_k gpo[k]·p[k]
    const gpob = gpo + (<usize>o << 2);
    const gyp = dotW(gpob, pb, N);
    axpyW(gpb, f(keep, b), gpob, N);
    for (let n = 0; n < N; n++) setf(gwb, n, f(gwb, n) + f(gpob, n) - gyp);
  }
}
