// @file AssemblyScript → WebAssembly SIMD kernels for the linear layers (float32).
// Pointers are byte offsets into the kernel heap; shapes as in src/nn/linear.ts:
// x [B, I], W [O, I], y [B, O]. Each kernel has a plain TypeScript twin in src/nn/linear.ts
// that the tests hold it to.
//
// Register blocking: each kernel keeps a small tile of results in SIMD registers across the
// whole reduction, so every value loaded feeds several multiply-adds and each result is
// loaded and stored once (not once per term, as an axpy per row would).

import { f, fma, hsum, ld, setf, st } from './common';

/** Σ_i a[i]·b[i] over n floats (one result, for the edges of the tiles). */
function dot(a: usize, b: usize, n: i32): f32 {
  const n4 = n & ~3;
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i < n4; i += 4) acc = fma(acc, ld(a, i), ld(b, i));
  let s = hsum(acc);
  for (; i < n; i++) s += f(a, i) * f(b, i);
  return s;
}

// y[b, o] += Σ_i x[b, i] · W[o, i]: tiles of 2 batch rows × 4 output columns (8 accumulators).
export function matmulXWt(x: usize, w: usize, y: usize, B: i32, I: i32, O: i32): void {
  const I4 = I & ~3;
  const O4 = O & ~3;
  const B2 = B & ~1;
  const rowW = <usize>I << 2;
  let b = 0;
  for (; b < B2; b += 2) {
    const x0 = x + (<usize>(b * I) << 2), x1 = x0 + rowW;
    const y0 = y + (<usize>(b * O) << 2), y1 = y0 + (<usize>O << 2);
    let o = 0;
    for (; o < O4; o += 4) {
      const w0 = w + (<usize>(o * I) << 2);
      const w1 = w0 + rowW, w2 = w1 + rowW, w3 = w2 + rowW;
      let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0), a03 = f32x4.splat(0);
      let a10 = f32x4.splat(0), a11 = f32x4.splat(0), a12 = f32x4.splat(0), a13 = f32x4.splat(0);
      let i = 0;
      for (; i < I4; i += 4) {
        const xv0 = ld(x0, i), xv1 = ld(x1, i);
        const wv0 = ld(w0, i), wv1 = ld(w1, i), wv2 = ld(w2, i), wv3 = ld(w3, i);
        a00 = fma(a00, xv0, wv0); a01 = fma(a01, xv0, wv1); a02 = fma(a02, xv0, wv2); a03 = fma(a03, xv0, wv3);
        a10 = fma(a10, xv1, wv0); a11 = fma(a11, xv1, wv1); a12 = fma(a12, xv1, wv2); a13 = fma(a13, xv1, wv3);
      }
      let s00 = hsum(a00), s01 = hsum(a01), s02 = hsum(a02), s03 = hsum(a03);
      let s10 = hsum(a10), s11 = hsum(a11), s12 = hsum(a12), s13 = hsum(a13);
      for (; i < I; i++) {
        const xi0 = f(x0, i), xi1 = f(x1, i);
        const v0 = f(w0, i), v1 = f(w1, i), v2 = f(w2, i), v3 = f(w3, i);
        s00 += xi0 * v0; s01 += xi0 * v1; s02 += xi0 * v2; s03 += xi0 * v3;
        s10 += xi1 * v0; s11 += xi1 * v1; s12 += xi1 * v2; s13 += xi1 * v3;
      }
      setf(y0, o, f(y0, o) + s00); setf(y0, o + 1, f(y0, o + 1) + s01); setf(y0, o + 2, f(y0, o + 2) + s02); setf(y0, o + 3, f(y0, o + 3) + s03);
      setf(y1, o, f(y1, o) + s10); setf(y1, o + 1, f(y1, o + 1) + s11); setf(y1, o + 2, f(y1, o + 2) + s12); setf(y1, o + 3, f(y1, o + 3) + s13);
    }
    for (; o < O; o++) {
      const wo = w + (<usize>(o * I) << 2);
      setf(y0, o, f(y0, o) + dot(x0, wo, I));
      setf(y1, o, f(y1, o) + dot(x1, wo, I));
    }
  }
  for (; b < B; b++) {
    const xb = x + (<usize>(b * I) << 2);
    const yb = y + (<usize>(b * O) << 2);
    for (let o = 0; o < O; o++) setf(yb, o, f(yb, o) + dot(xb, w + (<usize>(o * I) << 2), I));
  }
}

