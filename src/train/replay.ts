/**
 * @file Step replay: a training step's forward and backward passes, recorded once per batch
 * shape and then re-run as a flat list of kernel calls, without the model's JavaScript.
 *
 * A step on the WASM kernels is a fixed sequence of kernel calls on fixed buffers: the step's
 * buffers come from a BufferPool that hands the k-th buffer of a size to the k-th request for it
 * (stable assignment), the parameters and their gradients stay where they are, and the few pieces
 * of work done in JavaScript on step buffers (copying the input in, the loss and its gradient,
 * clamping, constants of the initial state) register themselves with their context's recorder
 * (OpContext.replayJs) as functions of
 * the batch. Recording one step of a shape (T, B, and the rows schedule when the batch drops its
 * finished samples: MemoryModel.forward) therefore gives a program that, run on another batch of
 * that shape, computes the same loss and adds the same gradients, bit for bit, with no
 * tape, no closures made and no tensors (on dnc-repeat-copy, batch 8 per thread, that JavaScript
 * was a third of the step).
 *
 * Nothing is trusted unchecked. A shape is recorded at its first step that makes no new buffers.
 * Its next step runs the ordinary way and then again by replay, from the same gradients and with
 * every pool buffer and scratch block first filled with NaN (so one the program reads but never
 * writes shows);
 * the program is used only if the results and every gradient match to the bit (and are finite:
 * NaN would match NaN), else that shape keeps the ordinary path. A program is dropped when
 * anything it relies on changes: the pool gives back a buffer it used (BufferPool.holds), a
 * parameter or gradient buffer is replaced, or the kernels are switched off. The loss normaliser
 * is not baked in: the recorded JavaScript is given it at each replay (the loss's two passes use it).
 * Whether a stream of steps is replayed at all is a setting of its StepContext (`replays`,
 * gradients.ts), which whoever makes it chooses (a Trainer: its `replay` option).
 * Evaluation's forward passes (no tape, normaliser 0) are recorded, checked and replayed the same
 * way, apart from training steps of the same shape.
 */
import type { MemoryModel } from '../models/model.js';
import type { Batch } from '../tasks/batch.js';
import type { KernelHeap } from '../kernels/heap.js';
import { Scratch, StepProgram } from './step-program.js';
import type { Buf } from '../tensor/tensor.js';
import type { JsRecorder } from '../tensor/context.js';
import { type BufferPool, type PoolUsage } from '../tensor/pool.js';

/**
 * A step the ordinary way (the model's code, the tape), as one step of the replay's pool, its
 * JavaScript passes sent to `recorder` (null: none; a recording passes the program's).
 */
export type Ordinary = (recorder: JsRecorder | null) => readonly Buf[];

/** One batch shape's program and what it was recorded on. */
interface Entry {
  /** the rows schedule it runs (MemoryModel.forward's rows; null: none), for its T time steps */
  rows: Int32Array | null;
  program: StepProgram;
  /** 'recorded': not yet checked against an ordinary step; 'checked': replayed from then on */
  state: 'recorded' | 'checked';
  /** StepReplay.clock when it last ran (the least recent goes when maxShapes are kept) */
  used: number;
  /** the step's results (the loss's buffer; a forward pass's logits), the same buffers every run */
  outputs: readonly Buf[];
  /** the pool's buffers the recorded step took (a replay counts as their use: BufferPool.replayed) */
  usage: PoolUsage;
}

/**
 * How many step shapes a pool keeps recorded at most; a new shape beyond that drops the one run
 * least recently. A task has a few lengths, but in length groups a shape is also its rows
 * schedule: ntm-copy on one thread, batch 16 in groups of 4, has ~90 (a recording there is
 * ~1,500 calls, under 0.1 MB); in groups of 1 it has thousands.
 */
export const MAX_SHAPES = 256;

/** What a pool's steps have recorded and replayed (for tests and benchmarks). */
export interface ReplayStats {
  recorded: number;
  checked: number;
  /** shapes whose program was unusable or did not match the ordinary step, and why */
  failed: string[];
  replayed: number;
  ordinary: number;
  /**
   * the kernel calls of the checked programs (each counted once) that replays make from lists in
   * one call from JavaScript (runCalls: StepProgram), and those they make from JavaScript one by one
   */
  listedCalls: number;
  unlistedCalls: number;
}

/**
 * The recorded steps of one model on one pool: run() records, checks or replays a step as its
 * shape's state says (accumulateGradients in gradients.ts, a training step; Trainer.evaluate, a
 * forward pass).
 */
