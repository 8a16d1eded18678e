/**
 * @file Data parallelism over the batch: worker threads each compute the gradients of a
 * contiguous slice of the batch while this thread computes the first slice; the gradients are
 * then summed in slice order, so a run is deterministic for a given thread count. Evaluation's
 * forward passes are split the same way, and their logits put back together.
 *
 * Weights go to the workers through one shared block, gradients come back through one per
 * worker (blocks of this thread's kernel heap, whose memory is shared, or SharedArrayBuffers
 * without it); each slice and its answer go through the worker's control block and data buffer
 * (parallel-protocol.ts), and the hand-off waits on an Atomics state word, so a training step
 * stays synchronous and makes no JavaScript objects.
 */
import { beforeSpawning, cores, spawnGradientThread, threadsUnavailable } from '#gradient-threads';
import type { Config } from '../config/schema.js';
import { kernelBuild, kernelHeapOrNull, type KernelHeap } from '../kernels/heap.js';
import { addColumns, copyColumns } from '../kernels/blocks.js';
import { adoptedBlocks, adoptedLayout } from '../kernels/adopt.js';
import { activeKernels, heapFor, type KernelChoice } from '../kernels/wasm.js';
import type { MemoryModel } from '../models/model.js';
import { BatchStore, gatherInto, type Batch } from '../tasks/batch.js';
import { LengthGroups } from '../tasks/groups.js';
import type { Tensor } from '../tensor/tensor.js';
import { accumulateGradients, forwardLogits, scatterRows, type StepContext } from './gradients.js';
import { lossScale } from './loss.js';
import { CONTROL_BYTES, controlViews, logitsAt, Num, sliceFloats, Slot, SPIN_MS, State, waitWhile, writeSlice, type DataMessage, type GradientThread, type SharedFloats, type SharedLayout } from './parallel-protocol.js';

/** A gradient worker that stopped answering; the message says how to train without workers. */
export class GradientWorkerError extends Error {}

/** How long to wait for a worker's answer before declaring it lost. */
const WORKER_TIMEOUT_MS = 120_000;

interface Handle {
  readonly worker: GradientThread;
  /** the control block's Int32 slots (the state word first) and Float64 ones */
  readonly control: Int32Array;
  readonly nums: Float64Array;
  /** the slice's batch, and a forward pass's logits (replaced by a larger one when a slice needs it) */
  data: Float32Array;
  readonly grads: Float32Array;
}

/** The first data buffer's size in floats; a larger one is sent when a slice needs it. */
const FIRST_DATA_FLOATS = 1 << 14;

/**
 * A float32 buffer the workers can see: a block of this thread's kernel heap (whose memory is
 * shared), so the weights go in and the gradients are summed by the kernels' block copies and
 * adds, or else a SharedArrayBuffer of its own.
 */
function sharedFloats(heap: KernelHeap | null, n: number): { view: Float32Array; where: SharedFloats } {
  const view = heap?.alloc(n) ?? null;
  if (view !== null) return { view, where: { memory: heap!.memory, byteOffset: view.byteOffset, length: n } };
  const own = new Float32Array(new SharedArrayBuffer(4 * n));
  return { view: own, where: { buffer: own.buffer as SharedArrayBuffer, length: n } };
}

/**
 * The size of slice i of B samples cut into min(parts, B) contiguous slices, the first B mod
 * that many one larger (0 for a slice beyond them).
 */
export function sliceSize(B: number, parts: number, i: number): number {
  const n = Math.min(parts, B);
  return i < n ? Math.floor(B / n) + (i < B % n ? 1 : 0) : 0;
}

