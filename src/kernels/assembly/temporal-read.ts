// @file DNC temporal reads on WASM SIMD, forward and backward (twin: src/memory/temporal-read.ts).

import { at, axpyW, dotW, f, fma, setf, sum4 } from './common';

// DNC temporal reads (twin: followLinksBoth in src/memory/temporal-read.ts, once per read head):
// one link L [B,N,N] followed from the previous weights of R read heads, reading L once:
//   f_r[i] = Σ_j L[i,j]·w_r[j]        b_r[j] = Σ_i L[i,j]·w_r[i]
// wt, ft, bt: tables of R heads' w, f, b [B,N]. f is set; b is zeroed by the caller.
export function linksForward(L: usize, wt: usize, ft: usize, bt: usize, R: i32, B: i32, N: i32): void {
  if ((N & 3) == 0) {
    linksForward4(L, wt, ft, bt, R, B, N);
    return;
  }
  for (let b = 0; b < B; b++) {
    const o = <usize>(b * N) << 2;
    for (let i = 0; i < N; i++) {
      const row = L + (<usize>((b * N + i) * N) << 2);
      for (let r = 0; r < R; r++) {
        const wr = at(wt, r) + o;
        setf(at(ft, r) + o, i, dotW(row, wr, N));
        axpyW(at(bt, r) + o, f(wr, i), row, N);
      }
    }
  }
}

// linksForward for N a multiple of 4 (both DNC presets): four rows of L at a time, their four
// f values reduced together and their four terms of each b added to it at once.
function linksForward4(L: usize, wt: usize, ft: usize, bt: usize, R: i32, B: i32, N: i32): void {
  const rowB = <usize>N << 2;
  for (let b = 0; b < B; b++) {
    const o = <usize>(b * N) << 2;
    for (let i = 0; i < N; i += 4) {
      const x0 = L + (<usize>((b * N + i) * N) << 2), x1 = x0 + rowB, x2 = x1 + rowB, x3 = x2 + rowB;
      for (let r = 0; r < R; r++) {
        const wr = at(wt, r) + o, br = at(bt, r) + o;
        const wi = wr + (<usize>i << 2);
        const w0 = v128.load32_splat(wi), w1 = v128.load32_splat(wi + 4), w2 = v128.load32_splat(wi + 8), w3 = v128.load32_splat(wi + 12);
        let d0 = f32x4.splat(0), d1 = f32x4.splat(0), d2 = f32x4.splat(0), d3 = f32x4.splat(0);
        for (let j = 0; j < N; j += 4) {
          const q = <usize>j << 2;
          const wv = v128.load(wr + q);
          const l0 = v128.load(x0 + q), l1 = v128.load(x1 + q), l2 = v128.load(x2 + q), l3 = v128.load(x3 + q);
          d0 = fma(d0, l0, wv); d1 = fma(d1, l1, wv);
          d2 = fma(d2, l2, wv); d3 = fma(d3, l3, wv);
          const t = fma(fma(fma(f32x4.mul(w0, l0), w1, l1), w2, l2), w3, l3);
          v128.store(br + q, f32x4.add(v128.load(br + q), t));
        }
        v128.store(at(ft, r) + o + (<usize>i << 2), sum4(d0, d1, d2, d3));
      }
    }
  }
}

// Gradients of linksForward for the heads' gf, gb [B,N] (tables gft, gbt; zeros where absent):
//   gL[i,:] += Σ_r gf_r[i]·w_r + w_r[i]·gb_r        (when wantL)
//   gw_r    += Lᵀ·gf_r + L·gb_r                      (table gwt, when wantW)
export function linksBackward(L: usize, wt: usize, gft: usize, gbt: usize, gL: usize, gwt: usize, wantL: i32, wantW: i32, R: i32, B: i32, N: i32): void {
  if ((N & 3) == 0) {
    linksBackward4(L, wt, gft, gbt, gL, gwt, wantL, wantW, R, B, N);
    return;
  }
  for (let b = 0; b < B; b++) {
    const o = <usize>(b * N) << 2;
    for (let i = 0; i < N; i++) {
      const m = <usize>((b * N + i) * N) << 2;
      const row = L + m, grow = gL + m;
      for (let r = 0; r < R; r++) {
        const wr = at(wt, r) + o, gbr = at(gbt, r) + o;
        const df = f(at(gft, r) + o, i);
        if (wantL) {
          axpyW(grow, df, wr, N);
          axpyW(grow, f(wr, i), gbr, N);
        }
        if (wantW) {
          const gwr = at(gwt, r) + o;
          axpyW(gwr, df, row, N);
          setf(gwr, i, f(gwr, i) + dotW(gbr, row, N));
        }
      }
    }
  }
}

