/**
 * @file Loading a trained model into your own code. `loadModel(path)` takes a run directory
 * (its best checkpoint, or with `{ last: true }` its latest), a run's `checkpoints/` folder,
 * or a weights file written by `engram train`, and returns the model ready to run.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { applyWeights, CheckpointError, loadWeights, weightsPath } from '../checkpoint/checkpoint.js';
import type { Config } from '../config/schema.js';
import type { MemoryModel } from '../models/model.js';
import { createModel } from '../models/registry.js';
import type { Task } from '../tasks/batch.js';
import { createTask } from '../tasks/registry.js';
import { Rng } from '../tensor/random.js';
import type { DType } from '../tensor/tensor.js';

export interface TrainedModel {
  readonly model: MemoryModel;
  /** the config the model was trained with (from the checkpoint) */
  readonly config: Config;
  /** the task it was trained on: `task.sample(rng, B)` draws batches it knows */
  readonly task: Task;
  /** the weights file that was read */
  readonly path: string;
  /** the training step the weights were saved at */
  readonly step: number;
}

export interface LoadModelOptions {
  /** from a run directory, load `last` rather than `best` */
  readonly last?: boolean;
  /** 'f64' runs the model in float64 (the weights are stored in float32) */
  readonly dtype?: DType;
  /** false: keep the weights off the WASM kernel heap (for a process that loads many models; see createModel) */
  readonly kernelHeap?: boolean;
}

/** The weights file that `path` names: itself, or a run directory's best (or last) checkpoint. */
export function resolveCheckpoint(path: string, last = false): string {
  if (!existsSync(path)) throw new CheckpointError(`${path} does not exist`);
  const st = statSync(path);
  if (!st.isDirectory()) {
    // a device or a pipe (/dev/zero) would be read for ever
    if (!st.isFile()) throw new CheckpointError(`${path} is not a regular file; pass a .safetensors file written by engram train, or a run directory`);
    return path;
  }
  const dir = existsSync(join(path, 'checkpoints')) ? join(path, 'checkpoints') : path;
  const best = weightsPath(dir, 'best'), latest = weightsPath(dir, 'last');
  const file = last || !existsSync(best) ? latest : best;
  if (!existsSync(file)) throw new CheckpointError(`${path} has no checkpoint yet (looked for ${file})`);
  return file;
}

/** Reads a trained model; every problem with the file is a CheckpointError with a one-line message. */
export function loadModel(path: string, opts: LoadModelOptions = {}): TrainedModel {
  const file = resolveCheckpoint(path, opts.last);
  const { tensors, config, step } = loadWeights(file);
  const task = createTask(config.task);
  // the init stream is irrelevant: every parameter is overwritten from the file
  const model = createModel(config.model, task.inputSize, task.outputSize, new Rng(0), opts.dtype ?? 'f32', { kernelHeap: opts.kernelHeap });
  applyWeights(model.params, tensors, file);
  return { model, config, task, path: file, step };
}
