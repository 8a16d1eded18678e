// @file AssemblyScript → WebAssembly SIMD kernels for the NTM/DNC memory ops (float32):
// content addressing, memory read and memory write, NTM location addressing, and the DNC's
// temporal reads, link and precedence, usage and allocation, forward and backward. Each has a
// plain TypeScript twin in src/memory/ (content.ts, read.ts, write.ts, location.ts,
// temporal-read.ts, linkage.ts, usage.ts, allocation.ts) that the tests hold it to.
// Pointers are byte offsets into this instance's memory; shapes as in the twins.
// Backward kernels add their gradients to what the output buffers hold (the caller puts the
// gradient accumulated so far there, or zeros).

import { expv, logv } from './simd-math';
import { f, fma, hsum, setf, sum4 } from './common';

const COSINE_EPS: f32 = 1e-6;

/** Σ_j a[j]·b[j] over W floats. */
// @ts-ignore: decorator
@inline
function dotW(a: usize, b: usize, W: i32): f32 {
  const W4 = W & ~3;
  let acc = f32x4.splat(0);
  let j = 0;
  for (; j < W4; j += 4) acc = fma(acc, v128.load(a + (<usize>j << 2)), v128.load(b + (<usize>j << 2)));
  let s = hsum(acc);
  for (; j < W; j++) s += f(a, j) * f(b, j);
  return s;
}

/** y[j] += s·x[j] over W floats. */
// @ts-ignore: decorator
@inline
function axpyW(y: usize, s: f32, x: usize, W: i32): void {
  const W4 = W & ~3;
  const sv = f32x4.splat(s);
  let j = 0;
  for (; j < W4; j += 4) {
    const o = <usize>j << 2;
    v128.store(y + o, fma(v128.load(y + o), sv, v128.load(x + o)));
  }
  for (; j < W; j++) setf(y, j, f(y, j) + s * f(x, j));
}

