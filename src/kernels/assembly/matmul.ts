// @file AssemblyScript → WebAssembly SIMD kernels for the linear layers (float32).
// Pointers are byte offsets into the instance's own memory; shapes as in src/nn/linear.ts:
// x [B, I], W [O, I], y [B, O]. Each kernel has a plain TypeScript twin in src/nn/linear.ts
// that the tests hold it to.

// y[b, o] += Σ_i x[b, i] · W[o, i]
export function matmulXWt(x: usize, w: usize, y: usize, B: i32, I: i32, O: i32): void {
  const I4 = I & ~3;
  const O4 = O & ~3;
  const rowW = <usize>I << 2;
  for (let b = 0; b < B; b++) {
    const xb = x + (<usize>(b * I) << 2);
    const yb = y + (<usize>(b * O) << 2);
    let o = 0;
    for (; o < O4; o += 4) {
      const w0 = w + (<usize>(o * I) << 2);
      const w1 = w0 + rowW, w2 = w1 + rowW, w3 = w2 + rowW;
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let i = 0;
      for (; i < I4; i += 4) {
        const off = <usize>i << 2;
        const xv = v128.load(xb + off);
        a0 = f32x4.add(a0, f32x4.mul(xv, v128.load(w0 + off)));
        a1 = f32x4.add(a1, f32x4.mul(xv, v128.load(w1 + off)));
        a2 = f32x4.add(a2, f32x4.mul(xv, v128.load(w2 + off)));
        a3 = f32x4.add(a3, f32x4.mul(xv, v128.load(w3 + off)));
      }
      let s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
      for (; i < I; i++) {
        const off = <usize>i << 2;
        const xi = load<f32>(xb + off);
        s0 += xi * load<f32>(w0 + off);
        s1 += xi * load<f32>(w1 + off);
        s2 += xi * load<f32>(w2 + off);
        s3 += xi * load<f32>(w3 + off);
      }
      const yo = yb + (<usize>o << 2);
      store<f32>(yo, load<f32>(yo) + s0);
      store<f32>(yo + 4, load<f32>(yo + 4) + s1);
      store<f32>(yo + 8, load<f32>(yo + 8) + s2);
      store<f32>(yo + 12, load<f32>(yo + 12) + s3);
    }
    for (; o < O; o++) {
      const wo = w + (<usize>(o * I) << 2);
      let acc = f32x4.splat(0);
      let i = 0;
      for (; i < I4; i += 4) {
        const off = <usize>i << 2;
        acc = f32x4.add(acc, f32x4.mul(v128.load(xb + off), v128.load(wo + off)));
      }
      let s = hsum(acc);
      for (; i < I; i++) s += load<f32>(xb + (<usize>i << 2)) * load<f32>(wo + (<usize>i << 2));
      const yo = yb + (<usize>o << 2);
      store<f32>(yo, load<f32>(yo) + s);
    }
  }
}

// gx[b, i] += Σ_o gy[b, o] · W[o, i]
export function matmulXWtBackwardX(w: usize, gy: usize, gx: usize, B: i32, I: i32, O: i32): void {
  const I4 = I & ~3;
  for (let b = 0; b < B; b++) {
    const gxb = gx + (<usize>(b * I) << 2);
    const gyb = gy + (<usize>(b * O) << 2);
    for (let o = 0; o < O; o++) {
      const g = load<f32>(gyb + (<usize>o << 2));
      if (g == 0) continue;
      const gv = f32x4.splat(g);
      const wo = w + (<usize>(o * I) << 2);
      let i = 0;
      for (; i < I4; i += 4) {
        const off = <usize>i << 2;
        v128.store(gxb + off, f32x4.add(v128.load(gxb + off), f32x4.mul(gv, v128.load(wo + off))));
      }
      for (; i < I; i++) {
        const off = <usize>i << 2;
        store<f32>(gxb + off, load<f32>(gxb + off) + g * load<f32>(wo + off));
      }
    }
  }
}

// gW[o, i] += Σ_b gy[b, o] · x[b, i]
export function matmulXWtBackwardW(x: usize, gy: usize, gw: usize, B: i32, I: i32, O: i32): void {
  const I4 = I & ~3;
  for (let o = 0; o < O; o++) {
    const gwo = gw + (<usize>(o * I) << 2);
    for (let b = 0; b < B; b++) {
      const g = load<f32>(gy + (<usize>(b * O + o) << 2));
      if (g == 0) continue;
      const gv = f32x4.splat(g);
      const xb = x + (<usize>(b * I) << 2);
      let i = 0;
      for (; i < I4; i += 4) {
        const off = <usize>i << 2;
        v128.store(gwo + off, f32x4.add(v128.load(gwo + off), f32x4.mul(gv, v128.load(xb + off))));
      }
      for (; i < I; i++) {
        const off = <usize>i << 2;
        store<f32>(gwo + off, load<f32>(gwo + off) + g * load<f32>(xb + off));
      }
    }
  }
}

// @ts-ignore: decorator
@inline
function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

// Zeroes `bytes` bytes at `p` (one memory.fill: V8's TypedArray.fill is several times slower on
// the shared memory the kernels use).
export function zeroBytes(p: usize, bytes: usize): void {
  memory.fill(p, 0, bytes);
}