// linksBackward for N a multiple of 4: four rows of L (and of gL) at a time; each head's terms of
// gw from the four rows added at once, and its four dot products reduced together.
function linksBackward4(L: usize, wt: usize, gft: usize, gbt: usize, gL: usize, gwt: usize, wantL: i32, wantW: i32, R: i32, B: i32, N: i32): void {
  const rowB = <usize>N << 2;
  for (let b = 0; b < B; b++) {
    const o = <usize>(b * N) << 2;
    for (let i = 0; i < N; i += 4) {
      const m = <usize>((b * N + i) * N) << 2;
      const x0 = L + m, x1 = x0 + rowB, x2 = x1 + rowB, x3 = x2 + rowB;
      const y0 = gL + m, y1 = y0 + rowB, y2 = y1 + rowB, y3 = y2 + rowB;
      const oi = o + (<usize>i << 2);
      for (let r = 0; r < R; r++) {
        const wr = at(wt, r) + o, gbr = at(gbt, r) + o, gfi = at(gft, r) + oi, wi = wr + (<usize>i << 2);
        const f0 = v128.load32_splat(gfi), f1 = v128.load32_splat(gfi + 4), f2 = v128.load32_splat(gfi + 8), f3 = v128.load32_splat(gfi + 12);
        if (wantL) {
          const w0 = v128.load32_splat(wi), w1 = v128.load32_splat(wi + 4), w2 = v128.load32_splat(wi + 8), w3 = v128.load32_splat(wi + 12);
          for (let j = 0; j < N; j += 4) {
            const q = <usize>j << 2;
            const wv = v128.load(wr + q), gv = v128.load(gbr + q);
            v128.store(y0 + q, f32x4.add(v128.load(y0 + q), fma(f32x4.mul(f0, wv), w0, gv)));
            v128.store(y1 + q, f32x4.add(v128.load(y1 + q), fma(f32x4.mul(f1, wv), w1, gv)));
            v128.store(y2 + q, f32x4.add(v128.load(y2 + q), fma(f32x4.mul(f2, wv), w2, gv)));
            v128.store(y3 + q, f32x4.add(v128.load(y3 + q), fma(f32x4.mul(f3, wv), w3, gv)));
          }
        }
        if (wantW) {
          const gwr = at(gwt, r) + o;
          let d0 = f32x4.splat(0), d1 = f32x4.splat(0), d2 = f32x4.splat(0), d3 = f32x4.splat(0);
          for (let j = 0; j < N; j += 4) {
            const q = <usize>j << 2;
            const gv = v128.load(gbr + q);
            const l0 = v128.load(x0 + q), l1 = v128.load(x1 + q), l2 = v128.load(x2 + q), l3 = v128.load(x3 + q);
            d0 = fma(d0, gv, l0); d1 = fma(d1, gv, l1);
            d2 = fma(d2, gv, l2); d3 = fma(d3, gv, l3);
            const t = fma(fma(fma(f32x4.mul(f0, l0), f1, l1), f2, l2), f3, l3);
            v128.store(gwr + q, f32x4.add(v128.load(gwr + q), t));
          }
          const gi = gwr + (<usize>i << 2);
          v128.store(gi, f32x4.add(v128.load(gi), sum4(d0, d1, d2, d3)));
        }
      }
    }
  }
}
