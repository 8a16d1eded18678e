// @file Memory write with erase and add, all write heads at once, on WASM SIMD, forward and
// backward (twin: src/memory/write.ts).

import { f, fma, hsum, setf, sum4 } from './common';

// Write with H heads: w [H,B,N], e [H,B,W], a [H,B,W]; out [B,N,W] = M∘keep + Σ_h w_h a_hᵀ, keep = Π_h(1 − w_h e_hᵀ)
// (stored for writeBackward, except with one head and W a multiple of 4: keep may be 0 then).
// One pass per memory row, four columns at a time.
export function writeForward(M: usize, w: usize, e: usize, a: usize, keep: usize, out: usize, H: i32, B: i32, N: i32, W: i32): void {
  if (H == 1 && (W & 3) == 0) {
    writeForward1(M, w, e, a, out, B, N, W);
    return;
  }
  const W4 = W & ~3;
  const one = f32x4.splat(1);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < N; i++) {
      const row = <usize>((b * N + i) * W) << 2;
      let j = 0;
      for (; j < W4; j += 4) {
        const o = <usize>j << 2;
        let kv = one;
        let add = f32x4.splat(0);
        for (let h = 0; h < H; h++) {
          const hb = h * B + b;
          const wv = f32x4.splat(f(w, hb * N + i));
          const hw = <usize>(hb * W) << 2;
          kv = f32x4.mul(kv, f32x4.sub(one, f32x4.mul(wv, v128.load(e + hw + o))));
          add = fma(add, wv, v128.load(a + hw + o));
        }
        v128.store(keep + row + o, kv);
        v128.store(out + row + o, fma(add, v128.load(M + row + o), kv));
      }
      for (; j < W; j++) {
        const o = <usize>j << 2;
        let kv: f32 = 1, add: f32 = 0;
        for (let h = 0; h < H; h++) {
          const hb = h * B + b;
          const wi = f(w, hb * N + i);
          kv *= 1 - wi * f(e, hb * W + j);
          add += wi * f(a, hb * W + j);
        }
        store<f32>(keep + row + o, kv);
        store<f32>(out + row + o, load<f32>(M + row + o) * kv + add);
      }
    }
  }
}

// writeForward for one head and W a multiple of 4 (both presets): out = M∘(1 − w eᵀ) + w aᵀ.
// keep is not stored (writeBackward1 recomputes it): B·N·W floats less to write and read back.
function writeForward1(M: usize, w: usize, e: usize, a: usize, out: usize, B: i32, N: i32, W: i32): void {
  const one = f32x4.splat(1);
  for (let b = 0; b < B; b++) {
    const eb = e + (<usize>(b * W) << 2), ab = a + (<usize>(b * W) << 2);
    for (let i = 0; i < N; i++) {
      const row = <usize>((b * N + i) * W) << 2;
      const wv = v128.load32_splat(w + (<usize>(b * N + i) << 2));
      for (let j = 0; j < W; j += 4) {
        const o = <usize>j << 2;
        const kv = f32x4.sub(one, f32x4.mul(wv, v128.load(eb + o)));
        v128.store(out + row + o, fma(f32x4.mul(v128.load(M + row + o), kv), wv, v128.load(ab + o)));
      }
    }
  }
}