export class ParallelGradients {
  private readonly handles: Handle[] = [];
  private readonly weights: Float32Array;
  /** this thread's kernel heap, where the shared weights and gradients are, if it has one */
  private readonly heap: KernelHeap | null;
  /** as many threads as cores at most: the hand-offs spin before they sleep (see SPIN_MS) */
  private readonly spin: boolean;
  /** where each parameter lies in the shared buffers */
  private readonly layout: SharedLayout;
  /** this thread's block of parameters and gradients laid out as `layout`, if the model has one */
  private readonly block: { readonly data: Float32Array; readonly grad: Float32Array } | null = null;
  /** the kernels the workers run (its trainer's: StepSettings.kernels) */
  readonly kernels: KernelChoice;
  /** the heap this thread's block copies and sums run on (the kernels' heap; null: the TypeScript loops) */
  private readonly blockHeap: KernelHeap | null;
  /** the workers replay their steps where they can (StepSettings.replay: the trainer's setting) */
  readonly replay: boolean;
  /** set by close(): the shared blocks are going back to the heap */
  private closing: Promise<void> | null = null;
  /** this thread's share of a batch is copied into one of these (kept per shape) */
  private readonly ownSlices = new BatchStore();
  /** the last start(): this thread's share of the batch */
  private first: Batch | null = null;
  /** samples per length group (train.lengthGroupSize; 0: contiguous slices of the padded batch) */
  private readonly groupSize: number;
  /** length groups side by side (train.lengthGroupsAtOnce) */
  private readonly atOnce: number;
  private readonly groups = new LengthGroups();
  /** per thread (0: this one), the last start()'s share: its samples, how many, its time steps (0: none) */
  private readonly shares: number[][];
  private readonly counts: number[] = [];
  private readonly steps: number[] = [];

  /**
   * @param kernels the kernels its trainer runs (default: the process's default), which the
   * workers run too
   */
  constructor(model: MemoryModel, config: Config, readonly threads: number, { replay = true, kernels }: { readonly replay?: boolean; readonly kernels?: KernelChoice } = {}) {
    this.replay = replay;
    this.kernels = activeKernels(kernels);
    this.blockHeap = heapFor(this.kernels);
    this.groupSize = config.train.lengthGroupSize;
    this.atOnce = config.train.lengthGroupsAtOnce;
    this.shares = Array.from({ length: threads }, () => []);
    const unavailable = threadsUnavailable();
    if (threads > 1 && unavailable !== null) throw new GradientWorkerError(`train.threads=${threads}: ${unavailable}; set train.threads=1`);
    beforeSpawning();
    this.heap = kernelHeapOrNull();
    this.spin = threads <= cores();
    const own = adoptedLayout(model.params);
    if (own !== undefined) {
      this.layout = { size: own.data.length, offsets: own.offsets };
      this.block = adoptedBlocks(model.params)!;
    } else {
      const offsets: number[] = [];
      let n = 0;
      for (const p of model.params.values()) {
        offsets.push(n);
        n += p.size;
      }
      this.layout = { size: n, offsets };
    }
    const weights = sharedFloats(this.heap, this.layout.size);
    this.weights = weights.view;
    for (let i = 1; i < threads; i++) {
      const block = new SharedArrayBuffer(CONTROL_BYTES);
      const { ints: control, nums } = controlViews(block);
      const data = new Float32Array(new SharedArrayBuffer(4 * FIRST_DATA_FLOATS));
      const grads = sharedFloats(this.heap, this.layout.size);
      const worker = spawnGradientThread({
        config, inputSize: model.inputSize, outputSize: model.outputSize, kernels: this.kernels, build: kernelBuild(), replay: this.replay,
        control: block, data: data.buffer as SharedArrayBuffer, weights: weights.where, grads: grads.where, layout: this.layout, spin: this.spin,
      });
      this.handles.push({ worker, control, nums, data, grads: grads.view });
    }
  }

