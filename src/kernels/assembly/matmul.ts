// @file AssemblyScript → WebAssembly SIMD kernels for the linear layers (float32).
// Pointers are byte offsets into the kernel heap; shapes as in src/nn/linear.ts:
// x [B, I], W [O, I], y [B, O]. Each kernel has a plain TypeScript twin in src/nn/linear.ts
// that the tests hold it to.
//
// Register blocking: each kernel keeps a small tile of results in SIMD registers across the
// whole reduction, so every value loaded feeds several multiply-adds and each result is
// loaded and stored once (not once per term, as an axpy per row would).

import { bc, f, fma, fmaf, ld, setf, st, sum4 } from './common';

/** Σ_i a[i]·b[i] over n floats, in the order of matmulXWt's tiles (lanes summed as sum4 does, then
 * the last n % 4 terms one by one), so an output's value does not depend on its place in a tile. */
function dot(a: usize, b: usize, n: i32): f32 {
  const n4 = n & ~3;
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i < n4; i += 4) acc = fma(acc, ld(a, i), ld(b, i));
  let s = (f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 2)) + (f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 3));
  for (; i < n; i++) s = fmaf(s, f(a, i), f(b, i));
  return s;
}

// y[b, o] += Σ_i x[b, i] · W[o, i]: tiles of 2 batch rows × 4 output columns (8 accumulators),
// each tile's lane sums folded in one transpose-and-add and added to y four at a time.
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
      let s0 = sum4(a00, a01, a02, a03), s1 = sum4(a10, a11, a12, a13);
      for (; i < I; i++) {
        // the last I % 4 terms: column i of W's four rows against x's two elements
        const wv = f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(f(w0, i)), 1, f(w1, i)), 2, f(w2, i)), 3, f(w3, i));
        s0 = fma(s0, bc(x0, i), wv);
        s1 = fma(s1, bc(x1, i), wv);
      }
      st(y0, o, f32x4.add(ld(y0, o), s0));
      st(y1, o, f32x4.add(ld(y1, o), s1));
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

// The two backward products share one shape: for a pair of rows r = 0, 1 of the result R (row
// length I), R[r, i] += Σ_k s[k, r] · V[k, i], k over K terms, with s[k, 0] at byte s + k·sk·4,
// s[k, 1] so bytes after it, and V's rows I floats apart. Columns go 16, then 8, then 4 at a time with the sum over k held
// in registers (two accumulators per vector in the narrow blocks, even and odd k, so the adds do
// not wait on each other; pair8, pair4). The last columns that fill no block go as the top lanes
// of a block of the last eight or four columns, summed the same way, the lanes below kept as they
// are; one at a time only when I < 4 (a scalar chain over k took as long as all the blocks before
// it for I = 30, K = 400).
// @ts-ignore: decorator
@inline
function accumulatePair(R0: usize, R1: usize, s: usize, sk: i32, so: usize, V: usize, K: i32, I: i32): void {
  const I16 = I & ~15;
  for (let i = 0; i < I16; i += 16) pair16(R0, R1, s, sk, so, V, K, I, i);
  pairTail(R0, R1, s, sk, so, V, K, I);
}

// Sixteen columns from i of a pair of rows (see accumulatePair), the sums over k in registers.
// @ts-ignore: decorator
@inline
function pair16(R0: usize, R1: usize, s: usize, sk: i32, so: usize, V: usize, K: i32, I: i32, i: i32): void {
  let a00 = ld(R0, i), a01 = ld(R0, i + 4), a02 = ld(R0, i + 8), a03 = ld(R0, i + 12);
  let a10 = ld(R1, i), a11 = ld(R1, i + 4), a12 = ld(R1, i + 8), a13 = ld(R1, i + 12);
  const vstep = <usize>I << 2, sstep = <usize>sk << 2;
  let vp = V + (<usize>i << 2), sp = s;
  for (let k = 0; k < K; k++) {
    const v0 = v128.load(vp), v1 = v128.load(vp, 16), v2 = v128.load(vp, 32), v3 = v128.load(vp, 48);
    const s0 = v128.load32_splat(sp), s1 = v128.load32_splat(sp + so);
    a00 = fma(a00, s0, v0); a01 = fma(a01, s0, v1); a02 = fma(a02, s0, v2); a03 = fma(a03, s0, v3);
    a10 = fma(a10, s1, v0); a11 = fma(a11, s1, v1); a12 = fma(a12, s1, v2); a13 = fma(a13, s1, v3);
    vp += vstep; sp += sstep;
  }
  st(R0, i, a00); st(R0, i + 4, a01); st(R0, i + 8, a02); st(R0, i + 12, a03);
  st(R1, i, a10); st(R1, i + 4, a11); st(R1, i + 8, a12); st(R1, i + 12, a13);
}