// writeBackward for one head and W a multiple of 4: gM += gy∘keep with keep = 1 − w eᵀ
// recomputed; gw += Σ_j gy·(a − M∘e); ge −= w·Σ_i gy∘M; ga += w·Σ_i gy. Four memory rows at a
// time (their gw sums reduced together, ge and ga loaded and stored once for the four), then
// the rest one by one.
function writeBackward1(M: usize, w: usize, e: usize, a: usize, gy: usize, gM: usize, gw: usize, ge: usize, ga: usize, B: i32, N: i32, W: i32, gMset: bool): void {
  const one = f32x4.splat(1);
  const zero = f32x4.splat(0);
  const N4 = N & ~3;
  const rowB = <usize>W << 2;
  for (let b = 0; b < B; b++) {
    const off = <usize>(b * W) << 2;
    const eb = e + off, ab = a + off, geb = ge + off, gab = ga + off;
    let i = 0;
    for (; i < N4; i += 4) {
      const bi = b * N + i;
      const r0 = <usize>(bi * W) << 2, r1 = r0 + rowB, r2 = r1 + rowB, r3 = r2 + rowB;
      const wp = w + (<usize>bi << 2);
      const w0 = v128.load32_splat(wp), w1 = v128.load32_splat(wp + 4), w2 = v128.load32_splat(wp + 8), w3 = v128.load32_splat(wp + 12);
      let d0 = f32x4.splat(0), d1 = f32x4.splat(0), d2 = f32x4.splat(0), d3 = f32x4.splat(0);
      for (let j = 0; j < W; j += 4) {
        const o = <usize>j << 2;
        const ev = v128.load(eb + o), av = v128.load(ab + o);
        const g0 = v128.load(gy + r0 + o), g1 = v128.load(gy + r1 + o), g2 = v128.load(gy + r2 + o), g3 = v128.load(gy + r3 + o);
        v128.store(gM + r0 + o, fma(gMset ? zero : v128.load(gM + r0 + o), g0, f32x4.sub(one, f32x4.mul(w0, ev))));
        v128.store(gM + r1 + o, fma(gMset ? zero : v128.load(gM + r1 + o), g1, f32x4.sub(one, f32x4.mul(w1, ev))));
        v128.store(gM + r2 + o, fma(gMset ? zero : v128.load(gM + r2 + o), g2, f32x4.sub(one, f32x4.mul(w2, ev))));
        v128.store(gM + r3 + o, fma(gMset ? zero : v128.load(gM + r3 + o), g3, f32x4.sub(one, f32x4.mul(w3, ev))));
        const f0 = f32x4.mul(g0, v128.load(M + r0 + o)), f1 = f32x4.mul(g1, v128.load(M + r1 + o));
        const f2 = f32x4.mul(g2, v128.load(M + r2 + o)), f3 = f32x4.mul(g3, v128.load(M + r3 + o));
        d0 = f32x4.add(d0, f32x4.sub(f32x4.mul(g0, av), f32x4.mul(f0, ev)));
        d1 = f32x4.add(d1, f32x4.sub(f32x4.mul(g1, av), f32x4.mul(f1, ev)));
        d2 = f32x4.add(d2, f32x4.sub(f32x4.mul(g2, av), f32x4.mul(f2, ev)));
        d3 = f32x4.add(d3, f32x4.sub(f32x4.mul(g3, av), f32x4.mul(f3, ev)));
        // Σ over the four rows, in row order
        const dE = fma(fma(fma(f32x4.mul(f0, w0), f1, w1), f2, w2), f3, w3);
        const dA = fma(fma(fma(f32x4.mul(g0, w0), g1, w1), g2, w2), g3, w3);
        v128.store(geb + o, f32x4.sub(v128.load(geb + o), dE));
        v128.store(gab + o, f32x4.add(v128.load(gab + o), dA));
      }
      const q = gw + (<usize>bi << 2);
      v128.store(q, f32x4.add(v128.load(q), sum4(d0, d1, d2, d3)));
    }
    for (; i < N; i++) {
      const row = <usize>((b * N + i) * W) << 2;
      const wv = v128.load32_splat(w + (<usize>(b * N + i) << 2));
      let dwv = f32x4.splat(0);
      for (let j = 0; j < W; j += 4) {
        const o = <usize>j << 2;
        const g = v128.load(gy + row + o);
        const ev = v128.load(eb + o);
        v128.store(gM + row + o, fma(gMset ? zero : v128.load(gM + row + o), g, f32x4.sub(one, f32x4.mul(wv, ev))));
        const dF = f32x4.mul(g, v128.load(M + row + o));
        dwv = f32x4.add(dwv, f32x4.sub(f32x4.mul(g, v128.load(ab + o)), f32x4.mul(dF, ev)));
        v128.store(geb + o, f32x4.sub(v128.load(geb + o), f32x4.mul(dF, wv)));
        v128.store(gab + o, fma(v128.load(gab + o), g, wv));
      }
      setf(gw, b * N + i, f(gw, b * N + i) + hsum(dwv));
    }
  }
}

