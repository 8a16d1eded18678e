/**
 * @file One LSTM cell step, fused, with its hand-derived backward pass.
 * PyTorch layout and gate order (i, f, g, o) with two bias vectors:
 *   gates = x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh                       [B, 4H]
 *   i = σ(gates_i), f = σ(gates_f), g = tanh(gates_g), o = σ(gates_o)
 *   c' = f∘c + i∘g,  h' = o∘tanh(c')
 */
import { sigmoidScalar } from '../tensor/ops.js';
import { alloc, allocOverwritten, expectShape, Tensor, tapeFor, type DType, type Tape } from '../tensor/tensor.js';
import type { Rng } from '../tensor/random.js';
import { deferWeightGrad, matmulXWt, matmulXWtBackward, uniformParam } from './linear.js';
import { activeHeap } from '../kernels/wasm.js';
import type { KernelHeap } from '../kernels/heap.js';

export interface LstmParams {
  readonly weightIh: Tensor; // [4H, X]
  readonly weightHh: Tensor; // [4H, H]
  readonly biasIh: Tensor; // [4H]
  readonly biasHh: Tensor; // [4H]
}

/** PyTorch's nn.LSTMCell default: every parameter U(−1/√H, 1/√H). */
export function initLstm(inputSize: number, hiddenSize: number, rng: Rng, dtype: DType): LstmParams {
  const k = 1 / Math.sqrt(hiddenSize);
  const G = 4 * hiddenSize;
  return {
    weightIh: uniformParam([G, inputSize], k, rng, dtype),
    weightHh: uniformParam([G, hiddenSize], k, rng, dtype),
    biasIh: uniformParam([G], k, rng, dtype),
    biasHh: uniformParam([G], k, rng, dtype),
  };
}

/**
 * @param x [B, X]  @param h [B, H]  @param c [B, H]
 * @returns h' [B, H] and c' [B, H]
 */
export function lstmCell(p: LstmParams, x: Tensor, h: Tensor, c: Tensor): { h: Tensor; c: Tensor } {
  const [G, X] = p.weightIh.shape as [number, number];
  const H = G / 4;
  const B = x.shape[0]!;
  expectShape('lstmCell', 'input', x, [B, X]);
  expectShape('lstmCell', 'hidden state', h, [B, H]);
  expectShape('lstmCell', 'cell state', c, [B, H]);
  const tape = tapeFor(x, h, c, p.weightIh, p.weightHh, p.biasIh, p.biasHh);
  const dt = x.dtype;
  const heap = activeHeap();
  const bufs = [x.data, h.data, c.data, p.weightIh.data, p.weightHh.data, p.biasIh.data, p.biasHh.data];
  if (heap !== null && bufs.every((d) => d instanceof Float32Array)) return lstmCellWasm(heap, p, x, h, c, B, X, H, tape);

  // act holds the activated gates i, f, g, o: [B, 4H]
  const act = alloc(dt, B * G);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < G; j++) act[b * G + j] = p.biasIh.data[j]! + p.biasHh.data[j]!;
  }
  matmulXWt(x.data, p.weightIh.data, act, B, X, G);
  matmulXWt(h.data, p.weightHh.data, act, B, H, G);
  const cn = alloc(dt, B * H);
  const hn = alloc(dt, B * H);
  const tc = alloc(dt, B * H); // tanh(c')
  for (let b = 0; b < B; b++) {
    const a = b * G;
    for (let j = 0; j < H; j++) {
      const ig = sigmoidScalar(act[a + j]!);
      const fg = sigmoidScalar(act[a + H + j]!);
      const gg = Math.tanh(act[a + 2 * H + j]!);
      const og = sigmoidScalar(act[a + 3 * H + j]!);
      act[a + j] = ig;
      act[a + H + j] = fg;
      act[a + 2 * H + j] = gg;
      act[a + 3 * H + j] = og;
      const cv = fg * c.data[b * H + j]! + ig * gg;
      cn[b * H + j] = cv;
      const t = Math.tanh(cv);
      tc[b * H + j] = t;
      hn[b * H + j] = og * t;
    }
  }
  const hOut = new Tensor(hn, [B, H], tape !== null);
  const cOut = new Tensor(cn, [B, H], tape !== null);
  if (tape) {
    tape.push(() => {
      const gh = hOut.grad;
      const gc = cOut.grad;
      if (gh === null && gc === null) return;
      // dgates: gradient w.r.t. the pre-activation gates [B, 4H]
      const dg = alloc(dt, B * G);
      const gcPrev = c.requiresGrad ? c.g() : null;
      for (let b = 0; b < B; b++) {
        const a = b * G;
        for (let j = 0; j < H; j++) {
          const ig = act[a + j]!, fg = act[a + H + j]!, gg = act[a + 2 * H + j]!, og = act[a + 3 * H + j]!;
          const t = tc[b * H + j]!;
          const dh = gh ? gh[b * H + j]! : 0;
          // dL/dc' collects the direct path and the path through h' = o∘tanh(c')
          const dc = (gc ? gc[b * H + j]! : 0) + dh * og * (1 - t * t);
          dg[a + j] = dc * gg * ig * (1 - ig);
          dg[a + H + j] = dc * c.data[b * H + j]! * fg * (1 - fg);
          dg[a + 2 * H + j] = dc * ig * (1 - gg * gg);
          dg[a + 3 * H + j] = dh * t * og * (1 - og);
          if (gcPrev) gcPrev[b * H + j]! += dc * fg;
        }
      }
      matmulXWtBackward(x.data, p.weightIh.data, dg, x.requiresGrad ? x.g() : null,
        p.weightIh.requiresGrad ? p.weightIh.g() : null, B, X, G);
      matmulXWtBackward(h.data, p.weightHh.data, dg, h.requiresGrad ? h.g() : null,
        p.weightHh.requiresGrad ? p.weightHh.g() : null, B, H, G);
      for (const bias of [p.biasIh, p.biasHh]) {
        if (!bias.requiresGrad) continue;
        const gb = bias.g();
        for (let b = 0; b < B; b++) for (let j = 0; j < G; j++) gb[j]! += dg[b * G + j]!;
      }
    });
  }
  return { h: hOut, c: cOut };
}

