/**
 * @file A gradient worker thread: holds a replica of the model, and for each step copies in
 * the shared weights, computes the gradients of its slice of the batch and writes them to
 * its shared gradient buffer. Driven by train/parallel.ts through Atomics on a control word.
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Config } from '../config/schema.js';
import { heapAllocator, setKernels, type KernelChoice } from '../kernels/wasm.js';
import { createModel } from '../models/registry.js';
import type { Batch } from '../tasks/batch.js';
import { Rng } from '../tensor/random.js';
import { BufferPool } from '../tensor/tensor.js';
import { accumulateGradients, forwardLogits } from './gradients.js';
import { zeroGrads } from './optim.js';
import { setStepReplay } from './replay.js';
import { sameLayout, sharedView, SPIN_MS, State, waitWhile, type SharedFloats, type SharedLayout, type SliceMessage, type SliceReply } from './parallel-protocol.js';
import { adoptedLayout } from '../kernels/adopt.js';
import { kernelHeapOrNull } from '../kernels/heap.js';

interface WorkerInit {
  config: Config;
  inputSize: number;
  outputSize: number;
  kernels: KernelChoice;
  /** the trainer thread's stepReplayEnabled() */
  replay: boolean;
  control: SharedArrayBuffer;
  weights: SharedFloats;
  grads: SharedFloats;
  layout: SharedLayout;
  /** every thread has a core: spin briefly before sleeping on the control word */
  spin: boolean;
  port: MessagePort;
}

const init = workerData as WorkerInit;
const control = new Int32Array(init.control);
const weights = sharedView(init.weights);
const grads = sharedView(init.grads);

function finish(state: State): void {
  Atomics.store(control, 0, state);
  Atomics.notify(control, 0);
}

try {
  setKernels(init.kernels);
  setStepReplay(init.replay);
  const model = createModel(init.config.model, init.inputSize, init.outputSize, new Rng(0));
  const params = [...model.params.values()];
  for (const p of params) p.g(); // gradient buffers for the whole run (already there on the WASM kernels)
  // this model's block of parameters and gradients, when it is laid out as the shared buffers
  // (the same model on the same kernels: it is), goes across in one copy each way
  const own = adoptedLayout(model.params);
  const block = own !== undefined && sameLayout(init.layout, own.data.length, own.offsets) ? own : null;
  const pool = new BufferPool(heapAllocator());
  const evalPool = new BufferPool(heapAllocator());
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
      const msg = receiveMessageOnPort(init.port)?.message as SliceMessage | undefined;
      if (msg === undefined) throw new Error('gradient worker: no slice was sent');
      if (block !== null) block.data.set(weights);
      else params.forEach((p, i) => p.data.set(weights.subarray(init.layout.offsets[i]!, init.layout.offsets[i]! + p.size)));
      const batch: Batch = { ...msg.batch };
      let reply: SliceReply;
      if (msg.forward) {
        const logits = forwardLogits(model, batch, evalPool);
        const flat = new Float32Array(batch.T * batch.B * batch.Y);
        logits.forEach((z, t) => flat.set(z, t * z.length));
        reply = { logits: flat };
      } else {
        if (block !== null) kernelHeapOrNull()!.zero(block.grad); // one memory fill
        else zeroGrads(params); // one memory fill per parameter on the kernel heap
        const loss = accumulateGradients(model, batch, pool, msg.normaliser);
        if (block !== null) grads.set(block.grad);
        else params.forEach((p, i) => grads.set(p.grad!, init.layout.offsets[i]!));
        reply = { loss };
      }
      init.port.postMessage(reply);
      finish(State.Done);
    } catch (err) {
      init.port.postMessage({ error: (err as Error).message });
      finish(State.Failed);
    }
  }
} catch (err) {
  init.port.postMessage({ error: `gradient worker failed to start: ${(err as Error).message}` });
  finish(State.Failed);
}
