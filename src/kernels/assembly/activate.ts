// @file AssemblyScript → WebAssembly SIMD kernels for splitActivate (src/nn/columns.ts, its
// TypeScript twin): the columns of x [B, K] split into consecutive parts, each through its own
// activation into its own output [B, k]. The heads' parameters of a time step come out this way.
// spec: 2·P i32 (kind, width) per part; outs, gouts: P pointers (a gouts entry of 0: no gradient).
import { expv, logv, sigmoidv, tanhv } from './simd-math';

// the kinds, numbered in ../constants.ts (src/kernels/activate.ts maps the names to them)
import {
  ACT_IDENTITY as IDENTITY, ACT_ONEPLUS as ONEPLUS, ACT_SIGMOID as SIGMOID, ACT_SOFTMAX as SOFTMAX, ACT_SOFTPLUS as SOFTPLUS, ACT_TANH as TANH,
} from '../constants';

// log(1 + e^x) = max(x, 0) + log1p(e^−|x|), log1p(u) = ln(1 + u)·u / ((1 + u) − 1): exact
// where 1 + u rounds to 1 (then u), and accurate for small u otherwise.
// @ts-ignore: decorator
@inline
function softplusv(x: v128): v128 {
  const u = expv(f32x4.neg(f32x4.abs(x)));
  const one = f32x4.splat(1);
  const w = f32x4.add(one, u);
  const d = f32x4.sub(w, one);
  const l = v128.bitselect(u, f32x4.mul(logv(w), f32x4.div(u, d)), f32x4.eq(d, f32x4.splat(0)));
  return f32x4.add(f32x4.pmax(x, f32x4.splat(0)), l);
}

// @ts-ignore: decorator
@inline
function act(kind: i32, x: v128): v128 {
  if (kind == SIGMOID) return sigmoidv(x);
  if (kind == TANH) return tanhv(x);
  if (kind == SOFTPLUS) return softplusv(x);
  if (kind == ONEPLUS) return f32x4.add(f32x4.splat(1), softplusv(x));
  return x;
}

// dL/dx from dL/dy for y = act(x) (not softmax)
// @ts-ignore: decorator
@inline
function actGrad(kind: i32, x: v128, y: v128, gy: v128): v128 {
  const one = f32x4.splat(1);
  if (kind == SIGMOID) return f32x4.mul(f32x4.mul(gy, y), f32x4.sub(one, y));
  if (kind == TANH) return f32x4.mul(gy, f32x4.sub(one, f32x4.mul(y, y)));
  if (kind == SOFTPLUS || kind == ONEPLUS) return f32x4.mul(gy, sigmoidv(x));
  return gy;
}

export function activateForward(x: usize, K: i32, B: i32, spec: usize, P: i32, outs: usize): void {
  let off = 0;
  for (let p = 0; p < P; p++) {
    const kind = load<i32>(spec + (<usize>p << 3));
    const k = load<i32>(spec + (<usize>p << 3), 4);
    const out = load<u32>(outs + (<usize>p << 2));
    const k4 = k & ~3;
    for (let b = 0; b < B; b++) {
      const xr = x + (<usize>(b * K + off) << 2);
      const yr = <usize>out + (<usize>(b * k) << 2);
      if (kind == SOFTMAX) {
        softmaxRow(xr, yr, k);
        continue;
      }
      let j = 0;
      for (; j < k4; j += 4) v128.store(yr + (<usize>j << 2), act(kind, v128.load(xr + (<usize>j << 2))));
      for (; j < k; j++) store<f32>(yr + (<usize>j << 2), f32x4.extract_lane(act(kind, v128.load32_splat(xr + (<usize>j << 2))), 0));
    }
    off += k;
  }
}

// y = e^(x − max) / Σ e^(x − max) over one row of k
function softmaxRow(xr: usize, yr: usize, k: i32): void {
  let m: f32 = -Infinity;
  for (let j = 0; j < k; j++) m = Mathf.max(m, load<f32>(xr + (<usize>j << 2)));
  const mv = f32x4.splat(m);
  const k4 = k & ~3;
  let sv = f32x4.splat(0);
  let j = 0;
  for (; j < k4; j += 4) {
    const e = expv(f32x4.sub(v128.load(xr + (<usize>j << 2)), mv));
    v128.store(yr + (<usize>j << 2), e);
    sv = f32x4.add(sv, e);
  }
  let s: f32 = f32x4.extract_lane(sv, 0) + f32x4.extract_lane(sv, 1) + f32x4.extract_lane(sv, 2) + f32x4.extract_lane(sv, 3);
  for (; j < k; j++) {
    const e = f32x4.extract_lane(expv(f32x4.splat(load<f32>(xr + (<usize>j << 2)) - m)), 0);
    store<f32>(yr + (<usize>j << 2), e);
    s += e;
  }
  for (j = 0; j < k; j++) store<f32>(yr + (<usize>j << 2), load<f32>(yr + (<usize>j << 2)) / s);
}

// Gradients of activateForward added to gx [B, K].
export function activateBackward(x: usize, K: i32, B: i32, spec: usize, P: i32, outs: usize, gouts: usize, gx: usize): void {
  let off = 0;
  for (let p = 0; p < P; p++) {
    const kind = load<i32>(spec + (<usize>p << 3));
    const k = load<i32>(spec + (<usize>p << 3), 4);
    const out = load<u32>(outs + (<usize>p << 2));
    const gout = load<u32>(gouts + (<usize>p << 2));
    if (gout != 0) {
      const k4 = k & ~3;
      for (let b = 0; b < B; b++) {
        const xr = x + (<usize>(b * K + off) << 2), gxr = gx + (<usize>(b * K + off) << 2);
        const yr = <usize>out + (<usize>(b * k) << 2), gyr = <usize>gout + (<usize>(b * k) << 2);
        if (kind == SOFTMAX) {
          let dot: f32 = 0;
          for (let j = 0; j < k; j++) dot += load<f32>(gyr + (<usize>j << 2)) * load<f32>(yr + (<usize>j << 2));
          for (let j = 0; j < k; j++) {
            const o = <usize>j << 2;
            store<f32>(gxr + o, load<f32>(gxr + o) + load<f32>(yr + o) * (load<f32>(gyr + o) - dot));
          }
          continue;
        }
        let j = 0;
        for (; j < k4; j += 4) {
          const o = <usize>j << 2;
          v128.store(gxr + o, f32x4.add(v128.load(gxr + o), actGrad(kind, v128.load(xr + o), v128.load(yr + o), v128.load(gyr + o))));
        }
        for (; j < k; j++) {
          const o = <usize>j << 2;
          const g = actGrad(kind, v128.load32_splat(xr + o), v128.load32_splat(yr + o), v128.load32_splat(gyr + o));
          store<f32>(gxr + o, load<f32>(gxr + o) + f32x4.extract_lane(g, 0));
        }
      }
    }
    off += k;
  }
}
