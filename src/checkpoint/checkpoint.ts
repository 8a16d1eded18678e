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
import type { Config } from '../config/schema.js';
import type { ParamStore } from '../models/params.js';
import type { Buf } from '../tensor/tensor.js';
import { writeFilesAtomic, type WriteOptions } from './atomic.js';
import type { StoredTensor } from './safetensors.js';
import {
  checkpointHeader, CheckpointError, decodeCheckpointFile, decodeWeightsFile, encodeCheckpointFile, parseConfig, weightTensors,
  type CheckpointKind, type Hasher, type LoadedWeights,
} from './weights-file.js';

export {
  applyWeights, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, CheckpointError, decodeWeightsFile, encodeCheckpointFile, encodeWeightsFile, type LoadedWeights,
} from './weights-file.js';

/** Node's SHA-256 (several times faster than sha256.ts on a large model's weights). */
function nodeHasher(): Hasher {
  const h = createHash('sha256');
  return { update: (d) => h.update(d), hex: () => h.digest('hex') };
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

/**
 * Writes the pair `name` in `dir` (or the same pair under each of several names, as one write:
 * an evaluation that is both the best and the last, byte for byte the same files); on failure
 * (a WriteError) every previous pair is untouched.
 */
export function saveCheckpoint(
  dir: string,
  name: string | readonly string[],
  params: ParamStore,
  optimizer: { step: number; buffers: ReadonlyMap<string, Buf> },
  state: TrainingState,
  writes: WriteOptions = {},
): void {
  const header = checkpointHeader(state.step);
  const weights = weightTensors(params);
  const opt = new Map<string, StoredTensor>();
  for (const [k, b] of optimizer.buffers) {
    // `slot.param.name`: shape the buffer as its parameter when the name says which one it is
    const shape = params.get(k.slice(k.indexOf('.') + 1))?.shape;
    opt.set(`optimizer.${k}`, { shape: shape && shape.reduce((a, d) => a * d, 1) === b.length ? shape : [b.length], data: b });
  }
  const stateBytes = encodeCheckpointFile(opt, { ...header, kind: 'training-state', state: JSON.stringify({ ...state, optimizerStep: optimizer.step }) }, nodeHasher());
  const weightBytes = encodeCheckpointFile(weights, { ...header, kind: 'weights', config: JSON.stringify(state.config) }, nodeHasher());
  writeFilesAtomic((typeof name === 'string' ? [name] : name).flatMap((n) => [
    [statePath(dir, n), stateBytes] as const,
    [weightsPath(dir, n), weightBytes] as const,
  ]), writes);
}

/** The bytes of checkpoint file `path`, checked as decodeCheckpointFile does. */
function readChecked(path: string, kind: CheckpointKind): ReturnType<typeof decodeCheckpointFile> {
  return decodeCheckpointFile(readBytes(path), path, kind, nodeHasher());
}

function readBytes(path: string): Uint8Array {
  if (!existsSync(path)) throw new CheckpointError(`checkpoint file ${path} does not exist`);
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new CheckpointError(`${path} is a directory, not a checkpoint file`);
    if (!st.isFile()) throw new CheckpointError(`${path} is not a regular file, so not a checkpoint`);
    return readFileSync(path);
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    throw new CheckpointError(`cannot read ${path}: ${String((err as Error).message).split('\n')[0]}`);
  }
}

/** Weights and the config they were trained with. */
export function loadWeights(path: string): LoadedWeights {
  return decodeWeightsFile(readBytes(path), path, nodeHasher());
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

/** The dotted config keys whose values differ between `a` and `b`, e.g. `model.hiddenSize`. */
export function configDifferences(a: unknown, b: unknown, prefix = ''): string[] {
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => configDifferences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k));
  }
  return Object.is(a, b) ? [] : [prefix || 'config'];
}