/** True when all n floats at p are 0 (a masked time step's output gradient): nothing to add. */
function allZero(p: usize, n: i32): bool {
  for (let i = 0; i < n; i++) if (f(p, i) != 0) return false;
  return true;
}

// gx[b, i] += Σ_o gy[b, o] · W[o, i]: tiles of 2 batch rows × 16 columns of gx (8 accumulators),
// the sum over o running in registers.
export function matmulXWtBackwardX(w: usize, gy: usize, gx: usize, B: i32, I: i32, O: i32): void {
  if (allZero(gy, B * O)) return;
  const I16 = I & ~15;
  const I4 = I & ~3;
  const B2 = B & ~1;
  let b = 0;
  for (; b < B2; b += 2) {
    const g0 = gy + (<usize>(b * O) << 2), g1 = g0 + (<usize>O << 2);
    const x0 = gx + (<usize>(b * I) << 2), x1 = x0 + (<usize>I << 2);
    let i = 0;
    for (; i < I16; i += 16) {
      let a00 = ld(x0, i), a01 = ld(x0, i + 4), a02 = ld(x0, i + 8), a03 = ld(x0, i + 12);
      let a10 = ld(x1, i), a11 = ld(x1, i + 4), a12 = ld(x1, i + 8), a13 = ld(x1, i + 12);
      for (let o = 0; o < O; o++) {
        const wo = w + (<usize>(o * I + i) << 2);
        const v0 = v128.load(wo), v1 = v128.load(wo, 16), v2 = v128.load(wo, 32), v3 = v128.load(wo, 48);
        const s0 = f32x4.splat(f(g0, o)), s1 = f32x4.splat(f(g1, o));
        a00 = fma(a00, s0, v0); a01 = fma(a01, s0, v1); a02 = fma(a02, s0, v2); a03 = fma(a03, s0, v3);
        a10 = fma(a10, s1, v0); a11 = fma(a11, s1, v1); a12 = fma(a12, s1, v2); a13 = fma(a13, s1, v3);
      }
      st(x0, i, a00); st(x0, i + 4, a01); st(x0, i + 8, a02); st(x0, i + 12, a03);
      st(x1, i, a10); st(x1, i + 4, a11); st(x1, i + 8, a12); st(x1, i + 12, a13);
    }
    for (; i < I4; i += 4) {
      let a0 = ld(x0, i), a1 = ld(x1, i);
      for (let o = 0; o < O; o++) {
        const v = ld(w + (<usize>(o * I) << 2), i);
        a0 = fma(a0, f32x4.splat(f(g0, o)), v);
        a1 = fma(a1, f32x4.splat(f(g1, o)), v);
      }
      st(x0, i, a0); st(x1, i, a1);
    }
    for (; i < I; i++) {
      let s0 = f(x0, i), s1 = f(x1, i);
      for (let o = 0; o < O; o++) {
        const v = f(w, o * I + i);
        s0 += f(g0, o) * v;
        s1 += f(g1, o) * v;
      }
      setf(x0, i, s0); setf(x1, i, s1);
    }
  }
  for (; b < B; b++) {
    const gb = gy + (<usize>(b * O) << 2);
    const xb = gx + (<usize>(b * I) << 2);
    let i = 0;
    for (; i < I4; i += 4) {
      let a = ld(xb, i);
      for (let o = 0; o < O; o++) a = fma(a, f32x4.splat(f(gb, o)), ld(w + (<usize>(o * I) << 2), i));
      st(xb, i, a);
    }
    for (; i < I; i++) {
      let s = f(xb, i);
      for (let o = 0; o < O; o++) s += f(gb, o) * f(w, o * I + i);
      setf(xb, i, s);
    }
  }
}

