/**
 * @file Checkpoints, two safetensors files per name:
 *
 *   NAME.safetensors        the weights, float32, named as the model names them
 *                           (`controller.lstm.weight_ih`, `heads.write.0.key.weight`, `output.bias`),
 *                           with the config as metadata: all a reader needs to run the model
 *   NAME.state.safetensors  the optimiser buffers (`optimizer.exp_avg.output.weight`, shaped as
 *                           their parameter) and, as JSON metadata, the step, every random
 *                           stream, the best metric, the running training loss and the config
 *
 * Every file's metadata holds `format`, `version`, `kind`, a save `id` shared by the pair (so
 * a mixed pair is detected), and a sha256 over its tensors and metadata (so a flipped byte
 * anywhere is detected). Both files are written to temporaries first and renamed only when
 * both are on disk, so a failed save leaves the previous pair whole.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig, type Config } from '../config/schema.js';
import type { ParamStore } from '../models/params.js';
import type { Buf } from '../tensor/tensor.js';
import { writeFilesAtomic, type WriteOptions } from './atomic.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type StoredTensor } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'engram-checkpoint';
/** 2: sha256, `kind`, `step`, shaped optimiser buffers, `badInARow` and `runningLoss` in the state. */
export const CHECKPOINT_VERSION = 2;

/** A checkpoint that cannot be used; the message is one line saying why and what to do. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export interface BestRecord {
  readonly step: number;
  /** the curriculum level of its evaluation (absent: the whole range) */
  readonly level?: number;
  readonly bitErrorsPerSeq: number;
  readonly loss: number;
}

export interface TrainingState {
  readonly step: number;
  readonly optimizerStep: number;
  /** the four xoshiro128** words of each data stream */
  readonly rng: { readonly train: readonly number[]; readonly eval: readonly number[] };
  readonly best: BestRecord | null;
  readonly skippedSteps: number;
  /** non-finite steps in a row up to this step (train.maxBadSteps counts on across a resume) */
  readonly badInARow: number;
  readonly elapsedSec: number;
  readonly config: Config;
  /** training loss summed since the last evaluation, so a resumed run reports the same trainLoss */
  readonly runningLoss: { readonly sum: number; readonly count: number };
  /** the curriculum level training draws from (absent in checkpoints saved before curricula: the whole range) */
  readonly level?: number;
}

export interface LoadedWeights {
  readonly tensors: Map<string, StoredTensor>;
  readonly config: Config;
  readonly id: string;
  /** the training step the weights were saved at */
  readonly step: number;
}

export interface LoadedCheckpoint {
  readonly weights: LoadedWeights;
  /** optimiser buffers by their optimiser name, e.g. `exp_avg.output.weight` */
  readonly optimizer: Map<string, Buf>;
  readonly state: TrainingState;
}

export function weightsPath(dir: string, name: string): string {
  return join(dir, `${name}.safetensors`);
}

export function statePath(dir: string, name: string): string {
  return join(dir, `${name}.state.safetensors`);
}

