/**
 * @file A checkpoint file as bytes, with no file system: the metadata every file carries
 * (`format`, `version`, `kind`, a save `id`, a sha256 over its tensors and metadata), the
 * checks made when one is read, and the weights file (`kind` weights, the config inside)
 * encoded from and applied to a model's parameters. checkpoint.ts reads and writes these on
 * disk; a browser downloads and drops them.
 */
import { validateConfig, type Config } from '../config/schema.js';
import type { ParamStore } from '../models/params.js';
import { Sha256 } from './sha256.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type StoredTensor } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'engram-checkpoint';
/** 2: sha256, `kind`, `step`, shaped optimiser buffers, `badInARow` and `runningLoss` in the state. */
export const CHECKPOINT_VERSION = 2;

/** A checkpoint that cannot be used; the message is one line saying why and what to do. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** An incremental SHA-256 (Node passes its crypto module's; the default is sha256.ts). */
export interface Hasher {
  update(data: string | Uint8Array): unknown;
  hex(): string;
}

export interface LoadedWeights {
  readonly tensors: Map<string, StoredTensor>;
  readonly config: Config;
  readonly id: string;
  /** the training step the weights were saved at */
  readonly step: number;
}

export type CheckpointKind = 'weights' | 'training-state';

/** sha256 over the metadata (but `sha256`) and every tensor's name, dtype, shape and bytes, in name order. */
function digest(tensors: ReadonlyMap<string, StoredTensor>, metadata: Record<string, string>, h: Hasher): string {
  h.update(JSON.stringify(Object.entries(metadata).filter(([k]) => k !== 'sha256').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  for (const name of [...tensors.keys()].sort()) {
    const t = tensors.get(name)!;
    h.update(JSON.stringify([name, t.data instanceof Float64Array ? 'F64' : 'F32', t.shape]));
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.hex();
}

/** A safetensors file with `metadata` and its sha256 added, as every checkpoint file is written. */
export function encodeCheckpointFile(tensors: ReadonlyMap<string, StoredTensor>, metadata: Record<string, string>, hasher: Hasher = new Sha256()): Uint8Array {
  return encodeSafetensors(tensors, { ...metadata, sha256: digest(tensors, metadata, hasher) });
}

/** A new save's metadata: format, version, a fresh id and the step. */
export function checkpointHeader(step: number): Record<string, string> {
  const id = `${step}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e9).toString(36)}`;
  return { format: CHECKPOINT_FORMAT, version: String(CHECKPOINT_VERSION), id, step: String(step) };
}

/** A model's parameters as the tensors of a weights file (float32). */
export function weightTensors(params: ParamStore): Map<string, StoredTensor> {
  const weights = new Map<string, StoredTensor>();
  for (const [k, t] of params) weights.set(k, { shape: t.shape, data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data) });
  return weights;
}

/** The weights file of `params` trained with `config` up to `step`, as `engram train` writes it. */
export function encodeWeightsFile(params: ParamStore, config: Config, step: number, header = checkpointHeader(step), hasher?: Hasher): Uint8Array {
  return encodeCheckpointFile(weightTensors(params), { ...header, kind: 'weights', config: JSON.stringify(config) }, hasher);
}

/**
 * Reads the bytes of checkpoint file `source` (its name, for messages) and checks it is an
 * engram checkpoint of this version and of `kind`, whole (its sha256).
 */
export function decodeCheckpointFile(bytes: Uint8Array, source: string, kind: CheckpointKind, hasher: Hasher = new Sha256()): ReturnType<typeof decodeSafetensors> {
  let file;
  try {
    file = decodeSafetensors(bytes);
  } catch (err) {
    const why = err instanceof SafetensorsError ? err.message : String((err as Error).message).split('\n')[0];
    throw new CheckpointError(`${source} is not a readable checkpoint: ${why}`);
  }
  const md = file.metadata;
  if (md.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`${source} is not an engram checkpoint (no "${CHECKPOINT_FORMAT}" metadata)`);
  if (md.version !== String(CHECKPOINT_VERSION)) {
    throw new CheckpointError(
      `${source} has checkpoint format version ${md.version}; this engram reads version ${CHECKPOINT_VERSION} ` +
        '(test it with the engram version that wrote it, or train a new run)',
    );
  }
  if (md.sha256 !== digest(file.tensors, md, hasher)) throw new CheckpointError(`${source} is corrupt: its sha256 does not match its contents`);
  if (md.kind !== kind) {
    throw new CheckpointError(
      kind === 'weights'
        ? `${source} holds training state, not weights; pass the weights file beside it (${source.replace(/\.state\.safetensors$/, '.safetensors')})`
        : `${source} holds ${md.kind ?? 'something other than training state'}, not training state`,
    );
  }
  return file;
}

export function parseConfig(source: string, json: string | undefined): Config {
  try {
    return validateConfig(JSON.parse(json ?? 'null'));
  } catch (err) {
    throw new CheckpointError(`${source} holds an invalid config: ${(err as Error).message}`);
  }
}

/** Weights and the config they were trained with, from the bytes of weights file `source`. */
export function decodeWeightsFile(bytes: Uint8Array, source: string, hasher?: Hasher): LoadedWeights {
  const { tensors, metadata } = decodeCheckpointFile(bytes, source, 'weights', hasher);
  for (const [name, t] of tensors) {
    for (const v of t.data) if (!Number.isFinite(v)) throw new CheckpointError(`${source}: tensor ${name} holds a non-finite value`);
  }
  return { tensors, config: parseConfig(source, metadata.config), id: metadata.id ?? '', step: Number(metadata.step) };
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

