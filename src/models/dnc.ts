/**
 * @file Differentiable Neural Computer (DNC paper, Graves et al. 2016): the controller of the NTM,
 * write heads that allocate free slots by usage or address by content, read heads that
 * follow the temporal links or address by content (DynamicAccessor), and the output layer.
 *
 * One step, in DeepMind's order:
 *   z_t = [x_t, r_{t−1}]  →  (h_t, c_t) = controller(z_t, h_{t−1}, c_{t−1})
 *   u_t   from u_{t−1}, w^w_{t−1}, the free gates and w^r_{t−1}          memory/usage.ts
 *   a_h   per write head, from u_t                                       memory/allocation.ts
 *   w^w_h = g_w·(g_a·a_h + (1 − g_a)·c^w_h),  c^w_h on M_{t−1}           memory/write-weighting.ts
 *   M_t   = M_{t−1} ∘ Π_h (1 − w^w_h e_hᵀ) + Σ_h w^w_h v_hᵀ              memory/write.ts
 *   L_h, p_h per write head                                              memory/linkage.ts
 *   w^r_i = mix of c^r_i on M_t, f_{i,h} = L_h w^r_{t−1,i}, b_{i,h} = L_hᵀ w^r_{t−1,i}
 *   r_i   = w^r_i · M_t
 *   y_t   = clamp(Linear([h_t, r_t]), ±clip)     (logits; σ is applied by the loss and by users)
 *
 * Head parameter activations (one Linear from h_t per part, `heads.write.{i}.{part}`):
 *   key k: identity, as the DNC paper and DeepMind's code. The reference (pytorch-dnc) puts
 *          its DNC keys through tanh, as its NTM's (and as this project's NTM); a DNC key is
 *          left unsquashed here because cosine similarity sees only its direction, which tanh
 *          would confine to a cube. Of these activations, the only one unlike the reference's.
 *   strength β: softplus (β ≥ 0), as the reference, DeepMind's code (`CosineWeights` default)
 *          and this project's NTM; the paper has oneplus (β ≥ 1).
 *   erase e, allocation gate g_a, write gate g_w, free gate f: sigmoid, as the reference.
 *   write vector v: tanh, as the reference (the paper and DeepMind's code leave it linear).
 *   read mode π: softmax over 2·Wh + 1 modes [backward × Wh, forward × Wh, content], the
 *          reference's order.
 */
import type { ModelConfig } from '../config/schema.js';
import { writeAllocations } from '../memory/allocation.js';
import { contentWeights } from '../memory/content.js';
import { updateLinkage } from '../memory/linkage.js';
import { readMemory } from '../memory/read.js';
import { readWeighting } from '../memory/read-weighting.js';
import { followLinksHeads } from '../memory/temporal-read.js';
import { updateUsage, USAGE_STOPS_WRITE_GRADIENT } from '../memory/usage.js';
import { writeMemory } from '../memory/write.js';
import { writeWeighting } from '../memory/write-weighting.js';
import { clamp } from '../tensor/ops.js';
import { concat } from '../nn/columns.js';
import type { Rng } from '../tensor/random.js';
import { Tensor, type DType } from '../tensor/tensor.js';
import type { OpContext } from '../tensor/context.js';
import { controllerStep, initController } from './controller.js';
import type { MemoryModel, StepObserver } from './model.js';
import { initialAccessState, runSequence, type AccessState } from './recurrent.js';
import { addLinear, applyLinear, HeadLayout, headOutputsAll, initHead, outputsOf, type HeadSpec, type ParamStore, type PartSpec } from './params.js';

type DncWriteParts = ReturnType<typeof dncWriteParts>;
type DncReadParts = ReturnType<typeof dncReadParts>;