// Gradients of writeForward, added to gM [B,N,W], gw [H,B,N], ge and ga [H,B,W]. keep: what
// writeForward stored (unused, and not stored, for one head with W a multiple of 4).
// Per memory row and head, four columns at a time; Π of the other heads' erase factors is
// recomputed (not keep / own factor, which is 0/0 when a head erases a cell fully).
// gMset: gM holds no gradient yet (and no zeros either): it is written, as 0 + its terms, the
// same numbers as adding into zeros.
export function writeBackward(M: usize, w: usize, e: usize, a: usize, keep: usize, gy: usize, gM: usize, gw: usize, ge: usize, ga: usize, H: i32, B: i32, N: i32, W: i32, gMset: bool): void {
  if (H == 1 && (W & 3) == 0) {
    writeBackward1(M, w, e, a, gy, gM, gw, ge, ga, B, N, W, gMset);
    return;
  }
  const W4 = W & ~3;
  const one = f32x4.splat(1);
  const zero = f32x4.splat(0);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < N; i++) {
      const row = <usize>((b * N + i) * W) << 2;
      // gM += gy ∘ keep
      let j = 0;
      for (; j < W4; j += 4) {
        const o = <usize>j << 2;
        v128.store(gM + row + o, fma(gMset ? zero : v128.load(gM + row + o), v128.load(gy + row + o), v128.load(keep + row + o)));
      }
      for (; j < W; j++) {
        const o = <usize>j << 2;
        store<f32>(gM + row + o, (gMset ? <f32>0 : load<f32>(gM + row + o)) + load<f32>(gy + row + o) * load<f32>(keep + row + o));
      }
      for (let h = 0; h < H; h++) {
        const hb = h * B + b;
        const wi = f(w, hb * N + i);
        const wv = f32x4.splat(wi);
        const hw = <usize>(hb * W) << 2;
        let dwv = f32x4.splat(0);
        j = 0;
        for (; j < W4; j += 4) {
          const o = <usize>j << 2;
          let others = one;
          for (let k2 = 0; k2 < H; k2++) {
            if (k2 == h) continue;
            const kb = k2 * B + b;
            others = f32x4.mul(others, f32x4.sub(one, f32x4.mul(f32x4.splat(f(w, kb * N + i)), v128.load(e + (<usize>(kb * W) << 2) + o))));
          }
          const g = v128.load(gy + row + o);
          const dF = f32x4.mul(f32x4.mul(g, v128.load(M + row + o)), others);
          dwv = f32x4.add(dwv, f32x4.sub(f32x4.mul(g, v128.load(a + hw + o)), f32x4.mul(dF, v128.load(e + hw + o))));
          v128.store(ge + hw + o, f32x4.sub(v128.load(ge + hw + o), f32x4.mul(dF, wv)));
          v128.store(ga + hw + o, fma(v128.load(ga + hw + o), g, wv));
        }
        let dw = hsum(dwv);
        for (; j < W; j++) {
          const o = <usize>j << 2;
          let others: f32 = 1;
          for (let k2 = 0; k2 < H; k2++) {
            if (k2 != h) others *= 1 - f(w, (k2 * B + b) * N + i) * f(e, (k2 * B + b) * W + j);
          }
          const g = load<f32>(gy + row + o);
          const dF = g * load<f32>(M + row + o) * others;
          dw += g * load<f32>(a + hw + o) - dF * load<f32>(e + hw + o);
          store<f32>(ge + hw + o, load<f32>(ge + hw + o) - dF * wi);
          store<f32>(ga + hw + o, load<f32>(ga + hw + o) + g * wi);
        }
        setf(gw, hb * N + i, f(gw, hb * N + i) + dw);
      }
    }
  }
}