// gW[o, i] += Σ_b gy[b, o] · x[b, i]: tiles of 2 rows of gW × 16 columns (8 accumulators), the
// sum over the batch running in registers.
export function matmulXWtBackwardW(x: usize, gy: usize, gw: usize, B: i32, I: i32, O: i32): void {
  if (allZero(gy, B * O)) return;
  const I16 = I & ~15;
  const I4 = I & ~3;
  const O2 = O & ~1;
  let o = 0;
  for (; o < O2; o += 2) {
    const r0 = gw + (<usize>(o * I) << 2), r1 = r0 + (<usize>I << 2);
    let i = 0;
    for (; i < I16; i += 16) {
      let a00 = ld(r0, i), a01 = ld(r0, i + 4), a02 = ld(r0, i + 8), a03 = ld(r0, i + 12);
      let a10 = ld(r1, i), a11 = ld(r1, i + 4), a12 = ld(r1, i + 8), a13 = ld(r1, i + 12);
      for (let b = 0; b < B; b++) {
        const xb = x + (<usize>(b * I + i) << 2);
        const v0 = v128.load(xb), v1 = v128.load(xb, 16), v2 = v128.load(xb, 32), v3 = v128.load(xb, 48);
        const s0 = f32x4.splat(f(gy, b * O + o)), s1 = f32x4.splat(f(gy, b * O + o + 1));
        a00 = fma(a00, s0, v0); a01 = fma(a01, s0, v1); a02 = fma(a02, s0, v2); a03 = fma(a03, s0, v3);
        a10 = fma(a10, s1, v0); a11 = fma(a11, s1, v1); a12 = fma(a12, s1, v2); a13 = fma(a13, s1, v3);
      }
      st(r0, i, a00); st(r0, i + 4, a01); st(r0, i + 8, a02); st(r0, i + 12, a03);
      st(r1, i, a10); st(r1, i + 4, a11); st(r1, i + 8, a12); st(r1, i + 12, a13);
    }
    for (; i < I4; i += 4) {
      let a0 = ld(r0, i), a1 = ld(r1, i);
      for (let b = 0; b < B; b++) {
        const v = ld(x + (<usize>(b * I) << 2), i);
        a0 = fma(a0, f32x4.splat(f(gy, b * O + o)), v);
        a1 = fma(a1, f32x4.splat(f(gy, b * O + o + 1)), v);
      }
      st(r0, i, a0); st(r1, i, a1);
    }
    for (; i < I; i++) {
      let s0 = f(r0, i), s1 = f(r1, i);
      for (let b = 0; b < B; b++) {
        const v = f(x, b * I + i);
        s0 += f(gy, b * O + o) * v;
        s1 += f(gy, b * O + o + 1) * v;
      }
      setf(r0, i, s0); setf(r1, i, s1);
    }
  }
  for (; o < O; o++) {
    const r = gw + (<usize>(o * I) << 2);
    let i = 0;
    for (; i < I4; i += 4) {
      let a = ld(r, i);
      for (let b = 0; b < B; b++) a = fma(a, f32x4.splat(f(gy, b * O + o)), ld(x + (<usize>(b * I) << 2), i));
      st(r, i, a);
    }
    for (; i < I; i++) {
      let s = f(r, i);
      for (let b = 0; b < B; b++) s += f(gy, b * O + o) * f(x, b * I + i);
      setf(r, i, s);
    }
  }
}

// Zeroes `bytes` bytes at `p` (one memory.fill: V8's TypedArray.fill is several times slower on
// the shared memory the kernels use).
export function zeroBytes(p: usize, bytes: usize): void {
  memory.fill(p, 0, bytes);
}

// Σ x² over n floats, summed in float64 (two f64 lanes per four floats), for gradient norms.
export function sumSquares(p: usize, n: i32): f64 {
  const n4 = n & ~3;
  let a = f64x2.splat(0), c = f64x2.splat(0);
  let i = 0;
  for (; i < n4; i += 4) {
    const v = v128.load(p + (<usize>i << 2));
    const lo = f64x2.promote_low_f32x4(v);
    const hi = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
    a = f64x2.add(a, f64x2.mul(lo, lo));
    c = f64x2.add(c, f64x2.mul(hi, hi));
  }
  let s = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1) + f64x2.extract_lane(c, 0) + f64x2.extract_lane(c, 1);
  for (; i < n; i++) {
    const x = <f64>load<f32>(p + (<usize>i << 2));
    s += x * x;
  }
  return s;
}

// 1 when all n floats are finite, else 0 (x − x is 0 for finite x, NaN for ±Inf and NaN).
export function allFinite(p: usize, n: i32): i32 {
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const v = v128.load(p + (<usize>i << 2));
    if (!i32x4.all_true(f32x4.eq(f32x4.sub(v, v), f32x4.splat(0)))) return 0;
  }
  for (; i < n; i++) {
    const x = load<f32>(p + (<usize>i << 2));
    if (x - x != 0) return 0;
  }
  return 1;
}

// Copies `bytes` bytes from `src` to `dst` (one memory.copy; TypedArray.set is slower on shared memory).
export function copyBytes(dst: usize, src: usize, bytes: usize): void {
  memory.copy(dst, src, bytes);
}