/** lstmCell on the fused WASM kernels (src/kernels/assembly/lstm.ts): one call forward, one backward. */
function lstmCellWasm(heap: KernelHeap, p: LstmParams, x: Tensor, h: Tensor, c: Tensor, B: number, X: number, H: number, tape: Tape | null): { h: Tensor; c: Tensor } {
  type F = Float32Array;
  const G = 4 * H;
  // all written in full by the kernel
  const act = allocOverwritten('f32', B * G) as F, cn = allocOverwritten('f32', B * H) as F;
  const hn = allocOverwritten('f32', B * H) as F, tc = allocOverwritten('f32', B * H) as F;
  const d = (t: Tensor): F => t.data as F;
  heap.k.lstmForward(
    heap.in(d(x)), heap.in(d(h)), heap.in(d(p.weightIh)), heap.in(d(p.weightHh)), heap.in(d(p.biasIh)), heap.in(d(p.biasHh)),
    heap.out(act), heap.in(d(c)), heap.out(cn), heap.out(hn), heap.out(tc), B, X, H,
  );
  heap.done();
  const hOut = new Tensor(hn, [B, H], tape !== null);
  const cOut = new Tensor(cn, [B, H], tape !== null);
  if (tape) {
    tape.push(() => {
      const gh = hOut.grad as F | null, gc = cOut.grad as F | null;
      if (gh === null && gc === null) return;
      // 0 = not wanted (see the kernel)
      const g = (t: Tensor): number => (t.requiresGrad ? heap.inout(t.g() as F) : 0);
      // the gates' gradients (written by the kernel) stay for the weights' products, which wait for
      // the end of the backward pass to run over all time steps at once (deferWeightGrad)
      const dg = allocOverwritten('f32', B * G) as F;
      const ih = p.weightIh.requiresGrad && deferWeightGrad(heap, d(x), dg, p.weightIh.g() as F, B, X, G);
      const hh = p.weightHh.requiresGrad && deferWeightGrad(heap, d(h), dg, p.weightHh.g() as F, B, H, G);
      heap.k.lstmBackward(
        heap.in(d(x)), heap.in(d(h)), heap.in(d(p.weightIh)), heap.in(d(p.weightHh)), heap.in(act), heap.in(d(c)), heap.in(tc),
        gh === null ? 0 : heap.in(gh), gc === null ? 0 : heap.in(gc), heap.out(dg),
        g(x), g(h), g(c), ih ? 0 : g(p.weightIh), hh ? 0 : g(p.weightHh), g(p.biasIh), g(p.biasHh), B, X, H,
      );
      heap.done();
    });
  }
  return { h: hOut, c: cOut };
}