/** sha256 over the metadata (but `sha256`) and every tensor's name, dtype, shape and bytes, in name order. */
function digest(tensors: ReadonlyMap<string, StoredTensor>, metadata: Record<string, string>): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(Object.entries(metadata).filter(([k]) => k !== 'sha256').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  for (const name of [...tensors.keys()].sort()) {
    const t = tensors.get(name)!;
    h.update(JSON.stringify([name, t.data instanceof Float64Array ? 'F64' : 'F32', t.shape]));
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex');
}

/** A safetensors file with `metadata` and its sha256 added, as every checkpoint file is written. */
export function encodeCheckpointFile(tensors: ReadonlyMap<string, StoredTensor>, metadata: Record<string, string>): Uint8Array {
  return encodeSafetensors(tensors, { ...metadata, sha256: digest(tensors, metadata) });
}

/** Writes the pair `name` in `dir`; on failure (a WriteError) the previous pair is untouched. */
export function saveCheckpoint(
  dir: string,
  name: string,
  params: ParamStore,
  optimizer: { step: number; buffers: ReadonlyMap<string, Buf> },
  state: TrainingState,
  writes: WriteOptions = {},
): void {
  const id = `${state.step}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
  const header = { format: CHECKPOINT_FORMAT, version: String(CHECKPOINT_VERSION), id, step: String(state.step) };
  const weights = new Map<string, StoredTensor>();
  for (const [k, t] of params) weights.set(k, { shape: t.shape, data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data) });
  const opt = new Map<string, StoredTensor>();
  for (const [k, b] of optimizer.buffers) {
    // `slot.param.name`: shape the buffer as its parameter when the name says which one it is
    const shape = params.get(k.slice(k.indexOf('.') + 1))?.shape;
    opt.set(`optimizer.${k}`, { shape: shape && shape.reduce((a, d) => a * d, 1) === b.length ? shape : [b.length], data: b });
  }
  writeFilesAtomic([
    [statePath(dir, name), encodeCheckpointFile(opt, { ...header, kind: 'training-state', state: JSON.stringify({ ...state, optimizerStep: optimizer.step }) })],
    [weightsPath(dir, name), encodeCheckpointFile(weights, { ...header, kind: 'weights', config: JSON.stringify(state.config) })],
  ], writes);
}

function readChecked(path: string, kind: 'weights' | 'training-state'): ReturnType<typeof decodeSafetensors> {
  if (!existsSync(path)) throw new CheckpointError(`checkpoint file ${path} does not exist`);
  let file;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new CheckpointError(`${path} is a directory, not a checkpoint file`);
    if (!st.isFile()) throw new CheckpointError(`${path} is not a regular file, so not a checkpoint`);
    file = decodeSafetensors(readFileSync(path));
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    if (err instanceof SafetensorsError) throw new CheckpointError(`${path} is not a readable checkpoint: ${err.message}`);
    throw new CheckpointError(`cannot read ${path}: ${String((err as Error).message).split('\n')[0]}`);
  }
  const md = file.metadata;
  if (md.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`${path} is not an engram checkpoint (no "${CHECKPOINT_FORMAT}" metadata)`);
  if (md.version !== String(CHECKPOINT_VERSION)) {
    throw new CheckpointError(
      `${path} has checkpoint format version ${md.version}; this engram reads version ${CHECKPOINT_VERSION} ` +
        '(test it with the engram version that wrote it, or train a new run)',
    );
  }
  if (md.sha256 !== digest(file.tensors, md)) throw new CheckpointError(`${path} is corrupt: its sha256 does not match its contents`);
  if (md.kind !== kind) {
    throw new CheckpointError(
      kind === 'weights'
        ? `${path} holds training state, not weights; pass the weights file beside it (${path.replace(/\.state\.safetensors$/, '.safetensors')})`
        : `${path} holds ${md.kind ?? 'something other than training state'}, not training state`,
    );
  }
  return file;
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
  const { tensors, metadata } = readChecked(path, 'weights');
  for (const [name, t] of tensors) {
    for (const v of t.data) if (!Number.isFinite(v)) throw new CheckpointError(`${path}: tensor ${name} holds a non-finite value`);
  }
  return { tensors, config: parseConfig(path, metadata.config), id: metadata.id ?? '', step: Number(metadata.step) };
}

const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;
const isWords = (v: unknown): boolean => Array.isArray(v) && v.length === 4 && v.every((w) => isCount(w) && w <= 0xffffffff);

/** The field of a parsed training state that is missing or of the wrong type, if any. */
function invalidStateField(s: Record<string, unknown>): string | null {
  const rng = s.rng as Record<string, unknown> | undefined;
  const best = s.best as Record<string, unknown> | null | undefined;
  const running = s.runningLoss as Record<string, unknown> | undefined;
  const checks: [string, boolean][] = [
    ['step', isCount(s.step)],
    ['optimizerStep', isCount(s.optimizerStep)],
    ['rng', typeof rng === 'object' && rng !== null && isWords(rng.train) && isWords(rng.eval)],
    ['best', best === null || (typeof best === 'object' && isCount(best.step) && typeof best.bitErrorsPerSeq === 'number' && typeof best.loss === 'number')],
    ['skippedSteps', isCount(s.skippedSteps)],
    ['badInARow', isCount(s.badInARow)],
    ['elapsedSec', typeof s.elapsedSec === 'number'],
    ['runningLoss', typeof running === 'object' && running !== null && typeof running.sum === 'number' && isCount(running.count)],
    ['level', s.level === undefined || isCount(s.level)],
  ];
  return checks.find(([, ok]) => !ok)?.[0] ?? null;
}

/** The full checkpoint `name` in `dir`: weights, optimiser buffers and training state. */
export function loadCheckpoint(dir: string, name: string): LoadedCheckpoint {
  const weights = loadWeights(weightsPath(dir, name));
  const sp = statePath(dir, name);
  const { tensors, metadata } = readChecked(sp, 'training-state');
  if (metadata.id !== weights.id) {
    throw new CheckpointError(`${sp} and ${weightsPath(dir, name)} come from different saves; restore them together`);
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(metadata.state ?? '') as Record<string, unknown>;
  } catch {
    throw new CheckpointError(`${sp}: the training state is not valid JSON`);
  }
  const bad = typeof raw === 'object' && raw !== null ? invalidStateField(raw) : 'state';
  if (bad !== null) throw new CheckpointError(`${sp}: the training state's "${bad}" is missing or invalid`);
  const optimizer = new Map<string, Buf>();
  for (const [k, t] of tensors) optimizer.set(k.replace(/^optimizer\./, ''), t.data);
  const state = { ...(raw as unknown as TrainingState), config: parseConfig(sp, JSON.stringify(raw.config)) };
  return { weights, optimizer, state };
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

/** The dotted config keys whose values differ between `a` and `b`, e.g. `model.hiddenSize`. */
export function configDifferences(a: unknown, b: unknown, prefix = ''): string[] {
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => configDifferences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k));
  }
  return Object.is(a, b) ? [] : [prefix || 'config'];
}