// Content weights: M [B,N,W], k [B,W], beta [B] → w [B,N]; saves sim, den, nm2, dot [B,N] and nk2 [B].
// k·M[i] and |M[i]|² in one pass over each row.
export function contentForward(M: usize, k: usize, beta: usize, w: usize, sim: usize, den: usize, nm2: usize, dot: usize, nk2: usize, B: i32, N: i32, W: i32): void {
  const W4 = W & ~3;
  // four rows at a time when W is a multiple of 4: their eight sums are reduced together
  const N4 = W4 == W ? N & ~3 : 0;
  const epsv = f32x4.splat(COSINE_EPS);
  for (let b = 0; b < B; b++) {
    const kb = k + (<usize>(b * W) << 2);
    const kk = dotW(kb, kb, W) + COSINE_EPS;
    setf(nk2, b, kk);
    const bt = f(beta, b);
    const kkv = f32x4.splat(kk), btv = f32x4.splat(bt);
    let mxv = f32x4.splat(-Infinity);
    let mx: f32 = -Infinity;
    let i = 0;
    for (; i < N4; i += 4) {
      const bi = b * N + i;
      const r0 = M + (<usize>(bi * W) << 2), r1 = r0 + (<usize>W << 2), r2 = r1 + (<usize>W << 2), r3 = r2 + (<usize>W << 2);
      let d0 = f32x4.splat(0), d1 = f32x4.splat(0), d2 = f32x4.splat(0), d3 = f32x4.splat(0);
      let m0 = f32x4.splat(0), m1 = f32x4.splat(0), m2 = f32x4.splat(0), m3 = f32x4.splat(0);
      for (let j = 0; j < W4; j += 4) {
        const o = <usize>j << 2;
        const kv = v128.load(kb + o);
        const x0 = v128.load(r0 + o), x1 = v128.load(r1 + o), x2 = v128.load(r2 + o), x3 = v128.load(r3 + o);
        d0 = fma(d0, kv, x0); m0 = fma(m0, x0, x0);
        d1 = fma(d1, kv, x1); m1 = fma(m1, x1, x1);
        d2 = fma(d2, kv, x2); m2 = fma(m2, x2, x2);
        d3 = fma(d3, kv, x3); m3 = fma(m3, x3, x3);
      }
      const d = sum4(d0, d1, d2, d3);
      const mm = f32x4.add(sum4(m0, m1, m2, m3), epsv);
      const D = f32x4.add(f32x4.sqrt(f32x4.mul(kkv, mm)), epsv);
      const K = f32x4.div(d, D);
      const q = <usize>bi << 2;
      v128.store(dot + q, d);
      v128.store(nm2 + q, mm);
      v128.store(den + q, D);
      v128.store(sim + q, K);
      mxv = f32x4.max(mxv, f32x4.mul(btv, K));
    }
    mx = Mathf.max(Mathf.max(f32x4.extract_lane(mxv, 0), f32x4.extract_lane(mxv, 1)), Mathf.max(f32x4.extract_lane(mxv, 2), f32x4.extract_lane(mxv, 3)));
    for (; i < N; i++) {
      const bi = b * N + i;
      const row = M + (<usize>(bi * W) << 2);
      let ad = f32x4.splat(0), am = f32x4.splat(0);
      let j = 0;
      for (; j < W4; j += 4) {
        const o = <usize>j << 2;
        const r = v128.load(row + o);
        ad = fma(ad, v128.load(kb + o), r);
        am = fma(am, r, r);
      }
      let d = hsum(ad), mm = hsum(am);
      for (; j < W; j++) {
        const r = f(row, j);
        d += f(kb, j) * r;
        mm += r * r;
      }
      mm += COSINE_EPS;
      const D = Mathf.sqrt(kk * mm) + COSINE_EPS;
      setf(dot, bi, d);
      setf(nm2, bi, mm);
      setf(den, bi, D);
      const K = d / D;
      setf(sim, bi, K);
      mx = Mathf.max(mx, bt * K);
    }
    // softmax over the slots of β·K, four at a time with the vectorised exp
    const mxs = f32x4.splat(mx);
    const o = <usize>(b * N) << 2;
    const NV = N & ~3;
    let sv = f32x4.splat(0);
    i = 0;
    for (; i < NV; i += 4) {
      const q = <usize>i << 2;
      const e = expv(f32x4.sub(f32x4.mul(btv, v128.load(sim + o + q)), mxs));
      v128.store(w + o + q, e);
      sv = f32x4.add(sv, e);
    }
    let s: f32 = hsum(sv);
    for (; i < N; i++) {
      const e = f32x4.extract_lane(expv(f32x4.splat(bt * f(sim, b * N + i) - mx)), 0);
      setf(w, b * N + i, e);
      s += e;
    }
    const inv: f32 = 1 / s;
    const invv = f32x4.splat(inv);
    i = 0;
    for (; i < NV; i += 4) {
      const q = <usize>i << 2;
      v128.store(w + o + q, f32x4.mul(v128.load(w + o + q), invv));
    }
    for (; i < N; i++) setf(w, b * N + i, f(w, b * N + i) * inv);
  }
}

