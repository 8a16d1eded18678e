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
import { accumulateGradients } from './gradients.js';
import { zeroGrads } from './optim.js';
import { sharedView, State, type SharedFloats, type SliceMessage } from './parallel-protocol.js';

interface WorkerInit {
  config: Config;
  inputSize: number;
  outputSize: number;
  kernels: KernelChoice;
  control: SharedArrayBuffer;
  weights: SharedFloats;
  grads: SharedFloats;
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
  const model = createModel(init.config.model, init.inputSize, init.outputSize, new Rng(0));
  const params = [...model.params.values()];
  for (const p of params) p.g(); // gradient buffers for the whole run (already there on the WASM kernels)
  const pool = new BufferPool(heapAllocator());
  for (;;) {
    Atomics.wait(control, 0, State.Idle);
    const state = Atomics.load(control, 0);
    if (state === State.Quit) break;
    if (state !== State.Go) continue;
    try {
      const msg = receiveMessageOnPort(init.port)?.message as SliceMessage | undefined;
      if (msg === undefined) throw new Error('gradient worker: no slice was sent');
      let off = 0;
      for (const p of params) {
        p.data.set(weights.subarray(off, off + p.size));
        off += p.size;
      }
      zeroGrads(params); // one memory fill per parameter on the kernel heap
      const batch: Batch = { ...msg.batch };
      const loss = accumulateGradients(model, batch, pool, msg.normaliser);
      off = 0;
      for (const p of params) {
        grads.set(p.grad!, off);
        off += p.size;
      }
      init.port.postMessage({ loss });
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
