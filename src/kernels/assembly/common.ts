// @file Loads, stores and small SIMD helpers shared by the kernels (all inlined). Indices count
// float32 elements from a byte pointer.

// four floats at p[i..i+4)
// @ts-ignore: decorator
@inline
export function ld(p: usize, i: i32): v128 {
  return v128.load(p + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline
export function st(p: usize, i: i32, v: v128): void {
  v128.store(p + (<usize>i << 2), v);
}

// one float at p[i]
// @ts-ignore: decorator
@inline
export function f(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline
export function setf(p: usize, i: i32, v: f32): void {
  store<f32>(p + (<usize>i << 2), v);
}

// The module is built twice (package.json, build:kernels): with baseline SIMD, where a
// multiply-add is a multiply rounded, then an add rounded; and with relaxed SIMD
// (ASC_FEATURE_RELAXED_SIMD), where it is relaxed_madd, one fused operation rounded once on a CPU
// with FMA (src/kernels/heap.ts picks the fused build only when it is fused). Every multiply-add
// of a matrix product's sum (matmul.ts) goes through fma or fmaf, so a product's result rounds the
// same way in a SIMD lane and in a scalar tail, in either build: a row's result does not depend on
// its place in a tile. The other kernels use fma in their SIMD loops; their scalar tails (whose
// place depends on the sizes H, W, N only, not on how a batch is split) multiply, then add.

// acc + a·b, four lanes
// @ts-ignore: decorator
@inline
export function fma(acc: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

// acc + a·b for one float, rounded as a lane of fma is
// @ts-ignore: decorator
@inline
export function fmaf(acc: f32, a: f32, b: f32): f32 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.extract_lane(f32x4.relaxed_madd(f32x4.splat(a), f32x4.splat(b), f32x4.splat(acc)), 0);
  return acc + a * b;
}

// 1 when fma rounds once (the relaxed build on a CPU with FMA), else 0: (1 + 2⁻²³)(1 − 2⁻²³) − 1
// is −2⁻⁴⁶ exactly, and 0 when the product is rounded first. The heap asks before choosing a build.
export function fusedMultiplyAdd(): i32 {
  const e: f32 = 1.1920928955078125e-7; // 2⁻²³
  return fmaf(-1, 1 + e, 1 - e) != 0 ? 1 : 0;
}

// the sum of the four lanes
// @ts-ignore: decorator
@inline
export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

// [Σ a, Σ b, Σ c, Σ d]: the four vectors' lane sums in one vector (a 4×4 transpose-and-add)
// @ts-ignore: decorator
@inline
export function sum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(a, b, 2, 6, 3, 7)); // a0+a2 b0+b2 a1+a3 b1+b3
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), v128.shuffle<f32>(ab, cd, 2, 3, 6, 7));
}

// p[0] broadcast to four lanes (one load, no shuffle)
// @ts-ignore: decorator
@inline
export function bc(p: usize, i: i32): v128 {
  return v128.load32_splat(p + (<usize>i << 2));
}

/** Σ_j a[j]·b[j] over W floats. */
// @ts-ignore: decorator
@inline
export function dotW(a: usize, b: usize, W: i32): f32 {
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
export function axpyW(y: usize, s: f32, x: usize, W: i32): void {
  const W4 = W & ~3;
  const sv = f32x4.splat(s);
  let j = 0;
  for (; j < W4; j += 4) {
    const o = <usize>j << 2;
    v128.store(y + o, fma(v128.load(y + o), sv, v128.load(x + o)));
  }
  for (; j < W; j++) setf(y, j, f(y, j) + s * f(x, j));
}

// The DNC kernels below take per-head buffers through pointer tables: `xt` holds one u32
// byte offset per head (so each head's tensor is used where it lies, none packed by copying).
// @ts-ignore: decorator
@inline
export function at(table: usize, i: i32): usize {
  return <usize>load<u32>(table + (<usize>i << 2));
}

// The first byte past the static data (math tables among it): buffers are laid out from here.
export function heapBase(): usize {
  return __heap_base;
}
