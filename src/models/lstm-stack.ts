/**
 * @file The LSTM baseline (`model.type = lstm`): the memoryless model the NTM paper compares
 * every task against. L = `model.layers` LSTM layers, each `model.hiddenSize` wide, the first
 * reading the input and each other one the layer below it; the output layer reads the top
 * layer alone (a plain stack: no skip connections from the lower layers to the output).
 *
 * One step, k = 1..L:
 *   (h^k_t, c^k_t) = LSTM_k(h^{k−1}_t, h^k_{t−1}, c^k_{t−1}),  h^0_t = x_t,  h^k_0 = c^k_0 = 0
 *   h^k_t is clamped to ±clip as a controller output is (a no-op for clip ≥ 1: h ∈ [−1, 1])
 *   y_t = clamp(Linear(h^L_t), ±clip)     (logits; σ is applied by the loss and by users)
 *
 * Parameters, in PyTorch's names for the cells (nn.LSTM's per-layer tensors):
 * `lstm.{k}.weight_ih` [4H, in_k], `lstm.{k}.weight_hh` [4H, H], `lstm.{k}.bias_ih`,
 * `lstm.{k}.bias_hh` [4H] for k = 0..L−1 (in_0 = X, in_k = H), then `output.weight` [Y, H] and
 * `output.bias` [Y]. The memory and head keys of the config are ignored; the model has no
 * memory to show, so it calls no StepObserver.
 */
import type { ModelConfig } from '../config/schema.js';
import { initLstm, lstmCell } from '../nn/lstm.js';
import { clamp } from '../tensor/ops.js';
import type { Rng } from '../tensor/random.js';
import { Tensor, type DType } from '../tensor/tensor.js';
import type { OpContext } from '../tensor/context.js';
import { clampOutput } from './controller.js';
import type { MemoryModel, StepObserver } from './model.js';
import { addLinear, applyLinear, param, type ParamStore } from './params.js';
import { runSequence } from './recurrent.js';

/** Recurrent state, fresh for every sequence: every layer's h and c [B, H], bottom layer first. */
export interface LstmStackState {
  readonly h: readonly Tensor[];
  readonly c: readonly Tensor[];
}

/** The parameter names of layer k (0-based), in PyTorch's order. */
export function lstmLayerNames(k: number): { weightIh: string; weightHh: string; biasIh: string; biasHh: string } {
  return { weightIh: `lstm.${k}.weight_ih`, weightHh: `lstm.${k}.weight_hh`, biasIh: `lstm.${k}.bias_ih`, biasHh: `lstm.${k}.bias_hh` };
}

export class LstmStack implements MemoryModel {
  readonly params: ParamStore = new Map();
  private readonly dtype: DType;
  /** every layer's parameter names (looked up per step: adoptParams replaces the store's tensors) */
  private readonly layerNames: readonly ReturnType<typeof lstmLayerNames>[];

  constructor(readonly config: ModelConfig, readonly inputSize: number, readonly outputSize: number, rng: Rng, dtype: DType = 'f32') {
    const { hiddenSize: H, layers: L } = config;
    if (!(Number.isInteger(L) && L >= 1)) throw new Error(`LstmStack: model.layers must be a whole number ≥ 1, got ${L}`);
    this.dtype = dtype;
    this.layerNames = Array.from({ length: L }, (_, k) => lstmLayerNames(k));
    this.layerNames.forEach((names, k) => {
      const p = initLstm(k === 0 ? inputSize : H, H, rng, dtype);
      this.params.set(names.weightIh, p.weightIh);
      this.params.set(names.weightHh, p.weightHh);
      this.params.set(names.biasIh, p.biasIh);
      this.params.set(names.biasHh, p.biasHh);
    });
    addLinear(this.params, 'output', H, outputSize, rng, dtype);
  }

  /** h, c = 0 in every layer, made in `ctx`. */
  initialState(ctx: OpContext, B: number): LstmStackState {
    const H = this.config.hiddenSize, L = this.layerNames.length;
    return {
      h: Array.from({ length: L }, () => Tensor.zeros([B, H], this.dtype, false, ctx)),
      c: Array.from({ length: L }, () => Tensor.zeros([B, H], this.dtype, false, ctx)),
    };
  }

  /** @param x x_t [B, X] @returns the next state and the logits [B, Y] */
  step(state: LstmStackState, x: Tensor): { state: LstmStackState; logits: Tensor } {
    const clip = this.config.clip;
    const h: Tensor[] = [], c: Tensor[] = [];
    let below = x;
    for (let k = 0; k < this.layerNames.length; k++) {
      const n = this.layerNames[k]!;
      const next = lstmCell(
        { weightIh: param(this.params, n.weightIh), weightHh: param(this.params, n.weightHh), biasIh: param(this.params, n.biasIh), biasHh: param(this.params, n.biasHh) },
        below, state.h[k]!, state.c[k]!,
      );
      below = clampOutput(next.h, clip);
      h.push(below);
      c.push(next.c);
    }
    const logits = clamp(applyLinear(this.params, 'output', below), -clip, clip);
    return { state: { h, c }, logits };
  }

  /** The observer is never called: the model has no memory or heads to show. */
  forward(ctx: OpContext, input: Float32Array | Float64Array, T: number, B: number, _observer?: StepObserver, rows?: ArrayLike<number>): Tensor[] {
    return runSequence('LstmStack', (s, x) => this.step(s, x), this.initialState(ctx, B), ctx, input, T, B, this.inputSize, this.dtype, undefined, rows);
  }
}