// The columns of a pair of rows after its 16-wide blocks (see accumulatePair).
// @ts-ignore: decorator
@inline
function pairTail(R0: usize, R1: usize, s: usize, sk: i32, so: usize, V: usize, K: i32, I: i32): void {
  const I8 = I & ~7;
  const I4 = I & ~3;
  const vstep = <usize>I << 2, sstep = <usize>sk << 2;
  let i = I & ~15;
  if (i < I8) {
    pair8(R0, R1, s, so, sstep, V, vstep, K, i, i32x4.splat(-1));
    i += 8;
  }
  // the last I % 8 columns: 5 to 7 as the top lanes of the block of the last eight columns (the
  // lanes below are done and kept), else a block of four and the rest as the top lanes of the
  // last four
  if (I - i > 4 && I >= 8) {
    pair8(R0, R1, s, so, sstep, V, vstep, K, I - 8, tailLanes(i - (I - 8)));
    i = I;
  } else {
    if (i < I4) {
      pair4(R0, R1, s, so, sstep, V, vstep, K, i, i32x4.splat(-1));
      i += 4;
    }
    if (i < I && I >= 4) {
      pair4(R0, R1, s, so, sstep, V, vstep, K, I - 4, tailLanes(i - (I - 4)));
      i = I;
    }
  }
  for (; i < I; i++) {
    let s0 = f(R0, i), s1 = f(R1, i);
    for (let k = 0; k < K; k++) {
      const v = f(V, k * I + i);
      s0 = fmaf(s0, f(s, k * sk), v);
      s1 = fmaf(s1, load<f32>(s + (<usize>(k * sk) << 2) + so), v);
    }
    setf(R0, i, s0); setf(R1, i, s1);
  }
}

// Eight columns from i of a pair of rows (see accumulatePair), two accumulators per vector (even
// and odd k); lanes of the first four outside `keep0` are left as they are (columns done before).
// @ts-ignore: decorator
@inline
function pair8(R0: usize, R1: usize, s: usize, so: usize, sstep: usize, V: usize, vstep: usize, K: i32, i: i32, keep0: v128): void {
  const K2 = K & ~1;
  const r00 = ld(R0, i), r10 = ld(R1, i);
  let a00 = v128.and(r00, keep0), a01 = ld(R0, i + 4), a10 = v128.and(r10, keep0), a11 = ld(R1, i + 4);
  let b00 = f32x4.splat(0), b01 = f32x4.splat(0), b10 = f32x4.splat(0), b11 = f32x4.splat(0);
  let vp = V + (<usize>i << 2), sp = s;
  let k = 0;
  for (; k < K2; k += 2) {
    const v0 = v128.load(vp), v1 = v128.load(vp, 16);
    const s0 = v128.load32_splat(sp), s1 = v128.load32_splat(sp + so);
    a00 = fma(a00, s0, v0); a01 = fma(a01, s0, v1); a10 = fma(a10, s1, v0); a11 = fma(a11, s1, v1);
    vp += vstep; sp += sstep;
    const u0 = v128.load(vp), u1 = v128.load(vp, 16);
    const t0 = v128.load32_splat(sp), t1 = v128.load32_splat(sp + so);
    b00 = fma(b00, t0, u0); b01 = fma(b01, t0, u1); b10 = fma(b10, t1, u0); b11 = fma(b11, t1, u1);
    vp += vstep; sp += sstep;
  }
  if (k < K) {
    const v0 = v128.load(vp), v1 = v128.load(vp, 16);
    const s0 = v128.load32_splat(sp), s1 = v128.load32_splat(sp + so);
    a00 = fma(a00, s0, v0); a01 = fma(a01, s0, v1); a10 = fma(a10, s1, v0); a11 = fma(a11, s1, v1);
  }
  st(R0, i, v128.bitselect(f32x4.add(a00, b00), r00, keep0)); st(R0, i + 4, f32x4.add(a01, b01));
  st(R1, i, v128.bitselect(f32x4.add(a10, b10), r10, keep0)); st(R1, i + 4, f32x4.add(a11, b11));
}

