/**
 * @file Checkpoints: the weights in safetensors (`NAME.safetensors`, float32, names such as
 * `controller.lstm.weight_ih`, `heads.write.0.key.weight`), and beside them the training
 * state (`NAME.state.safetensors`: optimiser buffers, with step, random streams, config and
 * best metric as JSON metadata). Both carry the same save id, so a mixed pair is detected.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig, type Config } from '../config/schema.js';
import type { ParamStore } from '../models/params.js';
import type { Buf } from '../tensor/tensor.js';
import { writeFileAtomic } from './atomic.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type StoredTensor } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'engram-checkpoint';
export const CHECKPOINT_VERSION = 1;

export class CheckpointError extends Error {}

export interface BestRecord {
  readonly step: number;
  readonly bitErrorsPerSeq: number;
  readonly loss: number;
}

export interface TrainingState {
  readonly step: number;
  readonly optimizerStep: number;
  readonly rng: { readonly train: readonly number[]; readonly eval: readonly number[] };
  readonly best: BestRecord | null;
  readonly skippedSteps: number;
  readonly elapsedSec: number;
  readonly config: Config;
  /** training loss summed since the last evaluation, so a resumed run reports the same trainLoss */
  readonly runningLoss: { readonly sum: number; readonly count: number };
}

export interface LoadedWeights {
  readonly tensors: Map<string, StoredTensor>;
  readonly config: Config;
  readonly id: string;
}

export function weightsPath(dir: string, name: string): string {
  return join(dir, `${name}.safetensors`);
}

export function statePath(dir: string, name: string): string {
  return join(dir, `${name}.state.safetensors`);
}

/** Writes both files atomically: the state first, then the weights, each by rename. */
export function saveCheckpoint(dir: string, name: string, params: ParamStore, optimizer: { step: number; buffers: ReadonlyMap<string, Buf> }, state: TrainingState): void {
  const id = `${state.step}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
  const header = { format: CHECKPOINT_FORMAT, version: String(CHECKPOINT_VERSION), id };
  const weights = new Map<string, StoredTensor>();
  for (const [k, t] of params) weights.set(k, { shape: t.shape, data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data) });
  const opt = new Map<string, StoredTensor>();
  for (const [k, b] of optimizer.buffers) opt.set(`optimizer.${k}`, { shape: [b.length], data: b });
  writeFileAtomic(statePath(dir, name), encodeSafetensors(opt, { ...header, state: JSON.stringify({ ...state, optimizerStep: optimizer.step }) }));
  writeFileAtomic(weightsPath(dir, name), encodeSafetensors(weights, { ...header, config: JSON.stringify(state.config) }));
}

function readSafetensors(path: string): ReturnType<typeof decodeSafetensors> {
  if (!existsSync(path)) throw new CheckpointError(`checkpoint file ${path} does not exist`);
  try {
    return decodeSafetensors(readFileSync(path));
  } catch (err) {
    if (err instanceof SafetensorsError) throw new CheckpointError(`${path} is not a readable checkpoint: ${err.message}`);
    throw new CheckpointError(`cannot read ${path}: ${(err as Error).message}`);
  }
}

function checkHeader(path: string, md: Record<string, string>): void {
  if (md.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`${path} is not an engram checkpoint (no "${CHECKPOINT_FORMAT}" metadata)`);
  if (md.version !== String(CHECKPOINT_VERSION)) {
    throw new CheckpointError(`${path} has checkpoint format version ${md.version}; this engram reads version ${CHECKPOINT_VERSION} (use the engram version that wrote it)`);
  }
}

function parseConfig(path: string, json: string | undefined): Config {
  try {
    return validateConfig(JSON.parse(json ?? 'null'));
  } catch (err) {
    throw new CheckpointError(`${path} holds an invalid config: ${(err as Error).message}`);
  }
}

/** Weights and the config they were trained with. */
export function loadWeights(path: string): LoadedWeights {
  const { tensors, metadata } = readSafetensors(path);
  checkHeader(path, metadata);
  return { tensors, config: parseConfig(path, metadata.config), id: metadata.id ?? '' };
}

/** The full checkpoint `name` in `dir`: weights, optimiser buffers and training state. */
export function loadCheckpoint(dir: string, name: string): { weights: LoadedWeights; optimizer: Map<string, Buf>; state: TrainingState } {
  const weights = loadWeights(weightsPath(dir, name));
  const sp = statePath(dir, name);
  const { tensors, metadata } = readSafetensors(sp);
  checkHeader(sp, metadata);
  if (metadata.id !== weights.id) throw new CheckpointError(`${sp} and ${weightsPath(dir, name)} come from different saves; restore them together`);
  let state: TrainingState;
  try {
    state = JSON.parse(metadata.state ?? '') as TrainingState;
  } catch {
    throw new CheckpointError(`${sp}: training state is not valid JSON`);
  }
  if (!Number.isInteger(state.step) || !Array.isArray(state.rng?.train) || !Array.isArray(state.rng?.eval)) {
    throw new CheckpointError(`${sp}: training state is incomplete`);
  }
  const optimizer = new Map<string, Buf>();
  for (const [k, t] of tensors) optimizer.set(k.replace(/^optimizer\./, ''), t.data);
  return { weights, optimizer, state: { ...state, config: parseConfig(sp, JSON.stringify(state.config)) } };
}

/** Copies stored weights into a model's parameters; names and shapes must match exactly. */
export function applyWeights(params: ParamStore, tensors: ReadonlyMap<string, StoredTensor>, source: string): void {
  for (const [name, p] of params) {
    const t = tensors.get(name);
    if (t === undefined) throw new CheckpointError(`${source} has no tensor ${name}; it was saved from a different model config`);
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new CheckpointError(`${source}: tensor ${name} has shape [${t.shape.join(', ')}] but the model needs [${p.shape.join(', ')}]`);
    }
  }
  for (const name of tensors.keys()) {
    if (!params.has(name)) throw new CheckpointError(`${source} has an unexpected tensor ${name}; it was saved from a different model config`);
  }
  for (const [name, p] of params) p.data.set(tensors.get(name)!.data);
}