// Gradients of contentForward added to gM [B,N,W], gk [B,W], gbeta [B]. co: scratch of 2·N floats.
// Per batch row, two passes: the slots' coefficients four at a time (dDot, the gradient of k·M[i],
// and mCoef, that of |M[i]|², into co), then four columns at a time over every slot:
// gM[i] += dDot_i·k + mCoef_i·M[i] and gk += Σ_i dDot_i·M[i], the sum held in a register.
export function contentBackward(M: usize, k: usize, beta: usize, w: usize, sim: usize, den: usize, nm2: usize, dot: usize, nk2: usize, gw: usize, gM: usize, gk: usize, gbeta: usize, co: usize, B: i32, N: i32, W: i32): void {
  const W4 = W & ~3;
  const N4 = N & ~3;
  const epsv = f32x4.splat(COSINE_EPS), zero = f32x4.splat(0);
  const cm = co + (<usize>N << 2); // mCoef after dDot
  for (let b = 0; b < B; b++) {
    const o = <usize>(b * N) << 2;
    const kb = k + (<usize>(b * W) << 2);
    const gkb = gk + (<usize>(b * W) << 2);
    // Σ_i w·gw, four lanes then the tail
    let wv4 = f32x4.splat(0);
    let i = 0;
    for (; i < N4; i += 4) wv4 = fma(wv4, v128.load(w + o + (<usize>i << 2)), v128.load(gw + o + (<usize>i << 2)));
    let wdw = hsum(wv4);
    for (; i < N; i++) wdw += f(w, b * N + i) * f(gw, b * N + i);
    const bt = f(beta, b);
    const kk = f(nk2, b);
    const wdwv = f32x4.splat(wdw), btv = f32x4.splat(bt), kkv = f32x4.splat(kk);
    let dbv = f32x4.splat(0), ksv = f32x4.splat(0);
    i = 0;
    for (; i < N4; i += 4) {
      const q = o + (<usize>i << 2);
      const dz = f32x4.mul(v128.load(w + q), f32x4.sub(v128.load(gw + q), wdwv)); // through the softmax
      dbv = fma(dbv, dz, v128.load(sim + q));
      const dK = f32x4.mul(dz, btv);
      const D = v128.load(den + q);
      const sv = f32x4.sub(D, epsv); // √(nk2·nm2)
      const dS = f32x4.div(f32x4.mul(f32x4.neg(dK), v128.load(dot + q)), f32x4.mul(D, D));
      const pos = f32x4.gt(sv, zero); // where s = 0 (a zero row or key) the norms pass nothing back
      v128.store(co + (<usize>i << 2), f32x4.div(dK, D));
      v128.store(cm + (<usize>i << 2), v128.and(pos, f32x4.div(f32x4.mul(dS, kkv), sv)));
      ksv = f32x4.add(ksv, v128.and(pos, f32x4.div(f32x4.mul(dS, v128.load(nm2 + q)), sv)));
    }
    let dbeta = hsum(dbv), kScale = hsum(ksv);
    for (; i < N; i++) {
      const bi = b * N + i;
      const dz = f(w, bi) * (f(gw, bi) - wdw);
      dbeta += dz * f(sim, bi);
      const dK = dz * bt;
      const D = f(den, bi);
      const sc = D - COSINE_EPS;
      const dS = (-dK * f(dot, bi)) / (D * D);
      setf(co, i, dK / D);
      setf(cm, i, sc > 0 ? (dS * kk) / sc : 0);
      kScale += sc > 0 ? (dS * f(nm2, bi)) / sc : 0;
    }
    const rows = M + (<usize>(b * N * W) << 2), grows = gM + (<usize>(b * N * W) << 2);
    const stride = <usize>W << 2;
    for (let j = 0; j < W4; j += 4) {
      const oj = <usize>j << 2;
      const kv = v128.load(kb + oj);
      let acc = f32x4.splat(0);
      let r = rows + oj, g = grows + oj;
      for (let n = 0; n < N; n++) {
        const dv = v128.load32_splat(co + (<usize>n << 2));
        const x = v128.load(r);
        v128.store(g, f32x4.add(v128.load(g), fma(f32x4.mul(dv, kv), v128.load32_splat(cm + (<usize>n << 2)), x)));
        acc = fma(acc, dv, x);
        r += stride;
        g += stride;
      }
      v128.store(gkb + oj, f32x4.add(v128.load(gkb + oj), acc));
    }
    for (let j = W4; j < W; j++) {
      const kj = f(kb, j);
      let acc: f32 = 0;
      for (let n = 0; n < N; n++) {
        const dDot = f(co, n);
        const x = f(rows, n * W + j);
        setf(grows, n * W + j, f(grows, n * W + j) + (dDot * kj + f(cm, n) * x));
        acc += dDot * x;
      }
      setf(gkb, j, f(gkb, j) + acc);
    }
    axpyW(gkb, kScale, kb, W);
    setf(gbeta, b, f(gbeta, b) + dbeta);
  }
}

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

// The first byte past the static data (math tables among it): buffers are laid out from here.
export function heapBase(): usize {
  return __heap_base;
}

/** Below the smallest normal float32 a weight counts as 0 when sharpened (its power is ~0). */
const TINY: f32 = 1.17549435e-38;
/** A sharpened weight below this is 0 (src/memory/sharpen.ts WEIGHT_FLOOR, 2^-64). */
const WEIGHT_FLOOR: f32 = 5.421010862427522e-20;

// ext[k] = v[(k − range) mod N] for k < N + 2·range: v with `range` wrapped elements on each
// side, so a circular shift reads ext at plain offsets.
// @ts-ignore: decorator
@inline
function wrapPad(v: usize, ext: usize, N: i32, range: i32): void {
  memory.copy(ext + (<usize>range << 2), v, <usize>N << 2);
  for (let k = 0; k < range; k++) {
    setf(ext, k, f(v, N - range + k));
    setf(ext, N + range + k, f(v, k));
  }
}

