/**
 * @file What the trainer, checkpoints and the CLI know of a model: named parameters and a
 * forward pass over a padded batch. Observers see every step's memory and head states.
 */
import type { ModelConfig } from '../config/schema.js';
import type { Tensor } from '../tensor/tensor.js';
import type { OpContext } from '../tensor/context.js';
import type { ParamStore } from './params.js';

/** One step's memory and head state, for inspection; tensors are [B, ...] and not to be modified. */
export interface StepSnapshot {
  /** M_t [B, N, W] after this step's write */
  readonly memory: Tensor;
  /** w^w per write head [B, N] */
  readonly writeWeights: readonly Tensor[];
  /** w^r per read head [B, N] */
  readonly readWeights: readonly Tensor[];
  /** every head parameter by `write.0.gate`, `read.1.shift`, … and model-specific signals (`usage`, `link`) */
  readonly signals: Readonly<Record<string, Tensor>>;
}

/** Called once per time step by a model with memory; the LSTM baseline (no memory) never calls it. */
export type StepObserver = (t: number, snapshot: StepSnapshot) => void;

export interface MemoryModel {
  readonly config: ModelConfig;
  /** X */
  readonly inputSize: number;
  /** Y */
  readonly outputSize: number;
  readonly params: ParamStore;
  /**
   * @param ctx the step's context (its pool, tape and replay recorder: tensor/context.ts), which
   * the input and initial state are made in and every op of the pass takes its own from;
   * OpContext.plain outside a step
   * @param input x [T, B, X]
   * @param rows when given, step t runs only the batch's first rows[t] samples (nonincreasing, at
   * most B): a batch sorted longest first drops its samples as they finish (src/tasks/groups.ts)
   * @returns clamped logits per step, T tensors of [B, Y] ([rows[t], Y] with rows)
   */
  forward(ctx: OpContext, input: Float32Array | Float64Array, T: number, B: number, observer?: StepObserver, rows?: ArrayLike<number>): Tensor[];
}
