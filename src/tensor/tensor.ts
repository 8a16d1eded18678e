/**
 * @file Tensor: a flat, row-major buffer with a shape and an optional gradient (the tape that
 * records each op's backward pass is tape.ts; where buffers come from, pool.ts).
 *
 * Every op allocates its output with the dtype of its inputs, so the same model code
 * runs in float32 (training) and float64 (finite-difference gradient checks).
 */
import { OpContext } from './context.js';

export type Buf = Float32Array | Float64Array;
export type DType = 'f32' | 'f64';

/**
 * Work done in JavaScript on a step's buffers (not by a kernel) that a replay of the step must
 * redo (src/train/replay.ts), given the batch of the replayed step and its loss normaliser (the
 * one number a step depends on besides its batch: 0 for a forward pass).
 */
export type ReplayJs = (batch: Batch, normaliser: number) => void;

/**
 * A batch of padded sequences, time-major: every buffer is [T, B, ...]. Defined here, where a
 * replayed step's JavaScript pieces take the step's batch (ReplayJs); tasks make them
 * (tasks/batch.ts re-exports it).
 */
export interface Batch {
  readonly T: number;
  readonly B: number;
  /** input width X and output width Y */
  readonly X: number;
  readonly Y: number;
  /** x [T, B, X] */
  readonly input: Float32Array;
  /** y [T, B, Y] */
  readonly target: Float32Array;
  /** 1 where the output is scored, 0 elsewhere and on padding: [T, B] */
  readonly mask: Float32Array;
  /** the length of each sample [B], in the task's unit (words, items, bits …) */
  readonly lengths: readonly number[];
  /** repeats per sample [B] (1 for tasks without repeats) */
  readonly repeats: readonly number[];
  /**
   * for tasks with a best possible predictor (dynamic-ngrams): its cost in bits, summed over the
   * batch's samples, to set beside the model's (MetricsAccumulator reports it per sequence)
   */
  readonly optimalBits?: number;
}

export function dtypeOf(b: Buf): DType {
  return b instanceof Float64Array ? 'f64' : 'f32';
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export class Tensor {
  /** dL/d(this), allocated on first use by a backward pass. */
  grad: Buf | null = null;

  constructor(
    readonly data: Buf,
    readonly shape: readonly number[],
    /** True for parameters and for every op output that depends on one while a tape records. */
    readonly requiresGrad = false,
    /**
     * The context the tensor was made in (its step's pool, tape and recorder), which the ops
     * on it take theirs from; plain for parameters. Reassigned only by `onTape`.
     */
    public ctx: OpContext = OpContext.plain,
  ) {
    if (sizeOf(shape) !== data.length) {
      throw new Error(`Tensor: shape [${shape.join(', ')}] needs ${sizeOf(shape)} elements, buffer has ${data.length}`);
    }
  }

  get dtype(): DType {
    return dtypeOf(this.data);
  }

  get size(): number {
    return this.data.length;
  }

  /** The gradient buffer, zero-filled on first call (from the tensor's context's pool). */
  g(): Buf {
    if (this.grad === null) this.grad = this.ctx.alloc(this.dtype, this.data.length);
    return this.grad;
  }

  /** Zeros, in `ctx` (default: plain, outside any step). */
  static zeros(shape: readonly number[], dtype: DType = 'f32', requiresGrad = false, ctx: OpContext = OpContext.plain): Tensor {
    return new Tensor(ctx.alloc(dtype, sizeOf(shape)), shape, requiresGrad, ctx);
  }

  static from(values: ArrayLike<number>, shape: readonly number[], dtype: DType = 'f32', requiresGrad = false, ctx: OpContext = OpContext.plain): Tensor {
    const data = ctx.alloc(dtype, values.length);
    data.set(values);
    return new Tensor(data, shape, requiresGrad, ctx);
  }

  /** `value` everywhere, in `ctx` (a recorded step's replay fills it again). */
  static full(shape: readonly number[], value: number, dtype: DType = 'f32', ctx: OpContext = OpContext.plain): Tensor {
    const t = Tensor.zeros(shape, dtype, false, ctx);
    const fill = (): void => void t.data.fill(value);
    fill();
    ctx.replayJs(fill);
    return t;
  }
}

/** Throws a shape error naming the op and both shapes. */
export function expectShape(op: string, what: string, t: Tensor, shape: readonly number[]): void {
  const ok = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
  if (!ok) throw new Error(`${op}: ${what} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
}