// NTM location addressing, fused (twin: src/memory/location.ts): interpolate, circular shift, sharpen.
//   wg = g·wc + (1−g)·wp;  wt[i] = Σ_j s[j]·wg[(i − (j − range)) mod N];  w = wt^γ / Σ wt^γ
// wc, wp, w, wg, wt, p [B,N]; g, gamma, sums [B]; s [B,S]; ext: scratch of N + S floats.
// Sharpening normalises exactly, with the largest term factored out (as src/memory/sharpen.ts):
//   m = ln max wt,  p = e^(γ·(ln wt − m)),  w = p / Σ p
// over wt ≥ TINY (the others: p = 0); a row with none has Σ p = 0 and w = 0.
// Saves wg, wt, p and sums for backward. Four slots at a time; e^ and ln in float32 SIMD
// (simd-math.ts), p summed in float64.
export function locationForward(wc: usize, wp: usize, g: usize, s: usize, gamma: usize, wg: usize, wt: usize, p: usize, sums: usize, w: usize,
  ext: usize, B: i32, N: i32, S: i32): void {
  const range = (S - 1) >> 1;
  const N4 = N & ~3;
  for (let b = 0; b < B; b++) {
    const o = b * N;
    const ob = <usize>o << 2;
    const gb = f(g, b);
    const gv = f32x4.splat(gb), hv = f32x4.splat(1 - gb);
    let i = 0;
    for (; i < N4; i += 4) {
      const q = <usize>i << 2;
      v128.store(wg + ob + q, fma(f32x4.mul(gv, v128.load(wc + ob + q)), hv, v128.load(wp + ob + q)));
    }
    for (; i < N; i++) setf(wg, o + i, gb * f(wc, o + i) + (1 - gb) * f(wp, o + i));
    wrapPad(wg + ob, ext, N, range);
    // wt[i] = Σ_j s_j · ext[i + 2·range − j]
    i = 0;
    for (; i < N4; i += 4) {
      let acc = f32x4.splat(0);
      for (let j = 0; j < S; j++) acc = fma(acc, f32x4.splat(f(s, b * S + j)), v128.load(ext + (<usize>(i + 2 * range - j) << 2)));
      v128.store(wt + ob + (<usize>i << 2), acc);
    }
    for (; i < N; i++) {
      let acc: f32 = 0;
      for (let j = 0; j < S; j++) acc += f(s, b * S + j) * f(ext, i + 2 * range - j);
      setf(wt, o + i, acc);
    }
    const gmv = f32x4.splat(f(gamma, b)), tiny = f32x4.splat(TINY);
    // the largest wt ≥ TINY (the others, NaN included, count as 0: 0 when there is none)
    let mxv = f32x4.splat(0);
    i = 0;
    for (; i < N4; i += 4) {
      const x = v128.load(wt + ob + (<usize>i << 2));
      mxv = f32x4.max(mxv, v128.and(f32x4.ge(x, tiny), x));
    }
    let mx = max(max(f32x4.extract_lane(mxv, 0), f32x4.extract_lane(mxv, 1)), max(f32x4.extract_lane(mxv, 2), f32x4.extract_lane(mxv, 3)));
    for (; i < N; i++) {
      const x = f(wt, o + i);
      if (x >= TINY && x > mx) mx = x;
    }
    // m = ln of it by the same logv as each ln wt below, so the largest p is e^0 = 1 exactly and
    // Σ p ≥ 1 (m is meaningless when mx = 0, and unused: every lane is masked then)
    const mv = logv(f32x4.splat(mx));
    // float64 sums in two f64x2 accumulators (lanes 0,1 and 2,3): no chain of scalar additions
    let sLo = f64x2.splat(0), sHi = f64x2.splat(0);
    i = 0;
    for (; i < N4; i += 4) {
      const q = <usize>i << 2;
      const x = v128.load(wt + ob + q);
      const pv = v128.and(f32x4.ge(x, tiny), expv(f32x4.mul(gmv, f32x4.sub(logv(x), mv))));
      v128.store(p + ob + q, pv);
      sLo = f64x2.add(sLo, f64x2.promote_low_f32x4(pv));
      sHi = f64x2.add(sHi, f64x2.promote_low_f32x4(v128.shuffle<f32>(pv, pv, 2, 3, 0, 1)));
    }
    const s2 = f64x2.add(sLo, sHi);
    let sum: f64 = f64x2.extract_lane(s2, 0) + f64x2.extract_lane(s2, 1);
    for (; i < N; i++) {
      const x = f(wt, o + i);
      const pv: f32 = x >= TINY ? f32x4.extract_lane(expv(f32x4.mul(gmv, f32x4.sub(logv(f32x4.splat(x)), mv))), 0) : 0;
      setf(p, o + i, pv);
      sum += <f64>pv;
    }
    setf(sums, b, <f32>sum);
    // a row with no wt ≥ TINY: Σ p = 0 and every p = 0, so w = 0 (not 0·∞); a NaN sum stays NaN
    const inv = f32x4.splat(sum == 0 ? 0 : <f32>(1 / sum)), floor = f32x4.splat(WEIGHT_FLOOR);
    i = 0;
    for (; i < N4; i += 4) {
      const q = <usize>i << 2;
      const wv = f32x4.mul(v128.load(p + ob + q), inv);
      v128.store(w + ob + q, v128.andnot(wv, f32x4.lt(wv, floor))); // (NaN stays NaN)
    }
    for (; i < N; i++) {
      const wv: f32 = sum == 0 ? 0 : <f32>(<f64>f(p, o + i) / sum);
      setf(w, o + i, wv < WEIGHT_FLOOR ? 0 : wv);
    }
  }
}