export function dncWriteParts(W: number) {
  return [
    { name: 'key', size: W, activation: 'identity' }, // k
    { name: 'beta', size: 1, activation: 'softplus' }, // β ≥ 0
    { name: 'erase', size: W, activation: 'sigmoid' }, // e ∈ (0, 1)
    { name: 'vector', size: W, activation: 'tanh' }, // v, the write vector
    { name: 'allocGate', size: 1, activation: 'sigmoid' }, // g_a ∈ (0, 1)
    { name: 'writeGate', size: 1, activation: 'sigmoid' }, // g_w ∈ (0, 1)
  ] as const satisfies readonly PartSpec[];
}

export function dncReadParts(W: number, Wh: number) {
  return [
    { name: 'key', size: W, activation: 'identity' }, // k
    { name: 'beta', size: 1, activation: 'softplus' }, // β ≥ 0
    { name: 'free', size: 1, activation: 'sigmoid' }, // f ∈ (0, 1)
    { name: 'mode', size: 2 * Wh + 1, activation: 'softmax' }, // π
  ] as const satisfies readonly PartSpec[];
}

export interface DncOptions {
  /** Stop the write weights' gradient in the usage update (DeepMind); false only for gradient checks. */
  readonly stopWriteGradientInUsage?: boolean;
}

/** Recurrent state, fresh for every sequence. */
export interface DncState extends AccessState {
  readonly usage: Tensor; // u [B, N]
  readonly links: readonly Tensor[]; // L per write head [B, N, N]
  readonly precedences: readonly Tensor[]; // p per write head [B, N]
}

export class Dnc implements MemoryModel {
  readonly params: ParamStore = new Map();
  private readonly dtype: DType;
  /** write heads, then read heads (their parameters come from h_t in one product, see headOutputsAll) */
  readonly heads: HeadLayout;
  private readonly writeParts: DncWriteParts;
  private readonly readParts: DncReadParts;
  private readonly stopWriteGradient: boolean;

  constructor(
    readonly config: ModelConfig, readonly inputSize: number, readonly outputSize: number, rng: Rng,
    dtype: DType = 'f32', options: DncOptions = {},
  ) {
    const { hiddenSize: H, wordSize: W, readHeads: R, writeHeads: Wh } = config;
    this.dtype = dtype;
    this.stopWriteGradient = options.stopWriteGradientInUsage ?? USAGE_STOPS_WRITE_GRADIENT;
    initController(this.params, config.controller, inputSize + R * W, H, rng, dtype);
    this.writeParts = dncWriteParts(W);
    this.readParts = dncReadParts(W, Wh);
    for (let i = 0; i < Wh; i++) initHead(this.params, `heads.write.${i}`, this.writeParts, H, rng, dtype);
    for (let i = 0; i < R; i++) initHead(this.params, `heads.read.${i}`, this.readParts, H, rng, dtype);
    addLinear(this.params, 'output', H + R * W, outputSize, rng, dtype);
    this.heads = new HeadLayout([
      ...Array.from({ length: Wh }, (_, i) => ({ prefix: `heads.write.${i}`, parts: this.writeParts })),
      ...Array.from({ length: R }, (_, i) => ({ prefix: `heads.read.${i}`, parts: this.readParts })),
    ]);
  }

  initialState(ctx: OpContext, B: number): DncState {
    const { memorySlots: N, writeHeads: Wh } = this.config;
    const dt = this.dtype;
    return {
      ...initialAccessState(ctx, this.config, B, dt),
      usage: Tensor.zeros([B, N], dt, false, ctx),
      links: Array.from({ length: Wh }, () => Tensor.zeros([B, N, N], dt, false, ctx)),
      precedences: Array.from({ length: Wh }, () => Tensor.zeros([B, N], dt, false, ctx)),
    };
  }