// Four columns from i of one row (see accumulateRow), two accumulators (even and odd k), as pair4.
// @ts-ignore: decorator
@inline
function row4(R: usize, s: usize, sstep: usize, V: usize, vstep: usize, K: i32, i: i32, keep: v128): void {
  const K2 = K & ~1;
  const r = ld(R, i);
  let a = v128.and(r, keep), b = f32x4.splat(0);
  let vp = V + (<usize>i << 2), sp = s;
  let k = 0;
  for (; k < K2; k += 2) {
    a = fma(a, v128.load32_splat(sp), v128.load(vp));
    vp += vstep; sp += sstep;
    b = fma(b, v128.load32_splat(sp), v128.load(vp));
    vp += vstep; sp += sstep;
  }
  if (k < K) a = fma(a, v128.load32_splat(sp), v128.load(vp));
  st(R, i, v128.bitselect(f32x4.add(a, b), r, keep));
}

// Four columns from i of a pair of rows, as pair8.
// @ts-ignore: decorator
@inline
function pair4(R0: usize, R1: usize, s: usize, so: usize, sstep: usize, V: usize, vstep: usize, K: i32, i: i32, keep: v128): void {
  const K2 = K & ~1;
  const r0 = ld(R0, i), r1 = ld(R1, i);
  let a0 = v128.and(r0, keep), a1 = v128.and(r1, keep);
  let b0 = f32x4.splat(0), b1 = f32x4.splat(0);
  let vp = V + (<usize>i << 2), sp = s;
  let k = 0;
  for (; k < K2; k += 2) {
    const v = v128.load(vp);
    a0 = fma(a0, v128.load32_splat(sp), v); a1 = fma(a1, v128.load32_splat(sp + so), v);
    vp += vstep; sp += sstep;
    const u = v128.load(vp);
    b0 = fma(b0, v128.load32_splat(sp), u); b1 = fma(b1, v128.load32_splat(sp + so), u);
    vp += vstep; sp += sstep;
  }
  if (k < K) {
    const v = v128.load(vp);
    a0 = fma(a0, v128.load32_splat(sp), v); a1 = fma(a1, v128.load32_splat(sp + so), v);
  }
  st(R0, i, v128.bitselect(f32x4.add(a0, b0), r0, keep));
  st(R1, i, v128.bitselect(f32x4.add(a1, b1), r1, keep));
}

// All ones in lanes first..3, zeros below: the lanes of a four-column block at I − 4 that are
// still to be done when columns below I − 4 + first are.
// @ts-ignore: decorator
@inline
function tailLanes(first: i32): v128 {
  return i32x4.ge_s(i32x4(0, 1, 2, 3), i32x4.splat(first));
}

// One row: R[i] += Σ_k s[k·sk] · V[k, i], each column summed in the same order as in
// accumulatePair (one chain in the 16-wide blocks, even and odd k apart in the 8- and 4-wide
// ones), so a result never depends on whether its row was paired: the same numbers come out for
// any batch split or head layout.
function accumulateRow(R: usize, s: usize, sk: i32, V: usize, K: i32, I: i32): void {
  const I16 = I & ~15;
  const I4 = I & ~3;
  const vstep = <usize>I << 2, sstep = <usize>sk << 2;
  let i = 0;
  for (; i < I16; i += 4) {
    let a = ld(R, i);
    let vp = V + (<usize>i << 2), sp = s;
    for (let k = 0; k < K; k++) {
      a = fma(a, v128.load32_splat(sp), v128.load(vp));
      vp += vstep; sp += sstep;
    }
    st(R, i, a);
  }
  for (; i < I4; i += 4) row4(R, s, sstep, V, vstep, K, i, i32x4.splat(-1));
  if (i < I && I >= 4) {
    // as accumulatePair's last columns: the top lanes of the last four
    row4(R, s, sstep, V, vstep, K, I - 4, tailLanes(i - (I - 4)));
    i = I;
  }
  for (; i < I; i++) {
    let acc = f(R, i);
    for (let k = 0; k < K; k++) acc = fmaf(acc, f(s, k * sk), f(V, k * I + i));
    setf(R, i, acc);
  }
}