// Gradients of locationForward, added to gwc, gwp, gg, gs, ggamma. dwt [B,N] is scratch, ext and
// dext scratch of N + S floats each (the padded w_g and its gradient).
export function locationBackward(wc: usize, wp: usize, g: usize, s: usize, gamma: usize, wg: usize, wt: usize, p: usize, sums: usize, w: usize, gw: usize,
  gwc: usize, gwp: usize, gg: usize, gs: usize, ggamma: usize, dwt: usize, ext: usize, dext: usize, B: i32, N: i32, S: i32): void {
  const range = (S - 1) >> 1;
  const N4 = N & ~3;
  const P = N + 2 * range;
  for (let b = 0; b < B; b++) {
    const o = b * N;
    const ob = <usize>o << 2;
    // Σ gw·w in float64, two f64x2 accumulators as in the forward's sum
    let aLo = f64x2.splat(0), aHi = f64x2.splat(0);
    let i = 0;
    for (; i < N4; i += 4) {
      const q = <usize>i << 2;
      const gv4 = v128.load(gw + ob + q), wv4 = v128.load(w + ob + q);
      aLo = f64x2.add(aLo, f64x2.mul(f64x2.promote_low_f32x4(gv4), f64x2.promote_low_f32x4(wv4)));
      aHi = f64x2.add(aHi, f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<f32>(gv4, gv4, 2, 3, 0, 1)), f64x2.promote_low_f32x4(v128.shuffle<f32>(wv4, wv4, 2, 3, 0, 1))));
    }
    const a2 = f64x2.add(aLo, aHi);
    let wdw: f64 = f64x2.extract_lane(a2, 0) + f64x2.extract_lane(a2, 1);
    for (; i < N; i++) wdw += <f64>f(gw, o + i) * <f64>f(w, o + i);
    const sum = f(sums, b), gm = f(gamma, b);
    // a row whose sum is 0 has every w = 0 and no live lane: its 1/sum is taken as 0, so the
    // masked lanes' dp·0 below is 0, not ∞·0 = NaN
    const wdwv = f32x4.splat(<f32>wdw), isum = f32x4.splat(sum == 0 ? 0 : 1 / sum), gmv = f32x4.splat(gm);
    // dp = (gw − Σ gw·w) / sum;  dwt = dp·γ·p / wt;  dγ = Σ dp·p·ln wt   (over w > 0: the weights
    // the forward pass left, wt ≥ TINY and w ≥ WEIGHT_FLOOR, w ≠ 0; the others are constant 0).
    // p / sum = w whatever factor the forward pass scaled p by (e^(−γm)), and Σ w·(gw − Σ gw·w)
    // = 0 (Σ w = 1), so ln wt serves for ln wt − m in dγ
    let dgv = f32x4.splat(0);
    i = 0;
    for (; i < N4; i += 4) {
      const q = <usize>i << 2;
      const live = f32x4.ne(v128.load(w + ob + q), f32x4.splat(0)); // (NaN is live: it propagates)
      // the other lanes' p and w~ (tiny, or below float32's normal numbers) are not computed
      // with: p as 0 and w~ as 1, as subnormal operands slow every operation on them
      const x = v128.bitselect(v128.load(wt + ob + q), f32x4.splat(1), live);
      const dp = f32x4.mul(f32x4.sub(v128.load(gw + ob + q), wdwv), isum);
      const dpp = f32x4.mul(dp, v128.and(live, v128.load(p + ob + q)));
      v128.store(dwt + ob + q, f32x4.div(f32x4.mul(dpp, gmv), x));
      dgv = fma(dgv, dpp, logv(x));
    }
    let dgamma: f64 = <f64>f32x4.extract_lane(dgv, 0) + <f64>f32x4.extract_lane(dgv, 1) + <f64>f32x4.extract_lane(dgv, 2) + <f64>f32x4.extract_lane(dgv, 3);
    for (; i < N; i++) {
      const x = f(wt, o + i);
      if (f(w, o + i) != 0) {
        const dpp: f32 = ((f(gw, o + i) - <f32>wdw) / sum) * f(p, o + i);
        setf(dwt, o + i, (dpp * gm) / x);
        dgamma += <f64>(dpp * f32x4.extract_lane(logv(f32x4.splat(x)), 0));
      } else {
        setf(dwt, o + i, 0);
      }
    }
    setf(ggamma, b, f(ggamma, b) + <f32>dgamma);
    // shift backward: ds_j = Σ_i dwt[i]·ext[i + 2·range − j];  dext[i + 2·range − j] += s_j·dwt[i]
    wrapPad(wg + ob, ext, N, range);
    memory.fill(dext, 0, <usize>P << 2);
    for (let j = 0; j < S; j++) {
      const sj = f(s, b * S + j);
      const sv = f32x4.splat(sj);
      const e = ext + (<usize>(2 * range - j) << 2), d = dext + (<usize>(2 * range - j) << 2);
      let acc = f32x4.splat(0);
      i = 0;
      for (; i < N4; i += 4) {
        const q = <usize>i << 2;
        const dv = v128.load(dwt + ob + q);
        acc = fma(acc, dv, v128.load(e + q));
        v128.store(d + q, fma(v128.load(d + q), sv, dv));
      }
      let ds: f64 = <f64>hsum(acc);
      for (; i < N; i++) {
        const dv = f(dwt, o + i);
        ds += <f64>(dv * f(e, i));
        setf(d, i, f(d, i) + sj * dv);
      }
      setf(gs, b * S + j, <f32>(<f64>f(gs, b * S + j) + ds));
    }
    // fold the padding back: dext[k] belongs to slot (k − range) mod N
    for (let k = 0; k < range; k++) {
      setf(dext, range + N - range + k, f(dext, range + N - range + k) + f(dext, k));
      setf(dext, range + k, f(dext, range + k) + f(dext, N + range + k));
    }
    // interpolation backward, with dwg = dext[range .. range + N)
    const dwg = dext + (<usize>range << 2);
    const gb = f(g, b);
    const gv = f32x4.splat(gb), hv = f32x4.splat(1 - gb);
    let dgg = f32x4.splat(0);
    i = 0;
    for (; i < N4; i += 4) {
      const q = <usize>i << 2;
      const d = v128.load(dwg + q);
      v128.store(gwc + ob + q, fma(v128.load(gwc + ob + q), d, gv));
      v128.store(gwp + ob + q, fma(v128.load(gwp + ob + q), d, hv));
      dgg = fma(dgg, d, f32x4.sub(v128.load(wc + ob + q), v128.load(wp + ob + q)));
    }
    let dg: f64 = <f64>hsum(dgg);
    for (; i < N; i++) {
      const d = f(dwg, i);
      setf(gwc, o + i, f(gwc, o + i) + d * gb);
      setf(gwp, o + i, f(gwp, o + i) + d * (1 - gb));
      dg += <f64>(d * (f(wc, o + i) - f(wp, o + i)));
    }
    setf(gg, b, <f32>(<f64>f(gg, b) + dg));
  }
}

