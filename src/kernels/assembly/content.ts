// @file Content addressing on WASM SIMD, forward and backward (twin: src/memory/content.ts).
// Pointers are byte offsets into this instance's memory; shapes as in the twin. Backward kernels
// add their gradients to what the output buffers hold (the caller puts the gradient accumulated so
// far there, or zeros), as every memory kernel does.

import { expv } from './simd-math';
import { axpyW, dotW, f, fma, hsum, setf, sum4 } from './common';
import { COSINE_EPS as COSINE_EPS_F64 } from '../constants';

// ε of the cosine similarity, in the float32 the kernel computes in
const COSINE_EPS: f32 = <f32>COSINE_EPS_F64;

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