export class StepReplay {
  /** by kind of step and shape (see run), then told apart by their rows schedules */
  private readonly entries = new Map<number, Entry[]>();
  private size = 0;
  /** counts the steps run through this replay's entries (recorded or replayed): Entry.used */
  private clock = 0;
  /** shapes that take the ordinary path for good (a failed recording or check), listed as entries are */
  private readonly refused = new Map<number, { rows: Int32Array | null }[]>();
  /** the parameters' value and gradient buffers the programs were recorded with */
  private buffers: Buf[];
  /** the recordings' scratch blocks */
  private readonly scratch: Scratch;
  readonly stats: ReplayStats = { recorded: 0, checked: 0, failed: [], replayed: 0, ordinary: 0, listedCalls: 0, unlistedCalls: 0 };

  constructor(readonly model: MemoryModel, private readonly pool: BufferPool, private readonly heap: KernelHeap, private readonly maxShapes = MAX_SHAPES) {
    this.buffers = this.paramBuffers();
    this.scratch = new Scratch(heap);
  }

  /**
   * A step on `batch`: what `ordinary` does (the model's code, the tape), by replay when it can.
   * @param normaliser the loss normaliser (0 for a forward pass), which the step's JavaScript is given
   * @param ordinary the step the ordinary way, as a step of `pool` whose context has the recorder
   * it is given (null: not recorded); returns its result buffers
   * @param rows the rows schedule `ordinary` runs (MemoryModel.forward's), part of the shape
   * @returns the result buffers (valid until the pool's next step)
   */
  run(batch: Batch, normaliser: number, ordinary: Ordinary, rows: ArrayLike<number> | null = null): readonly Buf[] {
    if (!this.sameParams()) {
      // the parameters moved (released from the heap, or replaced): record on the new ones
      this.dropAll();
      this.refused.clear();
      this.buffers = this.paramBuffers();
    }
    // a shape and a kind of step (a forward pass has normaliser 0, a training step's is > 0)
    const key = (batch.T * 8192 + batch.B) * 2 + (normaliser === 0 ? 1 : 0);
    const T = batch.T;
    if (findRows(this.refused.get(key), rows, T) !== undefined) return this.ordinaryStep(ordinary);
    let e = findRows(this.entries.get(key), rows, T);
    if (e !== undefined && !this.pool.holds(e.usage)) {
      // the pool gave back a buffer the recording used: record again
      this.remove(key, e);
      e = undefined;
    }
    if (e === undefined) {
      if (this.size >= this.maxShapes) this.dropLeastRecent();
      return this.record(key, rows === null ? null : Int32Array.from({ length: T }, (_, t) => rows[t]!), ordinary);
    }
    if (e.state === 'checked') {
      // (this counts the recording's buffers as used, so the pool gives back none of them now)
      this.pool.replayed(e.usage);
      e.program.run(batch, normaliser);
      e.used = ++this.clock;
      this.stats.replayed++;
      return e.outputs;
    }
    return this.check(key, e, batch, normaliser, ordinary);
  }

  /** Drops every recording and gives back their scratch (the pool is being cleared, the model left the heap, ...). */
  dropAll(): void {
    for (const list of this.entries.values()) for (const e of list) e.program.dispose();
    this.entries.clear();
    this.size = 0;
    this.scratch.dispose();
  }

  /** Drops the recording that has gone longest without running, for a new shape. */
  private dropLeastRecent(): void {
    let oldest: Entry | null = null, at = 0;
    for (const [key, list] of this.entries) {
      for (const e of list) {
        if (oldest === null || e.used < oldest.used) {
          oldest = e;
          at = key;
        }
      }
    }
    if (oldest !== null) this.remove(at, oldest);
  }

  private remove(key: number, e: Entry): void {
    const list = this.entries.get(key)!;
    list.splice(list.indexOf(e), 1);
    if (list.length === 0) this.entries.delete(key);
    this.size--;
    e.program.dispose();
  }

  private ordinaryStep(ordinary: Ordinary): readonly Buf[] {
    this.stats.ordinary++;
    return ordinary(null);
  }

  /** Still the parameter and gradient buffers the programs were recorded with. */
  private sameParams(): boolean {
    if (this.model.params.size * 2 !== this.buffers.length) return false;
    let i = 0;
    for (const p of this.model.params.values()) {
      if (p.data !== this.buffers[i++] || (p.grad ?? p.data) !== this.buffers[i++]) return false;
    }
    return true;
  }

  private paramBuffers(): Buf[] {
    const out: Buf[] = [];
    for (const p of this.model.params.values()) out.push(p.data, p.grad ?? p.data);
    return out;
  }