// gx[b, i] += Σ_o gy[b, o] · W[o, i]: rows of gx two at a time, the sum over o in registers.
export function matmulXWtBackwardX(w: usize, gy: usize, gx: usize, B: i32, I: i32, O: i32): void {
  if (allZero(gy, B * O)) return;
  const B2 = B & ~1;
  let b = 0;
  for (; b < B2; b += 2) {
    const x0 = gx + (<usize>(b * I) << 2);
    // s[k = o, r] = gy[b + r, o]: consecutive o one float apart, the second row O floats on
    accumulatePair(x0, x0 + (<usize>I << 2), gy + (<usize>(b * O) << 2), 1, <usize>O << 2, w, O, I);
  }
  for (; b < B; b++) accumulateRow(gx + (<usize>(b * I) << 2), gy + (<usize>(b * O) << 2), 1, w, O, I);
}

// gW[o, i] += Σ_b gy[b, o] · x[b, i]: rows of gW two at a time, the sum over the batch in registers.
export function matmulXWtBackwardW(x: usize, gy: usize, gw: usize, B: i32, I: i32, O: i32): void {
  if (allZero(gy, B * O)) return;
  const O2 = O & ~1;
  let o = 0;
  // s[k = b, r] = gy[b, o + r]: the pair side by side, consecutive b O floats apart
  for (; o < O2; o += 2) {
    const r0 = gw + (<usize>(o * I) << 2);
    accumulatePair(r0, r0 + (<usize>I << 2), gy + (<usize>o << 2), O, 4, x, B, I);
  }
  for (; o < O; o++) accumulateRow(gw + (<usize>(o * I) << 2), gy + (<usize>o << 2), O, x, B, I);
}

// matmulXWtBackwardW over a list of products into one gW, in the list's order: item j is
// (x, gy, B) at list + 12·j (byte pointers and a row count). The same sums in the same order as one
// matmulXWtBackwardW call per item (so the same bits), but each 16-column block of a pair of gW's
// rows is loaded and stored once for the whole list, not once per item (a recurrent layer's weight
// gradient, one item per time step: 12–31% less time for 8 and 4 rows over 9 steps). skip: n i32
// of scratch, where each item's "its gy is all 0" goes first (matmulXWtBackwardW skips those).
export function matmulXWtBackwardWList(list: usize, n: i32, skip: usize, gw: usize, I: i32, O: i32): void {
  let any = false;
  for (let j = 0; j < n; j++) {
    const q = list + <usize>(12 * j);
    const zero = allZero(load<u32>(q, 4), load<i32>(q, 8) * O);
    store<i32>(skip + (<usize>j << 2), zero ? 1 : 0);
    any = any || !zero;
  }
  if (!any) return;
  const O2 = O & ~1;
  const I16 = I & ~15;
  let o = 0;
  for (; o < O2; o += 2) {
    const r0 = gw + (<usize>(o * I) << 2), r1 = r0 + (<usize>I << 2);
    // s[k = b, r] = gy[b, o + r], as in matmulXWtBackwardW
    for (let i = 0; i < I16; i += 16) {
      let a00 = ld(r0, i), a01 = ld(r0, i + 4), a02 = ld(r0, i + 8), a03 = ld(r0, i + 12);
      let a10 = ld(r1, i), a11 = ld(r1, i + 4), a12 = ld(r1, i + 8), a13 = ld(r1, i + 12);
      for (let j = 0; j < n; j++) {
        if (load<i32>(skip + (<usize>j << 2)) != 0) continue;
        const q = list + <usize>(12 * j);
        const B = load<i32>(q, 8);
        const vstep = <usize>I << 2, sstep = <usize>O << 2;
        let vp = <usize>load<u32>(q) + (<usize>i << 2), sp = <usize>load<u32>(q, 4) + (<usize>o << 2);
        for (let k = 0; k < B; k++) {
          const v0 = v128.load(vp), v1 = v128.load(vp, 16), v2 = v128.load(vp, 32), v3 = v128.load(vp, 48);
          const s0 = v128.load32_splat(sp), s1 = v128.load32_splat(sp, 4);
          a00 = fma(a00, s0, v0); a01 = fma(a01, s0, v1); a02 = fma(a02, s0, v2); a03 = fma(a03, s0, v3);
          a10 = fma(a10, s1, v0); a11 = fma(a11, s1, v1); a12 = fma(a12, s1, v2); a13 = fma(a13, s1, v3);
          vp += vstep; sp += sstep;
        }
      }
      st(r0, i, a00); st(r0, i + 4, a01); st(r0, i + 8, a02); st(r0, i + 12, a03);
      st(r1, i, a10); st(r1, i + 4, a11); st(r1, i + 8, a12); st(r1, i + 12, a13);
    }
    if (I16 < I) {
      for (let j = 0; j < n; j++) {
        if (load<i32>(skip + (<usize>j << 2)) != 0) continue;
        const q = list + <usize>(12 * j);
        pairTail(r0, r1, <usize>load<u32>(q, 4) + (<usize>o << 2), O, 4, <usize>load<u32>(q), load<i32>(q, 8), I);
      }
    }
  }
  for (; o < O; o++) {
    for (let j = 0; j < n; j++) {
      if (load<i32>(skip + (<usize>j << 2)) != 0) continue;
      const q = list + <usize>(12 * j);
      accumulateRow(gw + (<usize>(o * I) << 2), <usize>load<u32>(q, 4) + (<usize>o << 2), O, <usize>load<u32>(q), load<i32>(q, 8), I);
    }
  }
}

