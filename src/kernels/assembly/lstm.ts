// @file AssemblyScript → WebAssembly SIMD kernels for one LSTM cell step (float32), forward and
// backward, fused with the cell's two matrix products: the TypeScript twin is lstmCell in
// src/nn/lstm.ts (PyTorch layout, gate order i, f, g, o, two bias vectors), held to it by the tests.
// Pointers are byte offsets into the shared kernel heap; a pointer of 0 means "not wanted"
// (the heap's blocks start above the module's static data, so 0 is never a real buffer).
import { matmulXWt, matmulXWtBackwardW, matmulXWtBackwardX } from './matmul';
import { sigmoidv, tanhv } from './simd-math';
import { fma, ld, st } from './common';

// @ts-ignore: decorator
@inline
function sigmoid1(x: f32): f32 {
  return f32x4.extract_lane(sigmoidv(f32x4.splat(x)), 0);
}

// @ts-ignore: decorator
@inline
function tanh1(x: f32): f32 {
  return f32x4.extract_lane(tanhv(f32x4.splat(x)), 0);
}

// gates = x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh, then act = (σ(i), σ(f), tanh(g), σ(o)),
// c' = f∘c + i∘g, tc = tanh(c'), h' = o∘tc.
// x [B,X], h, c, cn, hn, tc [B,H], W_ih [4H,X], W_hh [4H,H], biases [4H], act [B,4H] (written).
export function lstmForward(x: usize, h: usize, wih: usize, whh: usize, bih: usize, bhh: usize,
  act: usize, c: usize, cn: usize, hn: usize, tc: usize, B: i32, X: i32, H: i32): void {
  const G = 4 * H;
  const G4 = G & ~3;
  for (let b = 0; b < B; b++) {
    const a = act + (<usize>(b * G) << 2);
    let j = 0;
    for (; j < G4; j += 4) st(a, j, f32x4.add(ld(bih, j), ld(bhh, j)));
    for (; j < G; j++) store<f32>(a + (<usize>j << 2), load<f32>(bih + (<usize>j << 2)) + load<f32>(bhh + (<usize>j << 2)));
  }
  matmulXWt(x, wih, act, B, X, G);
  matmulXWt(h, whh, act, B, H, G);
  const H4 = H & ~3;
  for (let b = 0; b < B; b++) {
    const a = act + (<usize>(b * G) << 2);
    const s = <usize>(b * H) << 2;
    let j = 0;
    for (; j < H4; j += 4) {
      const ig = sigmoidv(ld(a, j));
      const fg = sigmoidv(ld(a, H + j));
      const gg = tanhv(ld(a, 2 * H + j));
      const og = sigmoidv(ld(a, 3 * H + j));
      st(a, j, ig); st(a, H + j, fg); st(a, 2 * H + j, gg); st(a, 3 * H + j, og);
      const cv = fma(f32x4.mul(fg, ld(c + s, j)), ig, gg);
      const t = tanhv(cv);
      st(cn + s, j, cv);
      st(tc + s, j, t);
      st(hn + s, j, f32x4.mul(og, t));
    }
    for (; j < H; j++) {
      const o = <usize>j << 2;
      const ig = sigmoid1(load<f32>(a + o));
      const fg = sigmoid1(load<f32>(a + (<usize>H << 2) + o));
      const gg = tanh1(load<f32>(a + (<usize>(2 * H) << 2) + o));
      const og = sigmoid1(load<f32>(a + (<usize>(3 * H) << 2) + o));
      store<f32>(a + o, ig);
      store<f32>(a + (<usize>H << 2) + o, fg);
      store<f32>(a + (<usize>(2 * H) << 2) + o, gg);
      store<f32>(a + (<usize>(3 * H) << 2) + o, og);
      const cv = fg * load<f32>(c + s + o) + ig * gg;
      const t = tanh1(cv);
      store<f32>(cn + s + o, cv);
      store<f32>(tc + s + o, t);
      store<f32>(hn + s + o, og * t);
    }
  }
}

