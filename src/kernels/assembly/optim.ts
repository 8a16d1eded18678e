// @file AssemblyScript → WebAssembly kernels for the optimiser updates (src/train/optim.ts is
// the TypeScript twin). The arithmetic is the twin's, operation for operation, in float64 with
// float32 stores, so both give the same bits.

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

// Adam (PyTorch): m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  w ← w − stepSize·m / (√v / √bc2 + ε)
export function adamStep(w: usize, g: usize, m: usize, v: usize, n: i32, beta1: f64, beta2: f64, stepSize: f64, sqrtBc2: f64, eps: f64): void {
  for (let i = 0; i < n; i++) {
    const gi = ld(g, i);
    st(m, i, beta1 * ld(m, i) + (1 - beta1) * gi);
    st(v, i, beta2 * ld(v, i) + (1 - beta2) * gi * gi);
    st(w, i, ld(w, i) - (stepSize * ld(m, i)) / (Math.sqrt(ld(v, i)) / sqrtBc2 + eps));
  }
}

// RMSprop: sq ← α·sq + (1−α)·g²;  u = g / (√sq + ε) (PyTorch) or g / √(sq + ε) (tf ≠ 0);
// with momentum μ > 0 (mom ≠ 0): b ← μ·b + u, w ← w − lr·b; else w ← w − lr·u.
export function rmspropStep(w: usize, g: usize, sq: usize, mom: usize, n: i32, alpha: f64, eps: f64, lr: f64, momentum: f64, tf: i32): void {
  for (let i = 0; i < n; i++) {
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
