/**
 * @file The public API: re-exports only.
 */
export { Tensor, type Buf, type DType, type ReplayJs } from './tensor/tensor.js';
export { OpContext, type JsRecorder } from './tensor/context.js';
export { BufferPool } from './tensor/pool.js';
export { onTape, Tape } from './tensor/tape.js';
export { Rng } from './tensor/random.js';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './tensor/gradcheck.js';
export * from './config/schema.js';
export { PRESETS, findPreset, presetNames, type Preset } from './config/presets.js';
export { createTask } from './tasks/registry.js';
export { BatchStore, zeroBatch, type Batch, type Task, type WritableBatch } from './tasks/batch.js';
export { LengthGroups, neededSteps } from './tasks/groups.js';
export { createModel, releaseModel, type CreateModelOptions } from './models/registry.js';
export type { MemoryModel, StepObserver, StepSnapshot } from './models/model.js';
export { countParams, type ParamStore } from './models/params.js';
export { Ntm } from './models/ntm.js';
export { Dnc } from './models/dnc.js';
export { LstmStack, type LstmStackState } from './models/lstm-stack.js';
export { Trainer, seedStreams, NonFiniteError, type EvalRecord, type TrainerOptions } from './train/trainer.js';
export { maskedBceLoss, MetricsAccumulator, type Metrics } from './train/loss.js';
export { createOptimizer, type Optimizer } from './train/optim.js';
export { type ReplayStats } from './train/replay.js';
export {
  loadWeights, applyWeights, saveCheckpoint, loadCheckpoint, CheckpointError, CHECKPOINT_VERSION,
  type TrainingState, type LoadedWeights, type LoadedCheckpoint,
} from './checkpoint/checkpoint.js';
export { encodeSafetensors, decodeSafetensors, SafetensorsError, type StoredTensor } from './checkpoint/safetensors.js';
export { encodeWeightsFile, decodeWeightsFile } from './checkpoint/weights-file.js';
export { loadModel, resolveCheckpoint, type TrainedModel, type LoadModelOptions } from './api/load-model.js';
export { runModel, type InputSequence, type RunModelOptions, type ModelOutputs } from './api/run-model.js';
