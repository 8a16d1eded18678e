// @file exp and log for four float32 lanes, after Cephes' expf and logf (range reduction and a
// short polynomial; relative error ~2e-7 where the result is a normal number).

// e^x: x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in two constants so n·ln2 is exact), e^r by
// Cephes' polynomial, 2^n put straight into the exponent bits. x is clamped to [−87, 88], where
// 2^n stays normal (so e^x ≥ 1.6e−38 rather than 0 far below).
// @ts-ignore: decorator
@inline
export function expv(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-87.0)), f32x4.splat(88.0));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

// ln x for normal x > 0 (other lanes: meaningless, callers mask them): x = m·2^e with m in
// [√½, √2), ln m = t − t²/2 + t³·P(t) with t = m − 1, plus e·ln2 in two parts.
// @ts-ignore: decorator
@inline
export function logv(x: v128): v128 {
  const bits = x;
  let e = f32x4.convert_i32x4_s(i32x4.sub(i32x4.shr_u(bits, 23), i32x4.splat(126)));
  let m = v128.or(v128.and(bits, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000)); // [0.5, 1)
  const small = f32x4.lt(m, f32x4.splat(0.707106781186547524));
  // m < √½: use 2m − 1 and e − 1; else m − 1
  e = f32x4.sub(e, v128.and(small, f32x4.splat(1)));
  const t = f32x4.sub(f32x4.add(m, v128.and(small, m)), f32x4.splat(1));
  const z = f32x4.mul(t, t);
  let y = f32x4.splat(7.0376836292e-2);
  y = f32x4.add(f32x4.mul(y, t), f32x4.splat(-1.1514610310e-1));
  y = f32x4.add(f32x4.mul(y, t), f32x4.splat(1.1676998740e-1));
  y = f32x4.add(f32x4.mul(y, t), f32x4.splat(-1.2420140846e-1));
  y = f32x4.add(f32x4.mul(y, t), f32x4.splat(1.4249322787e-1));
  y = f32x4.add(f32x4.mul(y, t), f32x4.splat(-1.6668057665e-1));
  y = f32x4.add(f32x4.mul(y, t), f32x4.splat(2.0000714765e-1));
  y = f32x4.add(f32x4.mul(y, t), f32x4.splat(-2.4999993993e-1));
  y = f32x4.add(f32x4.mul(y, t), f32x4.splat(3.3333331174e-1));
  y = f32x4.mul(f32x4.mul(y, t), z);
  y = f32x4.add(y, f32x4.mul(e, f32x4.splat(-2.12194440e-4)));
  y = f32x4.sub(y, f32x4.mul(z, f32x4.splat(0.5)));
  return f32x4.add(f32x4.add(t, y), f32x4.mul(e, f32x4.splat(0.693359375)));
}

// dst[i] = e^src[i] and ln src[i] over n floats (n a multiple of 4): for the accuracy tests.
export function expArray(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) v128.store(dst + (<usize>i << 2), expv(v128.load(src + (<usize>i << 2))));
}

export function logArray(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) v128.store(dst + (<usize>i << 2), logv(v128.load(src + (<usize>i << 2))));
}
