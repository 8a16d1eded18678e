/**
 * @file A gradient worker thread: holds a replica of the model, and for each step copies in
 * the shared weights, computes the gradients of its slice of the batch (from its data buffer)
 * and writes them to its shared gradient buffer, its loss to its control block. Driven by
 * train/parallel.ts through Atomics on the control block's state word.
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Config } from '../config/schema.js';
import { heapAllocator, setKernels, type KernelChoice } from '../kernels/wasm.js';
import { createModel } from '../models/registry.js';
import type { WritableBatch } from '../tasks/batch.js';
import { Rng } from '../tensor/random.js';
import { BufferPool } from '../tensor/pool.js';
import { accumulateGradients, forwardLogits, StepContext } from './gradients.js';
import { zeroGrads } from './optim.js';
import { setStepReplay } from './replay.js';
import { controlViews, Num, readCounts, sameLayout, sharedView, sliceViews, Slot, SPIN_MS, State, waitWhile, type DataMessage, type ErrorReply, type SharedFloats, type SharedLayout } from './parallel-protocol.js';
import { adoptedLayout } from '../kernels/adopt.js';
import { kernelHeapOrNull, kernelBuild, setKernelBuild, type KernelBuild } from '../kernels/heap.js';

interface WorkerInit {
  config: Config;
  inputSize: number;
  outputSize: number;
  kernels: KernelChoice;
  /** the trainer thread's build of the WASM kernels (null: none loads there) */
  build: KernelBuild | null;
  /** the trainer thread's stepReplayEnabled() */
  replay: boolean;
  /** the control block (parallel-protocol.ts) */
  control: SharedArrayBuffer;
  /** the first data buffer (later ones come by message) */
  data: SharedArrayBuffer;
  weights: SharedFloats;
  grads: SharedFloats;
  layout: SharedLayout;
  /** every thread has a core: spin briefly before sleeping on the control word */
  spin: boolean;
  port: MessagePort;
}

const init = workerData as WorkerInit;
const { ints: control, nums } = controlViews(init.control);
const weights = sharedView(init.weights);
const grads = sharedView(init.grads);

function finish(state: State): void {
  Atomics.store(control, Slot.State, state);
  Atomics.notify(control, Slot.State);
}

function fail(message: string): void {
  const reply: ErrorReply = { error: message };
  init.port.postMessage(reply);
  finish(State.Failed);
}

/** The data buffer and the trainer's count of them when it was taken. */
let data = new Float32Array(init.data);
let gen = 0;
/** batches viewing `data`, one per slice shape (T, n): made once, so a step makes no objects */
const views = new Map<number, { batch: WritableBatch; logits: Float32Array }>();

/** The slice the trainer put in the data buffer, as a batch (and where its logits go). */
function slice(): { batch: WritableBatch; logits: Float32Array } {
  if (control[Slot.Gen] !== gen) {
    // the trainer sent a larger buffer (before it set Go): take the newest
    let msg: DataMessage | undefined;
    for (let m = receiveMessageOnPort(init.port); m !== undefined; m = receiveMessageOnPort(init.port)) msg = m.message as DataMessage;
    if (msg === undefined) throw new Error('gradient worker: the new data buffer did not come');
    data = new Float32Array(msg.data);
    gen = control[Slot.Gen]!;
    views.clear();
  }
  const T = control[Slot.T]!, n = control[Slot.B]!, X = control[Slot.X]!, Y = control[Slot.Y]!;
  const key = T * 8192 + n;
  let v = views.get(key);
  if (v === undefined || v.batch.X !== X || v.batch.Y !== Y) views.set(key, (v = sliceViews(data, T, n, X, Y)));
  readCounts(data, v.batch);
  return v;
}

try {
  // the trainer's build of the kernels, so its slice rounds as the trainer's would
  if (init.build !== null && !setKernelBuild(init.build)) throw new Error(`the trainer runs the ${init.build} build of the WASM kernels, this thread ${kernelBuild() ?? 'neither'}`);
  setKernels(init.kernels);
  setStepReplay(init.replay);
  const model = createModel(init.config.model, init.inputSize, init.outputSize, new Rng(0));
  const params = [...model.params.values()];
  for (const p of params) p.g(); // gradient buffers for the whole run (already there on the WASM kernels)
  // this model's block of parameters and gradients, when it is laid out as the shared buffers
  // (the same model on the same kernels: it is), goes across in one copy each way
  const own = adoptedLayout(model.params);
  const block = own !== undefined && sameLayout(init.layout, own.data.length, own.offsets) ? own : null;
  const steps = new StepContext(new BufferPool(heapAllocator()));
  const evalSteps = new StepContext(new BufferPool(heapAllocator()));
  for (;;) {
    const state = Atomics.load(control, 0);
    if (state === State.Quit) break;
    if (state !== State.Go) {
      // Idle, or Done / Failed until the trainer has read the answer: wait for the next change
      // (spinning only briefly: with more threads than cores it would take the trainer's core)
      waitWhile(control, state, init.spin ? SPIN_MS : 0, Infinity);
      continue;
    }
    try {
      const { batch, logits } = slice();
      if (block !== null) block.data.set(weights);
      else params.forEach((p, i) => p.data.set(weights.subarray(init.layout.offsets[i]!, init.layout.offsets[i]! + p.size)));
      if (control[Slot.Forward] === 1) {
        const z = forwardLogits(model, batch, evalSteps, init.config.train.lengthGroupSize, init.config.train.lengthGroupsAtOnce);
        for (let t = 0; t < batch.T; t++) logits.set(z[t]!, t * z[t]!.length);
      } else {
        if (block !== null) kernelHeapOrNull()!.zero(block.grad); // one memory fill
        else zeroGrads(params); // one memory fill per parameter on the kernel heap
        nums[Num.Loss] = accumulateGradients(model, batch, steps, nums[Num.Normaliser]!, init.config.train.lengthGroupSize, init.config.train.lengthGroupsAtOnce);
        if (block !== null) grads.set(block.grad);
        else params.forEach((p, i) => grads.set(p.grad!, init.layout.offsets[i]!));
      }
      finish(State.Done);
    } catch (err) {
      fail((err as Error).message);
    }
  }
} catch (err) {
  fail(`gradient worker failed to start: ${(err as Error).message}`);
}
