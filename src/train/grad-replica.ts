/**
 * @file What a gradient worker does, on any platform: holds a replica of the model, and for
 * each slice the trainer hands it copies in the shared weights, computes the gradients of its
 * slice of the batch (from its data buffer) and writes them to its shared gradient buffer, its
 * loss to its control block (or, for a forward pass, the slice's logits to its data buffer).
 * The worker's entry (grad-worker.ts in Node, grad-worker-web.ts in a browser) waits on the
 * control block's state word and brings new data buffers.
 */
import { adoptedLayout } from '../kernels/adopt.js';
import { kernelBuild, kernelHeapOrNull, setKernelBuild, type KernelHeap } from '../kernels/heap.js';
import { heapAllocator, heapFor } from '../kernels/wasm.js';
import { createModel } from '../models/registry.js';
import type { WritableBatch } from '../tasks/batch.js';
import { Rng } from '../tensor/random.js';
import { BufferPool } from '../tensor/pool.js';
import type { Tensor } from '../tensor/tensor.js';
import { accumulateGradients, forwardLogits, StepContext } from './gradients.js';
import { zeroGrads } from './optim.js';
import { controlViews, Num, readCounts, sameLayout, sharedView, sliceViews, Slot, State, type WorkerInit } from './parallel-protocol.js';

export class GradReplica {
  readonly control: Int32Array;
  private readonly nums: Float64Array;
  private readonly weights: Float32Array;
  private readonly grads: Float32Array;
  private readonly model: ReturnType<typeof createModel>;
  /** the kernel heap this replica's steps run on (the trainer's kernels; null: the TypeScript twins) */
  private readonly heap: KernelHeap | null;
  private readonly params: Tensor[];
  private readonly block: { readonly data: Float32Array; readonly grad: Float32Array } | null;
  private readonly steps: StepContext;
  private readonly evalSteps: StepContext;
  /** The data buffer and the trainer's count of them when it was taken. */
  private data: Float32Array;
  private gen = 0;
  /** batches viewing `data`, one per slice shape (T, n): made once, so a step makes no objects */
  private readonly views = new Map<number, { batch: WritableBatch; logits: Float32Array }>();

  /** @throws when the model or the trainer's kernels cannot be had on this thread */
  constructor(private readonly init: WorkerInit) {
    const { ints, nums } = controlViews(init.control);
    this.control = ints;
    this.nums = nums;
    this.weights = sharedView(init.weights);
    this.grads = sharedView(init.grads);
    this.data = new Float32Array(init.data);
    // the trainer's build of the kernels, so its slice rounds as the trainer's would
    if (init.build !== null && !setKernelBuild(init.build)) throw new Error(`the trainer runs the ${init.build} build of the WASM kernels, this thread ${kernelBuild() ?? 'neither'}`);
    // the trainer's kernels, for this replica's steps and model (not the thread's default)
    const heap = heapFor(init.kernels);
    this.heap = heap;
    const model = createModel(init.config.model, init.inputSize, init.outputSize, new Rng(0), 'f32', { kernelHeap: heap !== null });
    this.model = model;
    this.params = [...model.params.values()];
    for (const p of this.params) p.g(); // gradient buffers for the whole run (already there on the WASM kernels)
    // this model's block of parameters and gradients, when it is laid out as the shared buffers
    // (the same model on the same kernels: it is), goes across in one copy each way
    const own = adoptedLayout(model.params);
    this.block = own !== undefined && sameLayout(init.layout, own.data.length, own.offsets) ? own : null;
    this.steps = new StepContext(new BufferPool(heapAllocator(heap)), { replay: init.replay, kernels: init.kernels });
    this.evalSteps = new StepContext(new BufferPool(heapAllocator(heap)), { replay: init.replay, kernels: init.kernels });
  }

  /** True when the trainer has sent a data buffer this replica has not taken yet (take it before serve). */
  needsData(): boolean {
    return this.control[Slot.Gen] !== this.gen;
  }

  /** Takes the trainer's newest data buffer. */
  setData(buffer: SharedArrayBuffer): void {
    this.data = new Float32Array(buffer);
    this.gen = this.control[Slot.Gen]!;
    this.views.clear();
  }

  /** The slice the trainer put in the data buffer, as a batch (and where its logits go). */
  private slice(): { batch: WritableBatch; logits: Float32Array } {
    const c = this.control;
    const T = c[Slot.T]!, n = c[Slot.B]!, X = c[Slot.X]!, Y = c[Slot.Y]!;
    const key = T * 8192 + n;
    let v = this.views.get(key);
    if (v === undefined || v.batch.X !== X || v.batch.Y !== Y) this.views.set(key, (v = sliceViews(this.data, T, n, X, Y)));
    readCounts(this.data, v.batch);
    return v;
  }

  /** Answers the slice the trainer set going (state Go): Done, or Failed after `fail` has the message. */
  serve(fail: (message: string) => void): void {
    const { init, block, params, weights, grads, nums, model } = this;
    try {
      const { batch, logits } = this.slice();
      if (block !== null) block.data.set(weights);
      else params.forEach((p, i) => p.data.set(weights.subarray(init.layout.offsets[i]!, init.layout.offsets[i]! + p.size)));
      if (this.control[Slot.Forward] === 1) {
        const z = forwardLogits(model, batch, this.evalSteps, init.config.train.lengthGroupSize, init.config.train.lengthGroupsAtOnce);
        for (let t = 0; t < batch.T; t++) logits.set(z[t]!, t * z[t]!.length);
      } else {
        if (block !== null) kernelHeapOrNull()!.zero(block.grad); // one memory fill
        else zeroGrads(params, this.heap); // one memory fill per parameter on the kernel heap
        nums[Num.Loss] = accumulateGradients(model, batch, this.steps, nums[Num.Normaliser]!, init.config.train.lengthGroupSize, init.config.train.lengthGroupsAtOnce);
        if (block !== null) grads.set(block.grad);
        else params.forEach((p, i) => grads.set(p.grad!, init.layout.offsets[i]!));
      }
      finish(this.control, State.Done);
    } catch (err) {
      failWith(this.control, fail, (err as Error).message);
    }
  }
}

/** Sets a control block's state word and wakes the trainer. */
export function finish(control: Int32Array, state: State): void {
  Atomics.store(control, Slot.State, state);
  Atomics.notify(control, Slot.State);
}

/** Reports `message` (through `post`, before the state changes) and sets Failed. */
export function failWith(control: Int32Array, post: (message: string) => void, message: string): void {
  post(message);
  finish(control, State.Failed);
}
