// @file DNC read weighting on WASM SIMD, forward and backward (twin: src/memory/read-weighting.ts).

import { f, fma, hsum, setf } from './common';

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