// The DNC kernels below take per-head buffers through pointer tables: `xt` holds one u32
// byte offset per head (so each head's tensor is used where it lies, none packed by copying).
// @ts-ignore: decorator
@inline
function at(table: usize, i: i32): usize {
  return <usize>load<u32>(table + (<usize>i << 2));
}

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

// DNC usage (twin: updateUsage in src/memory/usage.ts), Wh write heads and R read heads:
//   P = Π_h (1 − ww_h),  A = u + (1 − u)(1 − P),  ψ = Π_i (1 − f_i·wr_i),  out = A·ψ
// u, P, A, psi, out [B,N]; tables wwt (Wh heads' [B,N]), fgt (R free gates [B]), wrt (R heads'
// [B,N]). Saves P, A and ψ for the backward pass.
export function usageForward(u: usize, wwt: usize, fgt: usize, wrt: usize, P: usize, A: usize, psi: usize, out: usize, Wh: i32, R: i32, B: i32, N: i32): void {
  for (let x = 0; x < B * N; x++) {
    let nw: f32 = 1;
    for (let h = 0; h < Wh; h++) nw *= 1 - f(at(wwt, h), x);
    setf(P, x, nw);
    const ux = f(u, x);
    setf(A, x, ux + (1 - ux) * (1 - nw));
  }
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < N; n++) {
      const x = b * N + n;
      let s: f32 = 1;
      for (let i = 0; i < R; i++) s *= 1 - f(at(fgt, i), b) * f(at(wrt, i), x);
      setf(psi, x, s);
      setf(out, x, f(A, x) * s);
    }
  }
}

