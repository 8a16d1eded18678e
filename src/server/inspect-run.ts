/**
 * @file The inspector's samples: a fixed one per run for the live view (the same sample at
 * every evaluation, so one watches the model learn it), and one from a run directory's
 * checkpoint for past runs. Sample streams are their own (`inspect`): looking never changes
 * what training or evaluation draw.
 */
import { loadModel } from '../api/load-model.js';
import type { Config } from '../config/schema.js';
import type { MemoryModel } from '../models/model.js';
import type { Batch } from '../tasks/batch.js';
import { createTask } from '../tasks/registry.js';
import { Rng } from '../tensor/random.js';
import { inspectBatch } from './inspect.js';
import { checkpointFile } from './runs.js';
import type { Inspection } from './protocol.js';

/** One sample (B = 1) of the config's task; `length` words when given. */
export function inspectionSample(config: Config, seed: number, length?: number): Batch {
  return createTask(config.task).sample(new Rng(seed, 'inspect'), 1, { length });
}

/** Inspects `sample` with the model's current weights (called between training steps). */
export function inspectLive(model: MemoryModel, sample: Batch, step: number, lengthName = 'words'): Inspection {
  return inspectBatch(model, sample, 0, `the same sample at every evaluation; weights of step ${step}`, step, lengthName);
}

/** Loads a run directory's best (else last) checkpoint and inspects one sample; symlinks are not followed. */
export function inspectRun(runDir: string, seed: number, length?: number): Inspection {
  const ckpt = checkpointFile(runDir);
  if (ckpt === null) throw new Error("this run has no checkpoint yet (no regular file checkpoints/best.safetensors or last.safetensors)");
  // a model per request: off the kernel heap, which never frees parameters
  const { model, config, step, path: file, task } = loadModel(ckpt, { kernelHeap: false });
  const sample = inspectionSample(config, seed, length);
  const known = Number.isFinite(step) ? step : null;
  const which = file.endsWith('best.safetensors') ? 'best' : 'last';
  return inspectBatch(model, sample, 0, `sample ${seed}${length ? `, ${length} ${task.lengthName}` : ''}; ${which} checkpoint${known !== null ? ` (step ${known})` : ''}`, known, task.lengthName);
}
