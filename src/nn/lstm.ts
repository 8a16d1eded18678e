/**
 * @file One LSTM cell step, fused, with its hand-derived backward pass.
 * PyTorch layout and gate order (i, f, g, o) with two bias vectors:
 *   gates = x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh                       [B, 4H]
 *   i = σ(gates_i), f = σ(gates_f), g = tanh(gates_g), o = σ(gates_o)
 *   c' = f∘c + i∘g,  h' = o∘tanh(c')
 */
import { sigmoidScalar } from '../tensor/ops.js';
import { expectShape, type Buf, type DType, type Tensor } from '../tensor/tensor.js';
import { op, scratchLike } from '../tensor/op.js';
import type { Rng } from '../tensor/random.js';
import { deferWeightGrad, matmulXWtBackwardTs, matmulXWtTs, uniformParam } from './linear.js';

type F = Float32Array;

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
  const [hOut, cOut] = op<LstmSaved>({
    inputs: [x, h, c, p.weightIh, p.weightHh, p.biasIh, p.biasHh],
    outputs: [[B, H], [B, H]],
    save: (dt, _k, ctx) => ({
      act: ctx.allocOverwritten(dt, B * G), // the activated gates i, f, g, o [B, 4H]
      tc: ctx.allocOverwritten(dt, B * H), // tanh(c')
    }),
    forward: ([xd, hd, cd, wIh, wHh, bIh, bHh], [hn, cn], { act, tc }) => {
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < G; j++) act[b * G + j] = bIh![j]! + bHh![j]!;
      }
      matmulXWtTs(xd!, wIh!, act, B, X, G);
      matmulXWtTs(hd!, wHh!, act, B, H, G);
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
          const cv = fg * cd![b * H + j]! + ig * gg;
          cn![b * H + j] = cv;
          const t = Math.tanh(cv);
          tc[b * H + j] = t;
          hn![b * H + j] = og * t;
        }
      }
    },
    backward: ([xd, hd, cd, wIh, wHh], _y, { act, tc }, [gh, gc], [gx, ghPrev, gcPrev, gwIh, gwHh, gbIh, gbHh], ctx) => {
      // dgates: gradient w.r.t. the pre-activation gates [B, 4H]
      const dg = scratchLike(ctx, act, B * G);
      for (let b = 0; b < B; b++) {
        const a = b * G;
        for (let j = 0; j < H; j++) {
          const ig = act[a + j]!, fg = act[a + H + j]!, gg = act[a + 2 * H + j]!, og = act[a + 3 * H + j]!;
          const t = tc[b * H + j]!;
          const dh = gh ? gh[b * H + j]! : 0;
          // dL/dc' collects the direct path and the path through h' = o∘tanh(c')
          const dc = (gc ? gc[b * H + j]! : 0) + dh * og * (1 - t * t);
          dg[a + j] = dc * gg * ig * (1 - ig);
          dg[a + H + j] = dc * cd![b * H + j]! * fg * (1 - fg);
          dg[a + 2 * H + j] = dc * ig * (1 - gg * gg);
          dg[a + 3 * H + j] = dh * t * og * (1 - og);
          if (gcPrev) gcPrev[b * H + j]! += dc * fg;
        }
      }
      matmulXWtBackwardTs(xd!, wIh!, dg, gx!, gwIh!, B, X, G);
      matmulXWtBackwardTs(hd!, wHh!, dg, ghPrev!, gwHh!, B, H, G);
      for (const gb of [gbIh, gbHh]) {
        if (gb) for (let b = 0; b < B; b++) for (let j = 0; j < G; j++) gb[j]! += dg[b * G + j]!;
      }
    },
    kernel: {
      // the fused WASM kernels (src/kernels/assembly/lstm.ts): one call forward, one backward
      forward: ([xd, hd, cd, wIh, wHh, bIh, bHh], [hn, cn], saved, ctx) => {
        const heap = ctx.heap;
        if (heap === null) return false;
        const { act, tc } = saved as LstmSaved<F>;
        heap.k.lstmForward(
          heap.in(xd!), heap.in(hd!), heap.in(wIh!), heap.in(wHh!), heap.in(bIh!), heap.in(bHh!),
          heap.out(act), heap.in(cd!), heap.out(cn!), heap.out(hn!), heap.out(tc), B, X, H,
        );
        heap.done();
        return true;
      },
      backward: ([xd, hd, cd, wIh, wHh], _y, saved, [gh, gc], [gx, ghPrev, gcPrev, gwIh, gwHh, gbIh, gbHh], _fresh, ctx) => {
        const heap = ctx.heap;
        if (heap === null) return false;
        const { act, tc } = saved as LstmSaved<F>;
        // 0 = not wanted (see the kernel)
        const g = (b: F | null): number => (b === null ? 0 : heap.inout(b));
        // the gates' gradients (written by the kernel) stay for the weights' products, which wait for
        // the end of the backward pass to run over all time steps at once (deferWeightGrad)
        const dg = ctx.allocOverwritten('f32', B * G) as F;
        const ih = gwIh !== null && deferWeightGrad(ctx.tape, heap, xd!, dg, gwIh!, B, X, G);
        const hh = gwHh !== null && deferWeightGrad(ctx.tape, heap, hd!, dg, gwHh!, B, H, G);
        heap.k.lstmBackward(
          heap.in(xd!), heap.in(hd!), heap.in(wIh!), heap.in(wHh!), heap.in(act), heap.in(cd!), heap.in(tc),
          gh === null ? 0 : heap.in(gh!), gc === null ? 0 : heap.in(gc!), heap.out(dg),
          g(gx!), g(ghPrev!), g(gcPrev!), ih ? 0 : g(gwIh!), hh ? 0 : g(gwHh!), g(gbIh!), g(gbHh!), B, X, H,
        );
        heap.done();
        return true;
      },
    },
  });
  return { h: hOut!, c: cOut! };
}

/** What the forward pass saves: the activated gates [B, 4H] and tanh(c') [B, H]. */
interface LstmSaved<T = Buf> {
  act: T; tc: T;
}