  /** Settles once every worker can take slices (a browser's start only while this thread is free). */
  async ready(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.worker.started));
  }

  /**
   * Adds the gradients of `batch` to the model's parameter gradients.
   * @returns the batch's loss (the sum of the slices' losses, in slice order)
   */
  accumulate(model: MemoryModel, batch: Batch, steps: StepContext): number {
    // (no closure for closingOnError here: a training step makes no JavaScript objects)
    try {
      const normaliser = lossScale(batch);
      const block = this.start(model, batch, normaliser, false);
      let loss = this.first === null ? 0 : accumulateGradients(model, this.first, steps, normaliser, this.groupSize, this.atOnce);
      for (let w = 1; w < this.threads; w++) {
        if (this.counts[w] === 0) continue;
        const h = this.handles[w - 1]!;
        this.answer(h);
        loss += h.nums[Num.Loss]!;
        if (block !== null) addColumns(this.blockHeap, h.grads, 0, 0, block.grad, 0, 0, 1, this.layout.size);
        else this.eachParam(model, (p, i) => addColumns(this.blockHeap, h.grads, this.layout.offsets[i]!, 0, p.g(), 0, 0, 1, p.size));
      }
      return loss;
    } catch (err) {
      void this.close(); // see closingOnError
      throw err;
    }
  }

  private eachParam(model: MemoryModel, fn: (p: Tensor, i: number) => void): void {
    let i = 0;
    for (const p of model.params.values()) fn(p, i++);
  }

  /** True once close() was called (by the owner, or after an error): a new ParallelGradients is needed. */
  get closed(): boolean {
    return this.closing !== null;
  }

  /**
   * Runs `fn`; if it throws, closes the workers first: a worker still busy with its slice, or an
   * answer not yet read, would otherwise be taken for the answer to the next slice.
   */
  private closingOnError<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      void this.close();
      throw err;
    }
  }

  /**
   * The logits of `batch` (a forward pass, for evaluation), each slice on its own thread. Every
   * sample's logits are those of a forward pass on the whole batch in one thread: the kernels
   * compute each sample's rows alone.
   * @returns per time step, [B, Y]
   */
  forward(model: MemoryModel, batch: Batch, steps: StepContext): Float32Array[] {
    return this.closingOnError(() => {
      this.start(model, batch, 0, true);
      const { T, X, Y } = batch;
      const out = Array.from({ length: T }, () => new Float32Array(batch.B * Y));
      if (this.first !== null) {
        // (the time steps of a sample after the last it needs stay 0, as forwardLogits leaves them)
        scatterRows(forwardLogits(model, this.first, steps, this.groupSize, this.atOnce), this.shares[0]!, 0, Y, out);
      }
      for (let w = 1; w < this.threads; w++) {
        const rows = this.counts[w]!;
        if (rows === 0) continue;
        const h = this.handles[w - 1]!;
        this.answer(h);
        const steps = h.control[Slot.T]!, idx = this.shares[w]!;
        const at = logitsAt(steps, rows, X, Y); // [steps, rows, Y]
        for (let t = 0; t < steps; t++) {
          for (let r = 0; r < rows; r++) out[t]!.set(h.data.subarray(at + (t * rows + r) * Y, at + (t * rows + r + 1) * Y), idx[r]! * Y);
        }
      }
      return out;
    });
  }

  /**
   * Deals the batch's samples to the threads, puts the weights where the workers see them and
   * each worker's share in its data buffer, and sets them going; this thread's share goes to
   * `first` (null: none). In length groups (train.lengthGroupSize), each thread gets whole
   * groups, dealt to even out the work (LengthGroups.deal), and runs only the time steps its
   * samples need; otherwise contiguous slices (sliceSize), padded as the batch is.
   * @returns the model's block of parameters and gradients, when it is the shared layout's
   */
  private start(model: MemoryModel, batch: Batch, normaliser: number, forward: boolean): { readonly data: Float32Array; readonly grad: Float32Array } | null {
    if (this.closing !== null) throw new Error('ParallelGradients: the workers were closed');
    this.deal(batch);
    // the model's own block while its parameters are still in it (until releaseParams moves them;
    // then one copy per parameter)
    const block = this.block !== null && adoptedBlocks(model.params) === this.block ? this.block : null;
    if (block !== null) copyColumns(this.blockHeap, block.data, 0, 0, this.weights, 0, 0, 1, this.layout.size);
    else this.eachParam(model, (p, i) => copyColumns(this.blockHeap, p.data, 0, 0, this.weights, this.layout.offsets[i]!, 0, 1, p.size));
    for (let w = 1; w < this.threads; w++) {
      const n = this.counts[w]!, T = this.steps[w]!;
      if (n === 0) continue;
      const h = this.handles[w - 1]!;
      const need = sliceFloats(T, n, batch.X, batch.Y);
      if (need > h.data.length) {
        // a longer share than any before: a larger buffer, which the worker takes when it sees Gen change
        h.data = new Float32Array(new SharedArrayBuffer(4 * Math.max(need, 2 * h.data.length)));
        const msg: DataMessage = { data: h.data.buffer as SharedArrayBuffer };
        h.worker.post(msg);
        h.control[Slot.Gen]!++;
      }
      writeSlice(batch, this.shares[w]!, n, T, h.data);
      h.control[Slot.T] = T;
      h.control[Slot.B] = n;
      h.control[Slot.X] = batch.X;
      h.control[Slot.Y] = batch.Y;
      h.control[Slot.Forward] = forward ? 1 : 0;
      h.nums[Num.Normaliser] = normaliser;
      // Go after the share's words (the worker reads them once it sees Go), and only from Idle: a
      // worker that failed to start (its model, its kernels) says so now, not after a timeout
      if (Atomics.compareExchange(h.control, Slot.State, State.Idle, State.Go) !== State.Idle) {
        throw new GradientWorkerError(`${this.errorOf(h) ?? 'a gradient worker failed to start'}; set train.threads=1 to train without workers`);
      }
      Atomics.notify(h.control, Slot.State);
    }
    const n0 = this.counts[0]!, T0 = this.steps[0]!;
    this.first = n0 === 0 ? null : n0 === batch.B && T0 === batch.T && this.groupSize <= 0 ? batch
      : gatherInto(batch, this.shares[0]!, 0, n0, T0, this.ownSlices.take(T0, n0, batch.X, batch.Y));
    return block;
  }

  /** Sets each thread's share of `batch` (shares, counts, steps). */
  private deal(batch: Batch): void {
    if (this.groupSize > 0) {
      this.groups.plan(batch, this.groupSize);
      this.groups.deal(this.threads, this.shares, this.counts, this.steps);
      return;
    }
    // contiguous slices, each padded as the batch is
    let start = 0;
    for (let w = 0; w < this.threads; w++) {
      const n = sliceSize(batch.B, this.threads, w);
      for (let r = 0; r < n; r++) this.shares[w]![r] = start + r;
      start += n;
      this.counts[w] = n;
      this.steps[w] = n > 0 ? batch.T : 0;
    }
  }

  /** The error a worker posted, if any. */
  private errorOf(h: Handle): string | undefined {
    return h.worker.takeError();
  }

  /** Waits for a worker's answer to its slice (in its control block and data buffer). */
  private answer(h: Handle): void {
    if (!waitWhile(h.control, State.Go, this.spin ? SPIN_MS : 0, WORKER_TIMEOUT_MS)) {
      throw new GradientWorkerError('a gradient worker did not answer for 2 minutes; set train.threads=1 to train without workers');
    }
    const failed = Atomics.load(h.control, Slot.State) !== State.Done;
    Atomics.store(h.control, Slot.State, State.Idle);
    if (failed) throw new GradientWorkerError(`${this.errorOf(h) ?? 'a gradient worker gave no answer'}; set train.threads=1 to train without workers`);
  }

  /** Stops the workers; the promise settles once they have stopped and the heap blocks are back. */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing; // once: a block given back twice would be handed out twice
    const stopped: Promise<unknown>[] = [];
    for (const h of this.handles) {
      Atomics.store(h.control, Slot.State, State.Quit);
      Atomics.notify(h.control, Slot.State);
      stopped.push(h.worker.terminate());
    }
    // heap blocks go back once no worker can write them (one that timed out may still be running)
    const heap = this.heap;
    const blocks = [this.weights, ...this.handles.map((h) => h.grads)].filter((b) => heap !== null && heap.owns(b));
    this.handles.length = 0;
    this.closing = Promise.allSettled(stopped).then(() => {
      for (const b of blocks) heap!.release(b);
    });
    return this.closing;
  }
}