  /** An ordinary step, recorded. */
  private record(key: number, rows: Int32Array | null, ordinary: Ordinary): readonly Buf[] {
    const program = new StepProgram(this.scratch);
    const fresh = this.pool.fresh;
    let outputs: readonly Buf[];
    this.heap.startRecording(program);
    try {
      outputs = ordinary((fn, scratch) => program.js(fn, scratch));
    } finally {
      this.heap.stopRecording();
    }
    const usage = this.pool.usage();
    program.seal();
    this.stats.ordinary++;
    // every buffer must be the heap's own float32: a step with others is not recorded
    const onHeap = outputs.every((b) => this.heap.ptr(b) >= 0) && this.buffers.every((b) => this.heap.ptr(b) >= 0);
    if (program.failure !== null || !onHeap) {
      program.dispose();
      this.refuse(key, rows, program.failure ?? 'a buffer off the kernel heap');
    } else if (this.pool.fresh !== fresh) {
      // a step that made buffers is recorded again next time: the heap zeroed each buffer it
      // made, and those calls would be replayed every time for nothing
      program.dispose();
    } else {
      const list = this.entries.get(key);
      const e: Entry = { rows, program, state: 'recorded', used: ++this.clock, outputs: [...outputs], usage };
      if (list === undefined) this.entries.set(key, [e]);
      else list.push(e);
      this.size++;
      this.stats.recorded++;
    }
    return outputs;
  }

  /**
   * The step after a shape's recording: ordinary, then replayed from the same gradients on
   * NaN-filled step buffers; the program is kept if both give the same results and gradients to
   * the bit.
   */
  private check(key: number, e: Entry, batch: Batch, normaliser: number, ordinary: Ordinary): readonly Buf[] {
    const grads = this.buffers.filter((_, i) => i % 2 === 1);
    const before = grads.map((g) => g.slice());
    const outputs = ordinary(null);
    const expectedOut = outputs.map((b) => b.slice());
    const expected = grads.map((g) => g.slice());
    this.stats.ordinary++;
    if (!this.pool.holds(e.usage) || outputs.length !== e.outputs.length || outputs.some((b, i) => b !== e.outputs[i])) {
      // the ordinary step changed the pool or its buffers: record again next time
      this.remove(key, e);
      return outputs;
    }
    if (!outputs.every(allFinite) || !expected.every(allFinite)) {
      // NaN in the ordinary step's results would hide NaN from a read the replay never wrote:
      // no verdict from this step (the trainer skips it anyway); the next one of the shape checks
      return outputs;
    }
    grads.forEach((g, i) => g.set(before[i]!));
    for (const b of this.pool.buffers()) b.fill(NaN);
    this.scratch.poison(); // and no program's writes are there any more
    let ran = true;
    try {
      e.program.run(batch, normaliser);
    } catch {
      ran = false; // e.g. a kernel given a table the replay did not write: out of bounds
    }
    const same = ran && outputs.every((b, i) => sameBits(b, expectedOut[i]!)) && grads.every((g, i) => sameBits(g, expected[i]!));
    if (!same) {
      // the ordinary step's results stand
      outputs.forEach((b, i) => b.set(expectedOut[i]!));
      grads.forEach((g, i) => g.set(expected[i]!));
      this.remove(key, e);
      this.refuse(key, e.rows, `a replay of T=${batch.T}, B=${batch.B}${e.rows === null ? '' : ` (rows ${e.rows.join(' ')})`} differed from the ordinary step`);
      return outputs;
    }
    e.state = 'checked';
    this.stats.checked++;
    this.stats.listedCalls += e.program.listedCalls;
    this.stats.unlistedCalls += e.program.kernelCalls - e.program.listedCalls;
    return outputs;
  }

  private refuse(key: number, rows: Int32Array | null, reason: string): void {
    const list = this.refused.get(key);
    if (list === undefined) this.refused.set(key, [{ rows }]);
    else list.push({ rows });
    this.stats.failed.push(reason);
  }
}

/** The entry of `list` with these rows over T time steps (null matches null only), if any. */
function findRows<E extends { rows: Int32Array | null }>(list: readonly E[] | undefined, rows: ArrayLike<number> | null, T: number): E | undefined {
  if (list === undefined) return undefined;
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!, r = e.rows;
    if (r === null || rows === null) {
      if (r === rows) return e;
      continue;
    }
    let t = 0;
    while (t < T && r[t] === rows[t]) t++;
    if (t === T) return e;
  }
  return undefined;
}

function allFinite(a: Buf): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

function sameBits(a: Buf, b: Buf): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
