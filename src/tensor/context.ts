/**
 * @file The state an op reads besides its inputs, held by one object, not by the module: where
 * its buffers come from (a step's BufferPool, or ordinary arrays), where its backward pass goes
 * (the step's Tape, or none), and who records its JavaScript passes for step replay (the
 * recorder, or none).
 *
 * A tensor carries the context it was made in, as an autograd graph carries its tape: an op
 * takes its context from its inputs (op.ts), so the ops keep their signatures, and the few
 * places that make tensors from nothing (a step's input, an initial state, a loss) are given it.
 * Parameters, and tensors made outside a step, carry `OpContext.plain`: ordinary arrays, no tape,
 * no recorder.
 */
import type { BufferPool } from './pool.js';
import type { Tape } from './tape.js';
import type { Buf, DType, ReplayJs } from './tensor.js';

/** Where a recorded step's JavaScript work goes (src/train/replay.ts). @param scratch as OpContext.replayJs */
export type JsRecorder = (fn: ReplayJs, scratch: boolean) => void;

export class OpContext {
  /** No pool, no tape, no recorder: parameters and tensors made outside a step. */
  static readonly plain = new OpContext(null, null, null);

  /**
   * @param pool where the step's buffers come from (null: ordinary arrays)
   * @param tape where its ops record their backward passes (null: none, a forward pass)
   * @param recorder where its JavaScript passes go while the step is recorded for replay
   */
  constructor(readonly pool: BufferPool | null, readonly tape: Tape | null, readonly recorder: JsRecorder | null) {}

  /** A new step of `pool` (BufferPool.begin: its last step's buffers are idle again) in a context of its own. */
  static step(pool: BufferPool, tape: Tape | null = null, recorder: JsRecorder | null = null): OpContext {
    pool.begin();
    return new OpContext(pool, tape, recorder);
  }

  /** A zeroed buffer of `n` elements of the given dtype (from the pool, if any). */
  alloc(dtype: DType, n: number): Buf {
    if (this.pool !== null) return this.pool.take(dtype, n, true);
    return dtype === 'f64' ? new Float64Array(n) : new Float32Array(n);
  }

  /**
   * Like alloc, but a pooled buffer keeps whatever the last step left in it: only for an output
   * the caller then overwrites entirely (it saves zeroing a large buffer every step).
   */
  allocOverwritten(dtype: DType, n: number): Buf {
    if (this.pool !== null) return this.pool.take(dtype, n, false);
    return dtype === 'f64' ? new Float64Array(n) : new Float32Array(n);
  }

  /** True while the step is recorded for replay (replayJs then keeps what it is given). */
  get recording(): boolean {
    return this.recorder !== null;
  }

  /**
   * While the step is recorded for replay, records `fn`: JavaScript work on the step's buffers
   * that the caller has just done (with this step's batch). Otherwise it does nothing.
   * @param scratch true when `fn` writes only a kernel call's scratch block (kernels/memory.ts
   * `table`): a replay then skips it when the scratch still holds what it wrote
   */
  replayJs(fn: ReplayJs, scratch = false): void {
    if (this.recorder !== null) this.recorder(fn, scratch);
  }
}
