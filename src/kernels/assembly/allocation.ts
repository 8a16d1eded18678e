// @file DNC allocation weights on WASM SIMD, forward and backward (twin: src/memory/allocation.ts).

import { f, setf } from './common';
import { ALLOCATION_EPS as ALLOCATION_EPS_F64 } from '../constants';

// ε in û = ε + (1 − ε)·u (constants.ts), in the float64 these kernels compute û in
const ALLOCATION_EPS: f64 = ALLOCATION_EPS_F64;

// DNC allocation weights of one write head (twin: allocationWeights in src/memory/allocation.ts):
//   û = ε + (1 − ε)·u;  φ = slots by û ascending, ties by lower index;  a[φ_j] = (1 − û[φ_j])·Π_{i<j} û[φ_i]
// u, hat, prefix, a [B,N] (f32); order [B,N] holds φ per row as i32. Saves û, φ and the prefix
// products (in sorted position) for backward. û, the products and a are computed in f64 and
// rounded where the twin rounds them, so the values and the order (ties included) are the twin's exactly.
export function allocationForward(u: usize, hat: usize, order: usize, prefix: usize, a: usize, B: i32, N: i32): void {
  for (let b = 0; b < B; b++) {
    const o = b * N;
    for (let n = 0; n < N; n++) setf(hat, o + n, <f32>(ALLOCATION_EPS + (1 - ALLOCATION_EPS) * <f64>f(u, o + n)));
    // stable insertion sort of the slot indices by û: a slot moves only past strictly larger values
    const ob = order + (<usize>o << 2);
    for (let n = 0; n < N; n++) {
      const v = f(hat, o + n);
      let j = n;
      while (j > 0 && f(hat, o + load<i32>(ob + (<usize>(j - 1) << 2))) > v) {
        store<i32>(ob + (<usize>j << 2), load<i32>(ob + (<usize>(j - 1) << 2)));
        j--;
      }
      store<i32>(ob + (<usize>j << 2), n);
    }
    let p: f64 = 1;
    for (let j = 0; j < N; j++) {
      const n = o + load<i32>(ob + (<usize>j << 2));
      const s = <f64>f(hat, n);
      setf(prefix, o + j, <f32>p);
      setf(a, n, <f32>((1 - s) * p));
      p *= s;
    }
  }
}

// Gradient of allocationForward for ga [B,N], added to gu [B,N] (the order held constant):
//   dL/dû[φ_k] = P_k·(Q_k − G_k),  Q_{k−1} = G_k(1 − û[φ_k]) + û[φ_k]·Q_k,  Q_{N−1} = 0
export function allocationBackward(hat: usize, order: usize, prefix: usize, ga: usize, gu: usize, B: i32, N: i32): void {
  for (let b = 0; b < B; b++) {
    const o = b * N;
    const ob = order + (<usize>o << 2);
    let q: f64 = 0;
    for (let k = N - 1; k >= 0; k--) {
      const n = o + load<i32>(ob + (<usize>k << 2));
      const s = <f64>f(hat, n), g = <f64>f(ga, n);
      setf(gu, n, <f32>(<f64>f(gu, n) + (1 - ALLOCATION_EPS) * <f64>f(prefix, o + k) * (q - g)));
      q = g * (1 - s) + s * q;
    }
  }
}