// The backward pass of lstmForward. gh, gc: the gradients of h' and c' (0: none). dg [B,4H] is
// scratch (the pre-activation gradients). Added into: gx [B,X], ghp, gcp [B,H] (the previous h
// and c), gwih, gwhh, gbih, gbhh; any of them 0 when not wanted.
export function lstmBackward(x: usize, h: usize, wih: usize, whh: usize, act: usize, c: usize, tc: usize,
  gh: usize, gc: usize, dg: usize, gx: usize, ghp: usize, gcp: usize,
  gwih: usize, gwhh: usize, gbih: usize, gbhh: usize, B: i32, X: i32, H: i32): void {
  const G = 4 * H;
  const H4 = H & ~3;
  const one = f32x4.splat(1);
  for (let b = 0; b < B; b++) {
    const a = act + (<usize>(b * G) << 2);
    const d = dg + (<usize>(b * G) << 2);
    const s = <usize>(b * H) << 2;
    let j = 0;
    for (; j < H4; j += 4) {
      const ig = ld(a, j), fg = ld(a, H + j), gg = ld(a, 2 * H + j), og = ld(a, 3 * H + j);
      const t = ld(tc + s, j);
      const dh = gh != 0 ? ld(gh + s, j) : f32x4.splat(0);
      // dL/dc' collects the direct path and the path through h' = o∘tanh(c')
      let dc = f32x4.mul(f32x4.mul(dh, og), f32x4.sub(one, f32x4.mul(t, t)));
      if (gc != 0) dc = f32x4.add(dc, ld(gc + s, j));
      st(d, j, f32x4.mul(f32x4.mul(dc, gg), f32x4.mul(ig, f32x4.sub(one, ig))));
      st(d, H + j, f32x4.mul(f32x4.mul(dc, ld(c + s, j)), f32x4.mul(fg, f32x4.sub(one, fg))));
      st(d, 2 * H + j, f32x4.mul(f32x4.mul(dc, ig), f32x4.sub(one, f32x4.mul(gg, gg))));
      st(d, 3 * H + j, f32x4.mul(f32x4.mul(dh, t), f32x4.mul(og, f32x4.sub(one, og))));
      if (gcp != 0) st(gcp + s, j, fma(ld(gcp + s, j), dc, fg));
    }
    for (; j < H; j++) {
      const o = <usize>j << 2;
      const ig = load<f32>(a + o), fg = load<f32>(a + (<usize>H << 2) + o);
      const gg = load<f32>(a + (<usize>(2 * H) << 2) + o), og = load<f32>(a + (<usize>(3 * H) << 2) + o);
      const t = load<f32>(tc + s + o);
      const dh: f32 = gh != 0 ? load<f32>(gh + s + o) : 0;
      const dc: f32 = (gc != 0 ? load<f32>(gc + s + o) : 0) + dh * og * (1 - t * t);
      store<f32>(d + o, dc * gg * ig * (1 - ig));
      store<f32>(d + (<usize>H << 2) + o, dc * load<f32>(c + s + o) * fg * (1 - fg));
      store<f32>(d + (<usize>(2 * H) << 2) + o, dc * ig * (1 - gg * gg));
      store<f32>(d + (<usize>(3 * H) << 2) + o, dh * t * og * (1 - og));
      if (gcp != 0) store<f32>(gcp + s + o, load<f32>(gcp + s + o) + dc * fg);
    }
  }
  if (gx != 0) matmulXWtBackwardX(wih, dg, gx, B, X, G);
  if (gwih != 0) matmulXWtBackwardW(x, dg, gwih, B, X, G);
  if (ghp != 0) matmulXWtBackwardX(whh, dg, ghp, B, H, G);
  if (gwhh != 0) matmulXWtBackwardW(h, dg, gwhh, B, H, G);
  const G4 = G & ~3;
  for (let k = 0; k < 2; k++) {
    const gb = k == 0 ? gbih : gbhh;
    if (gb == 0) continue;
    let j = 0;
    for (; j < G4; j += 4) {
      let acc = ld(gb, j);
      for (let b = 0; b < B; b++) acc = f32x4.add(acc, ld(dg, b * G + j));
      st(gb, j, acc);
    }
    for (; j < G; j++) {
      let acc = load<f32>(gb + (<usize>j << 2));
      for (let b = 0; b < B; b++) acc += load<f32>(dg + (<usize>(b * G + j) << 2));
      store<f32>(gb + (<usize>j << 2), acc);
    }
  }
}
