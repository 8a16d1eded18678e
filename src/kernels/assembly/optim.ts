// @file AssemblyScript → WebAssembly kernels for the optimiser updates (src/train/optim.ts is
// the TypeScript twin). The arithmetic is the twin's, operation for operation, in float64 with
// float32 stores (two elements at a time in f64x2 lanes, whose operations round exactly as
// scalar float64 ones do), so both give the same bits.

// @ts-ignore: decorator
@inline
function ld(p: usize, i: i32): f64 {
  return <f64>load<f32>(p + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline
function st(p: usize, i: i32, v: f64): void {
  store<f32>(p + (<usize>i << 2), <f32>v);
}

// two floats at p[i], p[i+1] as float64 lanes
// @ts-ignore: decorator
@inline
function ld2(p: usize, i: i32): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p + (<usize>i << 2)));
}

// rounds both lanes to float32 (to nearest, as a Float32Array store does) and stores them
// @ts-ignore: decorator
@inline
function st2(p: usize, i: i32, v: v128): void {
  v128.store64_lane(p + (<usize>i << 2), f32x4.demote_f64x2_zero(v), 0);
}

// Adam (PyTorch): m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  w ← w − stepSize·m / (√v / √bc2 + ε)
export function adamStep(w: usize, g: usize, m: usize, v: usize, n: i32, beta1: f64, beta2: f64, stepSize: f64, sqrtBc2: f64, eps: f64): void {
  const b1 = f64x2.splat(beta1), c1 = f64x2.splat(1 - beta1), b2 = f64x2.splat(beta2), c2 = f64x2.splat(1 - beta2);
  const ss = f64x2.splat(stepSize), sb = f64x2.splat(sqrtBc2), ev = f64x2.splat(eps);
  const n2 = n & ~1;
  let i = 0;
  for (; i < n2; i += 2) {
    const gi = ld2(g, i);
    st2(m, i, f64x2.add(f64x2.mul(b1, ld2(m, i)), f64x2.mul(c1, gi)));
    st2(v, i, f64x2.add(f64x2.mul(b2, ld2(v, i)), f64x2.mul(f64x2.mul(c2, gi), gi)));
    st2(w, i, f64x2.sub(ld2(w, i), f64x2.div(f64x2.mul(ss, ld2(m, i)), f64x2.add(f64x2.div(f64x2.sqrt(ld2(v, i)), sb), ev))));
  }
  for (; i < n; i++) {
    const gi = ld(g, i);
    st(m, i, beta1 * ld(m, i) + (1 - beta1) * gi);
    st(v, i, beta2 * ld(v, i) + (1 - beta2) * gi * gi);
    st(w, i, ld(w, i) - (stepSize * ld(m, i)) / (Math.sqrt(ld(v, i)) / sqrtBc2 + eps));
  }
}

// RMSprop: sq ← α·sq + (1−α)·g²;  u = g / (√sq + ε) (PyTorch) or g / √(sq + ε) (tf ≠ 0);
// with momentum μ > 0 (mom ≠ 0): b ← μ·b + u, w ← w − lr·b; else w ← w − lr·u.
export function rmspropStep(w: usize, g: usize, sq: usize, mom: usize, n: i32, alpha: f64, eps: f64, lr: f64, momentum: f64, tf: i32): void {
  const a = f64x2.splat(alpha), c = f64x2.splat(1 - alpha), ev = f64x2.splat(eps), lv = f64x2.splat(lr), mu = f64x2.splat(momentum);
  const n2 = n & ~1;
  let i = 0;
  for (; i < n2; i += 2) {
    const gi = ld2(g, i);
    st2(sq, i, f64x2.add(f64x2.mul(a, ld2(sq, i)), f64x2.mul(f64x2.mul(c, gi), gi)));
    const s = ld2(sq, i);
    const u = f64x2.div(gi, tf != 0 ? f64x2.sqrt(f64x2.add(s, ev)) : f64x2.add(f64x2.sqrt(s), ev));
    if (mom != 0) {
      st2(mom, i, f64x2.add(f64x2.mul(mu, ld2(mom, i)), u));
      st2(w, i, f64x2.sub(ld2(w, i), f64x2.mul(lv, ld2(mom, i))));
    } else {
      st2(w, i, f64x2.sub(ld2(w, i), f64x2.mul(lv, u)));
    }
  }
  for (; i < n; i++) {
    const gi = ld(g, i);
    st(sq, i, alpha * ld(sq, i) + (1 - alpha) * gi * gi);
    const u = gi / (tf != 0 ? Math.sqrt(ld(sq, i) + eps) : Math.sqrt(ld(sq, i)) + eps);
    if (mom != 0) {
      st(mom, i, momentum * ld(mom, i) + u);
      st(w, i, ld(w, i) - lr * ld(mom, i));
    } else {
      st(w, i, ld(w, i) - lr * u);
    }
  }
}
