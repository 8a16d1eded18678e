/**
 * @file Running a model on your own input sequences: `runModel(model, sequences)` pads them
 * into one batch, runs it, and returns each sequence's outputs σ(y) and logits y, trimmed to
 * its length; with `{ states: true }` also every step's memory and head state.
 */
import type { MemoryModel, StepSnapshot } from '../models/model.js';
import { Tensor } from '../tensor/tensor.js';
import { OpContext } from '../tensor/context.js';

/** One sequence: T time steps, each X input values. */
export type InputSequence = readonly ArrayLike<number>[];

export interface RunModelOptions {
  /** also return every step's memory and head state */
  readonly states?: boolean;
}

export interface ModelOutputs {
  /** σ(y) per sequence, per step, per output channel: [B][T_b][Y], each in (0, 1) */
  readonly outputs: number[][][];
  /** the clamped logits y, same layout */
  readonly logits: number[][][];
  /**
   * With `states`: one snapshot per time step t < max T_b, each holding the whole batch
   * (`memory` [B, N, W], `readWeights[i]` [B, N], …; sample b is row b). Steps past a
   * sequence's length ran on zero input and belong to no output. Copies: safe to keep. Empty
   * for the LSTM baseline, which has no memory.
   */
  readonly states?: StepSnapshot[];
}

const copy = (t: Tensor): Tensor => new Tensor(t.data.slice(), t.shape);

/**
 * Runs `model` on a batch of sequences (of any lengths, padded with zeros at the end).
 * @param sequences B sequences of T_b steps × X values, X = model.inputSize
 */
export function runModel(model: MemoryModel, sequences: readonly InputSequence[], opts: RunModelOptions = {}): ModelOutputs {
  const X = model.inputSize, Y = model.outputSize, B = sequences.length;
  if (B === 0) throw new RangeError('runModel: no sequences given');
  const T = Math.max(...sequences.map((s) => s.length));
  const input = new Float32Array(T * B * X); // x [T, B, X]
  sequences.forEach((seq, b) => {
    seq.forEach((x, t) => {
      if (x.length !== X) throw new RangeError(`runModel: sequence ${b}, step ${t} has ${x.length} values; the model takes X = ${X}`);
      for (let j = 0; j < X; j++) input[(t * B + b) * X + j] = x[j]!;
    });
  });
  const states: StepSnapshot[] = [];
  const observer = opts.states
    ? (_t: number, s: StepSnapshot) => {
        const signals: Record<string, Tensor> = {};
        for (const [k, v] of Object.entries(s.signals)) signals[k] = copy(v);
        states.push({ memory: copy(s.memory), writeWeights: s.writeWeights.map(copy), readWeights: s.readWeights.map(copy), signals });
      }
    : undefined;
  const z = model.forward(OpContext.plain, input, T, B, observer); // T × [B, Y] (ordinary arrays, no tape)
  const logits = sequences.map((seq, b) => seq.map((_, t) => Array.from(z[t]!.data.subarray(b * Y, (b + 1) * Y))));
  const outputs = logits.map((seq) => seq.map((row) => row.map((v) => 1 / (1 + Math.exp(-v)))));
  return opts.states ? { outputs, logits, states } : { outputs, logits };
}