  /** @param x x_t [B, X] @returns the next state and the logits [B, Y] */
  step(state: DncState, x: Tensor, t = 0, observer?: StepObserver): { state: DncState; logits: Tensor } {
    const cfg = this.config;
    const Wh = cfg.writeHeads;
    const ctl = controllerStep(this.params, cfg.controller, concat([x, ...state.reads]), state.h, state.c, cfg.clip);
    // every head's parameters from h_t in one product
    const parts = headOutputsAll(this.params, this.heads, ctl.h);
    const wp = parts.slice(0, Wh).map((p) => outputsOf(this.writeParts, p));
    const rp = parts.slice(Wh).map((p) => outputsOf(this.readParts, p));

    // 1–2. usage, then the allocation of every write head from it
    const usage = updateUsage(
      state.usage, state.writeWeights, rp.map((p) => p.free), state.readWeights,
      { stopWriteGradient: this.stopWriteGradient },
    );
    const allocations = writeAllocations(usage, wp.map((p) => ({ allocGate: p.allocGate, writeGate: p.writeGate })));
    // 3–4. write weighting (content on M_{t−1}) and the write
    const writeContent = wp.map((p) => contentWeights(state.memory, p.key, p.beta));
    const writeWeights = wp.map((p, h) => writeWeighting(allocations[h]!, writeContent[h]!, p.allocGate, p.writeGate));
    const memory = writeMemory(state.memory, wp.map((p, h) => ({ weights: writeWeights[h]!, erase: p.erase, add: p.vector })));
    // 5. temporal links (from the previous precedence), then the precedence
    const linkage = state.links.map((L, h) => updateLinkage(L, state.precedences[h]!, writeWeights[h]!));
    const links = linkage.map((l) => l.link);
    const precedences = linkage.map((l) => l.precedence);
    // 6. read weighting (content on M_t, links from w^r_{t−1}) and the reads;
    //    each link is followed from every read head's w^r_{t−1} in one op (one pass over L)
    const readContent = rp.map((p) => contentWeights(memory, p.key, p.beta));
    const directional = links.map((L) => followLinksHeads(L, state.readWeights));
    const readWeights = rp.map((p, i) =>
      readWeighting(readContent[i]!, directional.map((d) => d.backward[i]!), directional.map((d) => d.forward[i]!), p.mode));
    const reads = readWeights.map((w) => readMemory(memory, w));
    const logits = clamp(applyLinear(this.params, 'output', concat([ctl.h, ...reads])), -cfg.clip, cfg.clip);

    if (observer) {
      const signals: Record<string, Tensor> = { usage, link: stack(links), precedence: stack(precedences) };
      wp.forEach((parts, h) => {
        for (const [k, v] of Object.entries(parts)) signals[`write.${h}.${k}`] = v;
        signals[`write.${h}.content`] = writeContent[h]!;
        signals[`write.${h}.allocation`] = allocations[h]!;
      });
      rp.forEach((parts, i) => {
        for (const [k, v] of Object.entries(parts)) signals[`read.${i}.${k}`] = v;
        signals[`read.${i}.content`] = readContent[i]!;
      });
      observer(t, { memory, writeWeights, readWeights, signals });
    }
    return { state: { h: ctl.h, c: ctl.c, memory, reads, readWeights, writeWeights, usage, links, precedences }, logits };
  }

  forward(ctx: OpContext, input: Float32Array | Float64Array, T: number, B: number, observer?: StepObserver, rows?: ArrayLike<number>): Tensor[] {
    return runSequence('Dnc', (s, x, t, o) => this.step(s, x, t, o), this.initialState(ctx, B), ctx, input, T, B, this.inputSize, this.dtype, observer, rows);
  }
}

/**
 * Per-head tensors [B, ...rest] stacked as [B, heads, ...rest] (DeepMind's layout), a copy
 * for observers with no gradient.
 */
function stack(xs: readonly Tensor[]): Tensor {
  const [B, ...rest] = xs[0]!.shape;
  const k = xs[0]!.size / B!;
  const out = Tensor.zeros([B!, xs.length, ...rest], xs[0]!.dtype);
  xs.forEach((x, h) => {
    for (let b = 0; b < B!; b++) out.data.set(x.data.subarray(b * k, (b + 1) * k), (b * xs.length + h) * k);
  });
  return out;
}
