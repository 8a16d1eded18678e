// @file DNC usage on WASM SIMD, forward and backward (twin: src/memory/usage.ts).

import { at, f, setf } from './common';

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
