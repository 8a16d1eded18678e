/**
 * @file The state an op reads besides its inputs, held by one object, not by the module: where
 * its buffers come from (a step's BufferPool, or ordinary arrays), where its backward pass goes
 * (the step's Tape, or none), who records its JavaScript passes for step replay (the
 * recorder, or none), and which kernels run it (the thread's kernel heap: the WebAssembly SIMD
 * kernels; or none: their TypeScript twins).
 *
 * A tensor carries the context it was made in, as an autograd graph carries its tape: an op
 * takes its context from its inputs (op.ts), so the ops keep their signatures, and the few
 * places that make tensors from nothing (a step's input, an initial state, a loss) are given it.
 * Parameters, and tensors made outside a step, carry `OpContext.plain`: ordinary arrays, no tape,
 * no recorder, and the process's default kernels.
 */
import type { BufferPool } from './pool.js';
import type { Tape } from './tape.js';
import type { Buf, DType, ReplayJs } from './tensor.js';

/** Where a recorded step's JavaScript work goes (src/train/replay.ts). @param scratch as OpContext.replayJs */
export type JsRecorder = (fn: ReplayJs, scratch: boolean) => void;

/**
 * The kernel heap an op's kernels run on. Empty here, as tensor/ knows nothing of the kernels:
 * kernels/heap.ts declares it a KernelHeap (declaration merging), so the kernels take `ctx.heap`
 * as it is.
 */
export interface OpHeap {}

/** `plain`'s heap: the process's default kernels at each op, whatever they are by then. */
const FOLLOW_DEFAULT: unique symbol = Symbol('the process default at each op');

export class OpContext {
  /** No pool, no tape, no recorder, the process's default kernels: parameters and tensors made outside a step. */
  static readonly plain = new OpContext(null, null, null, FOLLOW_DEFAULT);

  /**
   * The process's default kernels (its heap, or null for the TypeScript twins), for a context
   * made without a choice of its own: `plain`. Set by kernels/wasm.ts (setKernels: `engram bench
   * --kernels`); a step's context has its trainer's kernels instead.
   */
  static processHeap: () => OpHeap | null = () => null;

  private readonly fixedHeap: OpHeap | null | typeof FOLLOW_DEFAULT;

  /**
   * @param pool where the step's buffers come from (null: ordinary arrays)
   * @param tape where its ops record their backward passes (null: none, a forward pass)
   * @param recorder where its JavaScript passes go while the step is recorded for replay
   * @param heap the kernel heap its kernels run on (null: the TypeScript twins; not given: the
   * process's default kernels now, kept for the context's life, so a backward pass runs on the
   * kernels its forward pass did)
   */
  constructor(
    readonly pool: BufferPool | null, readonly tape: Tape | null, readonly recorder: JsRecorder | null,
    heap: OpHeap | null | typeof FOLLOW_DEFAULT = OpContext.processHeap(),
  ) {
    this.fixedHeap = heap;
  }

  /**
   * A new step of `pool` (BufferPool.begin: its last step's buffers are idle again) in a context
   * of its own, on `heap`'s kernels (the process's default kernels when not given, kept for the step).
   */
  static step(pool: BufferPool, tape: Tape | null = null, recorder: JsRecorder | null = null, heap: OpHeap | null = OpContext.processHeap()): OpContext {
    pool.begin();
    return new OpContext(pool, tape, recorder, heap);
  }

  /** The kernel heap its ops' kernels run on; null: the TypeScript twins run instead. */
  get heap(): OpHeap | null {
    const h = this.fixedHeap;
    return h !== FOLLOW_DEFAULT ? h : OpContext.processHeap();
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