// Gradients of usageForward for gy [B,N], added to gu (when wantU), the write heads' (table
// gwwt, when wantW: their gradient is not stopped), the free gates' (gfgt) and the read heads'
// (gwrt). Products over the other heads are multiplied out, not divided by a factor that may be 0.
export function usageBackward(u: usize, wwt: usize, fgt: usize, wrt: usize, P: usize, A: usize, psi: usize, gy: usize,
  gu: usize, gwwt: usize, gfgt: usize, gwrt: usize, wantU: i32, wantW: i32, Wh: i32, R: i32, B: i32, N: i32): void {
  const size = B * N;
  if (wantU) for (let x = 0; x < size; x++) setf(gu, x, f(gu, x) + f(gy, x) * f(psi, x) * f(P, x));
  if (wantW) {
    for (let h = 0; h < Wh; h++) {
      const gw = at(gwwt, h);
      for (let x = 0; x < size; x++) {
        let others: f32 = 1;
        for (let k = 0; k < Wh; k++) if (k != h) others *= 1 - f(at(wwt, k), x);
        setf(gw, x, f(gw, x) + f(gy, x) * f(psi, x) * (1 - f(u, x)) * others);
      }
    }
  }
  for (let i = 0; i < R; i++) {
    const wr = at(wrt, i), gwr = at(gwrt, i), gf = at(gfgt, i);
    for (let b = 0; b < B; b++) {
      const fi = f(at(fgt, i), b);
      let df: f32 = 0;
      for (let n = 0; n < N; n++) {
        const x = b * N + n;
        let others: f32 = 1;
        for (let k = 0; k < R; k++) if (k != i) others *= 1 - f(at(fgt, k), b) * f(at(wrt, k), x);
        const dFactor = f(gy, x) * f(A, x) * others; // dL/d(1 − f_i·wr_i[n])
        df -= dFactor * f(wr, x);
        setf(gwr, x, f(gwr, x) - dFactor * fi);
      }
      setf(gf, b, f(gf, b) + df);
    }
  }
}

// ε in û = ε + (1 − ε)·u (ALLOCATION_EPS in src/memory/allocation.ts)
const ALLOCATION_EPS: f64 = 1e-6;

// DNC allocation weights of one write head (twin: allocationWeights in src/memory/allocation.ts):
//   û = ε + (1 − ε)·u;  φ = slots by û ascending, ties by lower index;  a[φ_j] = (1 − û[φ_j])·Π_{i<j} û[φ_i]
// u, hat, prefix, a [B,N] (f32); order [B,N] holds φ per row as i32. Saves û, φ and the prefix
// products (in sorted position) for backward. û, the products and a are computed in f64 and
// rounded where the twin rounds them, so the values and the order (ties included) are the twin's exactly.
export function allocationForward(u: usize, hat: usize, order: usize, prefix: usize, a: usize, B: i32, N: i32): void {
  for (let b = 0; b < B; b++) {
    const o = b * N;
    for (let n = 0; n < N; n++) setf(hat, o + n, <f32>(ALLOCATION_EPS + (1 - ALLOCATION_EPS) * <f64>f(u, o + n)));
    // stable insertion sort of the slot indices by û: a slot moves only past strictly larger values
    const ob = order + (<usize>o << 2);
    for (let n = 0; n < N; n++) {
      const v = f(hat, o + n);
      let j = n;
      while (j > 0 && f(hat, o + load<i32>(ob + (<usize>(j - 1) << 2))) > v) {
        store<i32>(ob + (<usize>j << 2), load<i32>(ob + (<usize>(j - 1) << 2)));
        j--;
      }
      store<i32>(ob + (<usize>j << 2), n);
    }
    let p: f64 = 1;
    for (let j = 0; j < N; j++) {
      const n = o + load<i32>(ob + (<usize>j << 2));
      const s = <f64>f(hat, n);
      setf(prefix, o + j, <f32>p);
      setf(a, n, <f32>((1 - s) * p));
      p *= s;
    }
  }
}