// Zeroes `bytes` bytes at `p` (one memory.fill: V8's TypedArray.fill is several times slower on
// the shared memory the kernels use).
export function zeroBytes(p: usize, bytes: usize): void {
  memory.fill(p, 0, bytes);
}

// Σ x² over n floats, summed in float64, for gradient norms: two floats at a time loaded into the
// low half of a vector and widened (a shuffle of four to widen the top two cost more, on the
// port that widens), eight a step into four accumulators.
export function sumSquares(p: usize, n: i32): f64 {
  const n8 = n & ~7;
  let a = f64x2.splat(0), b = f64x2.splat(0), c = f64x2.splat(0), d = f64x2.splat(0);
  let i = 0;
  for (; i < n8; i += 8) {
    const q = p + (<usize>i << 2);
    const v0 = f64x2.promote_low_f32x4(v128.load64_zero(q)), v1 = f64x2.promote_low_f32x4(v128.load64_zero(q, 8));
    const v2 = f64x2.promote_low_f32x4(v128.load64_zero(q, 16)), v3 = f64x2.promote_low_f32x4(v128.load64_zero(q, 24));
    a = f64x2.add(a, f64x2.mul(v0, v0));
    b = f64x2.add(b, f64x2.mul(v1, v1));
    c = f64x2.add(c, f64x2.mul(v2, v2));
    d = f64x2.add(d, f64x2.mul(v3, v3));
  }
  const ab = f64x2.add(a, b), cd = f64x2.add(c, d);
  let s = (f64x2.extract_lane(ab, 0) + f64x2.extract_lane(ab, 1)) + (f64x2.extract_lane(cd, 0) + f64x2.extract_lane(cd, 1));
  for (; i < n; i++) {
    const x = <f64>load<f32>(p + (<usize>i << 2));
    s += x * x;
  }
  return s;
}

// Copies `bytes` bytes from `src` to `dst` (one memory.copy; TypedArray.set is slower on shared memory).
export function copyBytes(dst: usize, src: usize, bytes: usize): void {
  memory.copy(dst, src, bytes);
}

// dst[r, 0..cols) = src[r, 0..cols) for r < rows, rows sStride and dStride floats apart (concat's
// forward pass: an input's block of columns into the output)
export function copyCols(src: usize, sStride: i32, dst: usize, dStride: i32, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) memory.copy(dst + (<usize>(r * dStride) << 2), src + (<usize>(r * sStride) << 2), <usize>cols << 2);
}

// dst[r, 0..cols) += src[r, 0..cols) (concat's backward pass: a block of the output's gradient
// into an input's)
export function addCols(src: usize, sStride: i32, dst: usize, dStride: i32, rows: i32, cols: i32): void {
  const c4 = cols & ~3;
  for (let r = 0; r < rows; r++) {
    const s = src + (<usize>(r * sStride) << 2), d = dst + (<usize>(r * dStride) << 2);
    let j = 0;
    for (; j < c4; j += 4) st(d, j, f32x4.add(ld(d, j), ld(s, j)));
    for (; j < cols; j++) setf(d, j, f(d, j) + f(s, j));
  }
}
