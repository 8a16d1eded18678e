/**
 * @file The browser entry (`import … from 'engram/browser'`): models, tasks, the trainer and
 * weights files as bytes, with nothing from Node. Before the first step, `fetchKernels(url)`
 * fetches and compiles the WebAssembly kernels from the folder that serves
 * dist/kernels/*.wasm; without it every op runs in plain TypeScript. Gradient threads
 * (train.threads > 1) run in Web Workers on a cross-origin isolated page, the trainer itself in
 * a worker: `setGradientWorkerUrl(url of the bundled train/grad-worker-web.js)`, then
 * `await trainer.startThreads()` before the first step. Files, checkpoints on
 * disk, worker threads, the server and the command line are Node's alone (`engram`).
 */
export { Tensor, type Buf, type DType } from './tensor/tensor.js';
export { OpContext } from './tensor/context.js';
export { BufferPool } from './tensor/pool.js';
export { onTape, Tape } from './tensor/tape.js';
export { Rng } from './tensor/random.js';
export * from './config/schema.js';
export { PRESETS, findPreset, presetNames, type Preset } from './config/presets.js';
export { describeConfig } from './config/describe.js';
export { createTask } from './tasks/registry.js';
export { describeRange, type Batch, type Task } from './tasks/batch.js';
export { createModel, releaseModel, type CreateModelOptions } from './models/registry.js';
export type { MemoryModel, StepObserver, StepSnapshot } from './models/model.js';
export { countParams, type ParamStore } from './models/params.js';
export { Trainer, seedStreams, NonFiniteError, type EvalRecord, type TrainerOptions } from './train/trainer.js';
export { MetricsAccumulator, type Metrics } from './train/loss.js';
export { fetchKernels, installKernels, type KernelModules } from './kernels/files-web.js';
export { kernelBuild, type KernelBuild } from './kernels/heap.js';
export { kernelsName, setKernels } from './kernels/wasm.js';
export { setGradientWorkerUrl, threadsUnavailable } from './train/threads-web.js';
export {
  applyWeights, CheckpointError, decodeWeightsFile, encodeWeightsFile, CHECKPOINT_VERSION, type LoadedWeights,
} from './checkpoint/weights-file.js';
export { encodeSafetensors, decodeSafetensors, SafetensorsError, type StoredTensor } from './checkpoint/safetensors.js';
export { inspectBatch } from './server/inspect.js';
export { runModel, type InputSequence, type RunModelOptions, type ModelOutputs } from './api/run-model.js';
