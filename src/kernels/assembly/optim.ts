// @file AssemblyScript → WebAssembly kernels for the optimiser updates (src/train/optim.ts is
// the TypeScript twin). The arithmetic is the twin's float32 arithmetic, operation for
// operation (four elements at a time in f32x4 lanes, whose operations round exactly as scalar
// float32 ones do, and as the twin's Math.fround of each float64 operation does), so both give
// the same bits.
//
// Each update can save the values it overwrites (undo pointers, 0: none), for a trainer to put
// back when the update is not finite, and returns 1 when every value it wrote is finite, else 0:
// one pass over the buffers instead of a copy, the update and a check (the old values are
// stored as they are loaded: a copy first read every buffer twice, 9 of 39 µs for 44,000
// parameters).

// @ts-ignore: decorator
@inline
function ld(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline
function st(p: usize, i: i32, v: f32): void {
  store<f32>(p + (<usize>i << 2), v);
}

// @ts-ignore: decorator
@inline
function ld4(p: usize, i: i32): v128 {
  return v128.load(p + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline
function st4(p: usize, i: i32, v: v128): void {
  v128.store(p + (<usize>i << 2), v);
}

// lanes where x is ±Inf or NaN (x − x is NaN there, 0 elsewhere)
// @ts-ignore: decorator
@inline
function bad4(x: v128): v128 {
  return f32x4.ne(f32x4.sub(x, x), f32x4.splat(0));
}

// Adam (PyTorch): m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g·g;  w ← w − stepSize·m / (√v / √bc2 + ε)
// The constants come rounded to float32 (the twin rounds them the same way). uw, um, uv: where
// the old w, m, v go first (all three, or 0).
export function adamStep(w: usize, g: usize, m: usize, v: usize, n: i32, beta1: f32, c1: f32, beta2: f32, c2: f32, stepSize: f32, sqrtBc2: f32, eps: f32,
  uw: usize, um: usize, uv: usize): i32 {
  const save = uw != 0;
  const b1 = f32x4.splat(beta1), c1v = f32x4.splat(c1), b2 = f32x4.splat(beta2), c2v = f32x4.splat(c2);
  const ss = f32x4.splat(stepSize), sb = f32x4.splat(sqrtBc2), ev = f32x4.splat(eps);
  let bad = f32x4.splat(0);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const gi = ld4(g, i), m0 = ld4(m, i), v0 = ld4(v, i), w0 = ld4(w, i);
    if (save) {
      st4(um, i, m0);
      st4(uv, i, v0);
      st4(uw, i, w0);
    }
    const mi = f32x4.add(f32x4.mul(b1, m0), f32x4.mul(c1v, gi));
    const vi = f32x4.add(f32x4.mul(b2, v0), f32x4.mul(f32x4.mul(c2v, gi), gi));
    const wi = f32x4.sub(w0, f32x4.div(f32x4.mul(ss, mi), f32x4.add(f32x4.div(f32x4.sqrt(vi), sb), ev)));
    st4(m, i, mi);
    st4(v, i, vi);
    st4(w, i, wi);
    bad = v128.or(bad, v128.or(bad4(wi), v128.or(bad4(mi), bad4(vi))));
  }
  let ok = !v128.any_true(bad);
  for (; i < n; i++) {
    const gi = ld(g, i);
    if (save) {
      st(um, i, ld(m, i));
      st(uv, i, ld(v, i));
      st(uw, i, ld(w, i));
    }
    const mi = beta1 * ld(m, i) + c1 * gi;
    const vi = beta2 * ld(v, i) + c2 * gi * gi;
    const wi = ld(w, i) - (stepSize * mi) / (Mathf.sqrt(vi) / sqrtBc2 + eps);
    st(m, i, mi);
    st(v, i, vi);
    st(w, i, wi);
    ok = ok && isFinite(wi) && isFinite(mi) && isFinite(vi);
  }
  return ok ? 1 : 0;
}

// RMSprop: sq ← α·sq + (1−α)·g·g;  u = g / (√sq + ε) (PyTorch) or g / √(sq + ε) (tf ≠ 0);
// with momentum μ > 0 (mom ≠ 0): b ← μ·b + u, w ← w − lr·b; else w ← w − lr·u.
// The constants come rounded to float32 (the twin rounds them the same way). uw, usq, umom:
// where the old w, sq and momentum go first (0: none; umom only with momentum).
export function rmspropStep(w: usize, g: usize, sq: usize, mom: usize, n: i32, alpha: f32, c: f32, eps: f32, lr: f32, momentum: f32, tf: i32,
  uw: usize, usq: usize, umom: usize): i32 {
  const save = uw != 0;
  const a = f32x4.splat(alpha), cv = f32x4.splat(c), ev = f32x4.splat(eps), lv = f32x4.splat(lr), mu = f32x4.splat(momentum);
  let bad = f32x4.splat(0);
  const n4 = n & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const gi = ld4(g, i), s0 = ld4(sq, i), w0 = ld4(w, i);
    if (save) {
      // the old values, saved in the same pass (a copy first was another read of both, 9 of 39 µs)
      st4(usq, i, s0);
      st4(uw, i, w0);
    }
    const s = f32x4.add(f32x4.mul(a, s0), f32x4.mul(f32x4.mul(cv, gi), gi));
    st4(sq, i, s);
    const u = f32x4.div(gi, tf != 0 ? f32x4.sqrt(f32x4.add(s, ev)) : f32x4.add(f32x4.sqrt(s), ev));
    let wi: v128;
    if (mom != 0) {
      const m0 = ld4(mom, i);
      if (save) st4(umom, i, m0);
      const b = f32x4.add(f32x4.mul(mu, m0), u);
      st4(mom, i, b);
      wi = f32x4.sub(w0, f32x4.mul(lv, b));
      bad = v128.or(bad, bad4(b));
    } else {
      wi = f32x4.sub(w0, f32x4.mul(lv, u));
    }
    st4(w, i, wi);
    bad = v128.or(bad, v128.or(bad4(wi), bad4(s)));
  }
  let ok = !v128.any_true(bad);
  for (; i < n; i++) {
    const gi = ld(g, i);
    if (save) {
      st(usq, i, ld(sq, i));
      st(uw, i, ld(w, i));
    }
    const s = alpha * ld(sq, i) + c * gi * gi;
    st(sq, i, s);
    const u = gi / (tf != 0 ? Mathf.sqrt(s + eps) : Mathf.sqrt(s) + eps);
    let wi: f32;
    if (mom != 0) {
      if (save) st(umom, i, ld(mom, i));
      const b = momentum * ld(mom, i) + u;
      st(mom, i, b);
      wi = ld(w, i) - lr * b;
      ok = ok && isFinite(b);
    } else {
      wi = ld(w, i) - lr * u;
    }
    st(w, i, wi);
    ok = ok && isFinite(wi) && isFinite(s);
  }
  return ok ? 1 : 0;
}
