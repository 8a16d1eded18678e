/**
 * @file Neural Turing Machine (NTM paper §3): a controller, any number of write
 * and read heads with content and location addressing (StaticAccessor), and the output layer.
 *
 * One step:
 *   z_t = [x_t, r_{t−1}]  →  (h_t, c_t) = controller(z_t, h_{t−1}, c_{t−1})
 *   write heads address M_{t−1}, write M_t; read heads address M_t, read r_t
 *   y_t = clamp(Linear([h_t, r_t]), ±clip)     (logits; σ is applied by the loss and by users)
 */
import type { ModelConfig } from '../config/schema.js';
import { contentWeights } from '../memory/content.js';
import { locationWeights } from '../memory/location.js';
import { readMemory } from '../memory/read.js';
import { writeMemory } from '../memory/write.js';
import { clamp } from '../tensor/ops.js';
import { concat } from '../nn/columns.js';
import type { Rng } from '../tensor/random.js';
import type { Tensor, DType } from '../tensor/tensor.js';
import type { OpContext } from '../tensor/context.js';
import { controllerStep, initController } from './controller.js';
import type { MemoryModel, StepObserver } from './model.js';
import { initialAccessState, runSequence, type AccessState } from './recurrent.js';
import { addLinear, applyLinear, HeadLayout, headOutputsAll, initHead, outputsOf, type HeadOutputs, type HeadSpec, type ParamStore, type PartSpec } from './params.js';

type NtmReadParts = ReturnType<typeof ntmReadParts>;
type NtmWriteParts = ReturnType<typeof ntmWriteParts>;

export function ntmReadParts(W: number, shiftRange: number) {
  return [
    { name: 'key', size: W, activation: 'tanh' }, // k
    { name: 'beta', size: 1, activation: 'softplus' }, // β ≥ 0
    { name: 'gate', size: 1, activation: 'sigmoid' }, // g ∈ (0, 1)
    { name: 'shift', size: 2 * shiftRange + 1, activation: 'softmax' }, // s over offsets −range..+range
    { name: 'gamma', size: 1, activation: 'oneplus' }, // γ ≥ 1
  ] as const satisfies readonly PartSpec[];
}

export function ntmWriteParts(W: number, shiftRange: number) {
  return [
    ...ntmReadParts(W, shiftRange),
    { name: 'erase', size: W, activation: 'sigmoid' }, // e ∈ (0, 1)
    { name: 'add', size: W, activation: 'tanh' }, // a
  ] as const satisfies readonly PartSpec[];
}

/** Recurrent state, fresh for every sequence: the NTM's is exactly the shared access state. */
export type NtmState = AccessState;

export class Ntm implements MemoryModel {
  readonly params: ParamStore = new Map();
  private readonly dtype: DType;
  /** write heads, then read heads (their parameters come from h_t in one product, see headOutputsAll) */
  readonly heads: HeadLayout;
  private readonly writeParts: NtmWriteParts;
  private readonly readParts: NtmReadParts;

  constructor(readonly config: ModelConfig, readonly inputSize: number, readonly outputSize: number, rng: Rng, dtype: DType = 'f32') {
    const { hiddenSize: H, wordSize: W, readHeads: R, writeHeads: Wh, shiftRange } = config;
    this.dtype = dtype;
    initController(this.params, config.controller, inputSize + R * W, H, rng, dtype);
    this.writeParts = ntmWriteParts(W, shiftRange);
    this.readParts = ntmReadParts(W, shiftRange);
    for (let i = 0; i < Wh; i++) initHead(this.params, `heads.write.${i}`, this.writeParts, H, rng, dtype);
    for (let i = 0; i < R; i++) initHead(this.params, `heads.read.${i}`, this.readParts, H, rng, dtype);
    addLinear(this.params, 'output', H + R * W, outputSize, rng, dtype);
    this.heads = new HeadLayout([
      ...Array.from({ length: Wh }, (_, i) => ({ prefix: `heads.write.${i}`, parts: this.writeParts })),
      ...Array.from({ length: R }, (_, i) => ({ prefix: `heads.read.${i}`, parts: this.readParts })),
    ]);
  }

  initialState(ctx: OpContext, B: number): NtmState {
    return initialAccessState(ctx, this.config, B, this.dtype);
  }

  /** @param x x_t [B, X] @returns the next state and the logits [B, Y] */
  step(state: NtmState, x: Tensor, t = 0, observer?: StepObserver): { state: NtmState; logits: Tensor } {
    const cfg = this.config;
    const ctl = controllerStep(this.params, cfg.controller, concat([x, ...state.reads]), state.h, state.c, cfg.clip);
    const signals: Record<string, Tensor> = {};
    const address = (prefix: string, memory: Tensor, previous: Tensor, parts: HeadOutputs<NtmReadParts>): Tensor => {
      const wc = contentWeights(memory, parts.key, parts.beta);
      const w = locationWeights(wc, previous, parts.gate, parts.shift, parts.gamma);
      if (observer) {
        for (const [k, v] of Object.entries(parts)) signals[`${prefix}.${k}`] = v;
        signals[`${prefix}.content`] = wc;
      }
      return w;
    };

    // every head's parameters from h_t in one product
    const Wh = state.writeWeights.length;
    const parts = headOutputsAll(this.params, this.heads, ctl.h);
    const writes = state.writeWeights.map((prev, i) => {
      const p = outputsOf(this.writeParts, parts[i]!);
      return { weights: address(`write.${i}`, state.memory, prev, p), erase: p.erase, add: p.add };
    });
    const memory = writeMemory(state.memory, writes);

    const readWeights = state.readWeights.map((prev, i) => address(`read.${i}`, memory, prev, outputsOf(this.readParts, parts[Wh + i]!)));
    const reads = readWeights.map((w) => readMemory(memory, w));
    const logits = clamp(applyLinear(this.params, 'output', concat([ctl.h, ...reads])), -cfg.clip, cfg.clip);
    const writeWeights = writes.map((w) => w.weights);
    observer?.(t, { memory, writeWeights, readWeights, signals });
    return { state: { h: ctl.h, c: ctl.c, memory, reads, readWeights, writeWeights }, logits };
  }

  forward(ctx: OpContext, input: Float32Array | Float64Array, T: number, B: number, observer?: StepObserver, rows?: ArrayLike<number>): Tensor[] {
    return runSequence('Ntm', (s, x, t, o) => this.step(s, x, t, o), this.initialState(ctx, B), ctx, input, T, B, this.inputSize, this.dtype, observer, rows);
  }
}