// Gradient of allocationForward for ga [B,N], added to gu [B,N] (the order held constant):
//   dL/dû[φ_k] = P_k·(Q_k − G_k),  Q_{k−1} = G_k(1 − û[φ_k]) + û[φ_k]·Q_k,  Q_{N−1} = 0
export function allocationBackward(hat: usize, order: usize, prefix: usize, ga: usize, gu: usize, B: i32, N: i32): void {
  for (let b = 0; b < B; b++) {
    const o = b * N;
    const ob = order + (<usize>o << 2);
    let q: f64 = 0;
    for (let k = N - 1; k >= 0; k--) {
      const n = o + load<i32>(ob + (<usize>k << 2));
      const s = <f64>f(hat, n), g = <f64>f(ga, n);
      setf(gu, n, <f32>(<f64>f(gu, n) + (1 - ALLOCATION_EPS) * <f64>f(prefix, o + k) * (q - g)));
      q = g * (1 - s) + s * q;
    }
  }
}

// DNC read weighting for one read head (twin: readWeighting in src/memory/read-weighting.ts):
// out [B,N] = Σ_m π[b,m]·src_m[b,:], src: a table of M pointers to [B,N] weightings in mode order.
export function readWeightingForward(src: usize, M: i32, pi: usize, out: usize, B: i32, N: i32): void {
  const N4 = N & ~3;
  for (let b = 0; b < B; b++) {
    const ob = out + (<usize>(b * N) << 2);
    for (let m = 0; m < M; m++) {
      const sb = <usize>load<u32>(src + (<usize>m << 2)) + (<usize>(b * N) << 2);
      const p = f(pi, b * M + m);
      const pv = f32x4.splat(p);
      let n = 0;
      if (m == 0) {
        for (; n < N4; n += 4) v128.store(ob + (<usize>n << 2), f32x4.mul(pv, v128.load(sb + (<usize>n << 2))));
        for (; n < N; n++) setf(ob, n, p * f(sb, n));
      } else {
        for (; n < N4; n += 4) v128.store(ob + (<usize>n << 2), fma(v128.load(ob + (<usize>n << 2)), pv, v128.load(sb + (<usize>n << 2))));
        for (; n < N; n++) setf(ob, n, f(ob, n) + p * f(sb, n));
      }
    }
  }
}

// Its gradients: gsrc_m[b,:] += gy[b,:]·π[b,m] (a table entry of 0: not wanted) and
// gpi[b,m] += Σ_n gy[b,n]·src_m[b,n] (gpi 0: not wanted).
export function readWeightingBackward(src: usize, M: i32, pi: usize, gy: usize, gsrc: usize, gpi: usize, B: i32, N: i32): void {
  const N4 = N & ~3;
  for (let b = 0; b < B; b++) {
    const gb = gy + (<usize>(b * N) << 2);
    for (let m = 0; m < M; m++) {
      const off = <usize>(b * N) << 2;
      const sb = <usize>load<u32>(src + (<usize>m << 2)) + off;
      const gs = <usize>load<u32>(gsrc + (<usize>m << 2));
      const p = f(pi, b * M + m);
      const pv = f32x4.splat(p);
      let dv = f32x4.splat(0);
      let n = 0;
      for (; n < N4; n += 4) {
        const o = <usize>n << 2;
        const g = v128.load(gb + o);
        dv = fma(dv, g, v128.load(sb + o));
        if (gs != 0) v128.store(gs + off + o, fma(v128.load(gs + off + o), g, pv));
      }
      let d = hsum(dv);
      for (; n < N; n++) {
        const g = f(gb, n);
        d += g * f(sb, n);
        if (gs != 0) setf(gs + off, n, f(gs + off, n) + g * p);
      }
      if (gpi != 0) setf(gpi, b * M + m, f(gpi, b * M + m) + d);
    }
  }
}

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
