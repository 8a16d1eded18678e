// @file exp and log for four float32 lanes, after Cephes' expf and logf (range reduction and a
// short polynomial; relative error ~2e-7 where the result is a normal number).

// The constants live in a static table and are broadcast by one load each: V8 (11.x) builds a
// v128 constant with three instructions at every use inside a loop, which cost more than the
// arithmetic here. Each constant's float32 bits are the same as a literal's, so are the results.
import { fma } from './common';

const C = memory.data<f32>([
  -87.0, 88.0, 1.44269504088896341, 12582912.0, // 0: exp's clamp, log2(e), 1.5·2^23 (rounds to an integer when added)
  0.693359375, -2.12194440e-4, // 16: ln2 in two parts
  1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1, 1.0, // 24: exp's polynomial, 1
  0.707106781186547524, // 52: √½
  7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1, // 56: log's polynomial
  -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1, 0.5, // 76
  2.0, 0.25, // 96: tanh's 2, the bound of its series
  -0.333333333333333333, 0.133333333333333333, -0.053968253968253968, 0.021869488536155203, // 104: tanh's series
]);
const CI = memory.data<i32>([127, 126, 0x007fffff, 0x3f000000]);

// the constant at byte offset `o` of C, in four lanes
// @ts-ignore: decorator
@inline
function k(o: usize): v128 {
  return v128.load32_splat(C + o);
}

// @ts-ignore: decorator
@inline
function ki(o: usize): v128 {
  return v128.load32_splat(CI + o);
}

// e^x: x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in two constants so n·ln2 is exact), e^r by
// Cephes' polynomial, 2^n put straight into the exponent bits. x is clamped to [−87, 88], where
// 2^n stays normal (so e^x ≥ 1.6e−38 rather than 0 far below). n = round(x·log2 e) comes from
// adding 1.5·2^23, which leaves n in the low mantissa bits: the same integer f32x4.nearest gives
// (ties to even), and its bits shifted by 23 give 2^n's exponent with no float-to-int conversion.
// @ts-ignore: decorator
@inline
export function expv(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, k(0)), k(4)); // one instruction each: x is never −0 against these bounds, NaN stays NaN
  const t = fma(k(12), x, k(8));
  const n = f32x4.sub(t, k(12));
  let r = f32x4.sub(x, f32x4.mul(n, k(16)));
  r = f32x4.sub(r, f32x4.mul(n, k(20)));
  let p = k(24);
  p = fma(k(28), p, r);
  p = fma(k(32), p, r);
  p = fma(k(36), p, r);
  p = fma(k(40), p, r);
  p = fma(k(44), p, r);
  p = f32x4.add(fma(r, p, f32x4.mul(r, r)), k(48));
  // t's bits are 0x4B400000 + n; shifted by 23 the first part drops out
  const scale = i32x4.shl(i32x4.add(t, ki(0)), 23);
  return f32x4.mul(p, scale);
}

// ln x for normal x > 0 (other lanes: meaningless, callers mask them): x = m·2^e with m in
// [√½, √2), ln m = t − t²/2 + t³·P(t) with t = m − 1, plus e·ln2 in two parts.
// @ts-ignore: decorator
@inline
export function logv(x: v128): v128 {
  const bits = x;
  let e = f32x4.convert_i32x4_s(i32x4.sub(i32x4.shr_u(bits, 23), ki(4)));
  let m = v128.or(v128.and(bits, ki(8)), ki(12)); // [0.5, 1)
  const small = f32x4.lt(m, k(52));
  const one = k(48);
  // m < √½: use 2m − 1 and e − 1; else m − 1
  e = f32x4.sub(e, v128.and(small, one));
  const t = f32x4.sub(f32x4.add(m, v128.and(small, m)), one);
  const z = f32x4.mul(t, t);
  let y = k(56);
  y = fma(k(60), y, t);
  y = fma(k(64), y, t);
  y = fma(k(68), y, t);
  y = fma(k(72), y, t);
  y = fma(k(76), y, t);
  y = fma(k(80), y, t);
  y = fma(k(84), y, t);
  y = fma(k(88), y, t);
  y = f32x4.mul(f32x4.mul(y, t), z);
  y = fma(y, e, k(20));
  y = f32x4.sub(y, f32x4.mul(z, k(92)));
  return fma(f32x4.add(t, y), e, k(16));
}

// σ(x) = 1 / (1 + e^−x)
// @ts-ignore: decorator
@inline
export function sigmoidv(x: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), expv(f32x4.neg(x))));
}

// tanh(x) = 1 − 2 / (e^2x + 1) (exact limits ±1), and for |x| < 1/4, where that difference
// cancels, its series x − x³/3 + 2x⁵/15 − 17x⁷/315 + 62x⁹/2835 (the next term is below 1e-8
// of it): relative error below 1e-6 everywhere, tiny inputs included.
// @ts-ignore: decorator
@inline
export function tanhv(x: v128): v128 {
  const one = k(48);
  const big = f32x4.sub(one, f32x4.div(k(96), f32x4.add(expv(f32x4.add(x, x)), one)));
  const z = f32x4.mul(x, x);
  let p = k(116);
  p = fma(k(112), p, z);
  p = fma(k(108), p, z);
  p = fma(k(104), p, z);
  const small = f32x4.mul(x, fma(one, z, p)); // x·(…): tanh(−0) = −0
  return v128.bitselect(small, big, f32x4.lt(f32x4.abs(x), k(100)));
}

// dst[i] = e^src[i] and ln src[i] over n floats (n a multiple of 4): for the accuracy tests.
export function expArray(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) v128.store(dst + (<usize>i << 2), expv(v128.load(src + (<usize>i << 2))));
}

export function logArray(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) v128.store(dst + (<usize>i << 2), logv(v128.load(src + (<usize>i << 2))));
}
