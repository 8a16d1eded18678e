// @file NTM location addressing (interpolate, circular shift, sharpen) fused on WASM SIMD,
// forward and backward (twin: src/memory/location.ts).

import { expv, logv } from './simd-math';
import { f, fma, hsum, setf } from './common';
import { WEIGHT_FLOOR as WEIGHT_FLOOR_F64 } from '../constants';

/** Below the smallest normal float32 a weight counts as 0 when sharpened (its power is ~0). */
const TINY: f32 = 1.17549435e-38;
/** A sharpened weight below this is 0 (constants.ts). */
const WEIGHT_FLOOR: f32 = <f32>WEIGHT_FLOOR_F64;


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
