/**
 * @file The run configuration: typed plain data, defaults in one place, validated at the
 * edge. Every leaf has a dotted path (`optimizer.lr`) that `--set` can override; unknown
 * keys and wrong types are errors that list the valid keys.
 */

export type TaskName = 'copy' | 'repeat-copy' | 'associative-recall' | 'dynamic-ngrams' | 'priority-sort';
/**
 * uniform: draw from the whole range throughout; grow: start at the smallest and widen as it
 * learns; mix: as grow, but every second batch from the whole range
 */
export type CurriculumName = 'uniform' | 'grow' | 'mix';
/** lstm: the memoryless baseline, a stack of LSTM layers (src/models/lstm-stack.ts) */
export type ModelType = 'ntm' | 'dnc' | 'lstm';
export type ControllerKind = 'lstm' | 'feedforward';
export type OptimizerName = 'rmsprop' | 'rmsprop-tf' | 'adam';

export interface TaskConfig {
  /** a built-in task, or (with `module`) the name the module's task gives itself */
  name: TaskName | string;
  /** bits per word (per vector, for associative-recall and priority-sort) */
  bits: number;
  /** copy and repeat-copy: words per sample */
  minWords: number;
  maxWords: number;
  /** repeat-copy only */
  minRepeats: number;
  maxRepeats: number;
  repeatNorm: number;
  /** associative-recall: vectors per item, and items per sample */
  itemSize: number;
  minItems: number;
  maxItems: number;
  /** dynamic-ngrams: n (each bit depends on the n − 1 before it), and bits per sequence */
  ngram: number;
  sequenceBits: number;
  /** priority-sort: vectors in, and the highest-priority ones to put out */
  sortInputs: number;
  sortOutputs: number;
  curriculum: CurriculumName;
  /** grow and mix: widen the range one step when the evaluation's bit errors per sequence fall below this */
  curriculumThreshold: number;
  /** a user's task: the absolute path of an ES module whose default export makes it ('' for a built-in task) */
  module: string;
}

/** The LSTM baseline uses hiddenSize, layers and clip; the memory and head keys are ignored for it. */
export interface ModelConfig {
  type: ModelType;
  /** NTM and DNC only */
  controller: ControllerKind;
  /** H: the controller's width, or every LSTM layer's */
  hiddenSize: number;
  /** LSTM only: stacked LSTM layers, each hiddenSize wide (no effect on the NTM or the DNC) */
  layers: number;
  /** N */
  memorySlots: number;
  /** W */
  wordSize: number;
  /** R */
  readHeads: number;
  /** Wh */
  writeHeads: number;
  /** NTM only: offsets −shiftRange..+shiftRange */
  shiftRange: number;
  /** clamp for the controller output (each LSTM layer's output) and the logits */
  clip: number;
}

export interface OptimizerConfig {
  name: OptimizerName;
  lr: number;
  /** RMSprop smoothing constant */
  alpha: number;
  eps: number;
  momentum: number;
  /** Adam */
  beta1: number;
  beta2: number;
  /** global-norm gradient clipping; 0 disables it */
  clipNorm: number;
  /**
   * Step decay of the learning rate (PyTorch's StepLR): lr × lrDecayFactor^⌊(step − 1) / lrDecayEvery⌋
   * at optimiser step `step`; 0 keeps lr constant
   */
  lrDecayEvery: number;
  /** the factor of each decay, in (0, 1] */
  lrDecayFactor: number;
}

export interface TrainConfig {
  batchSize: number;
  steps: number;
  evalEvery: number;
  evalBatches: number;
  /** stop early once eval bitErrorsPerSeq falls below this (0 disables) */
  untilBitErrors: number;
  /** give up after this many non-finite steps in a row */
  maxBadSteps: number;
  /**
   * threads computing each step's gradients, each on a contiguous slice of the batch, summed
   * in slice order: deterministic for a given count, but a different count rounds differently
   */
  threads: number;
  /**
   * samples per length group (src/tasks/groups.ts): a step sorts its batch's samples by the time
   * steps they need and runs them in groups of this many, each padded only to its longest
   * sample; 0 runs the whole batch padded to its longest. The same results up to the order in
   * which the samples' gradients are summed, for less work.
   */
  lengthGroupSize: number;
  /**
   * length groups run side by side (0: all of them): a time step runs every one of them still
   * going in one batch, so the products cover all their samples at once; 1 runs the groups one
   * after another, so a group's state stays in the cache (the faster for large memories)
   */
  lengthGroupsAtOnce: number;
}

export interface Config {
  seed: number;
  task: TaskConfig;
  model: ModelConfig;
  optimizer: OptimizerConfig;
  train: TrainConfig;
}

/** Every default, in one place. */
export const DEFAULTS: Config = {
  seed: 1,
  task: {
    name: 'copy', bits: 8, minWords: 5, maxWords: 10, minRepeats: 1, maxRepeats: 2, repeatNorm: 10,
    itemSize: 3, minItems: 2, maxItems: 6, ngram: 6, sequenceBits: 200, sortInputs: 20, sortOutputs: 16,
    curriculum: 'uniform', curriculumThreshold: 0.1, module: '',
  },
  model: {
    type: 'ntm', controller: 'lstm', hiddenSize: 100, layers: 1, memorySlots: 128, wordSize: 20,
    readHeads: 1, writeHeads: 1, shiftRange: 1, clip: 20,
  },
  optimizer: { name: 'rmsprop', lr: 1e-4, alpha: 0.9, eps: 1e-10, momentum: 0, beta1: 0.9, beta2: 0.999, clipNorm: 50, lrDecayEvery: 0, lrDecayFactor: 0.1 },
  train: { batchSize: 16, steps: 100_000, evalEvery: 500, evalBatches: 50, untilBitErrors: 0, maxBadSteps: 20, threads: 1, lengthGroupSize: 4, lengthGroupsAtOnce: 0 },
};

/** The built-in tasks' names (a user's task takes another). */
export const BUILT_IN_TASKS: readonly string[] = ['copy', 'repeat-copy', 'associative-recall', 'dynamic-ngrams', 'priority-sort'];

const ENUMS: Record<string, readonly string[]> = {
  'task.name': BUILT_IN_TASKS,
  'task.curriculum': ['uniform', 'grow', 'mix'],
  'model.type': ['ntm', 'dnc', 'lstm'],
  'model.controller': ['lstm', 'feedforward'],
  'optimizer.name': ['rmsprop', 'rmsprop-tf', 'adam'],
};

const INTEGERS = new Set([
  'seed', 'task.bits', 'task.minWords', 'task.maxWords', 'task.minRepeats', 'task.maxRepeats',
  'task.itemSize', 'task.minItems', 'task.maxItems', 'task.ngram', 'task.sequenceBits', 'task.sortInputs', 'task.sortOutputs',
  'model.hiddenSize', 'model.layers', 'model.memorySlots', 'model.wordSize', 'model.readHeads', 'model.writeHeads', 'model.shiftRange',
  'train.batchSize', 'train.steps', 'train.evalEvery', 'train.evalBatches', 'train.maxBadSteps', 'train.threads',
  'train.lengthGroupSize', 'train.lengthGroupsAtOnce', 'optimizer.lrDecayEvery',
]);

/** Keys added after runs were first saved, with the value that gives those runs' behaviour. */
const ADDED_LATER: Record<string, number | string> = {
  'model.layers': 1, 'train.threads': 1, 'train.lengthGroupSize': 0, 'train.lengthGroupsAtOnce': 1,
  'task.itemSize': 3, 'task.minItems': 2, 'task.maxItems': 6, 'task.ngram': 6, 'task.sequenceBits': 200,
  'task.sortInputs': 20, 'task.sortOutputs': 16, 'task.curriculum': 'uniform', 'task.curriculumThreshold': 0.1, 'task.module': '',
  'optimizer.lrDecayEvery': 0, 'optimizer.lrDecayFactor': 0.1,
};

/** Upper bounds that keep a typo from exhausting the machine (a step's buffers grow with their product). */
const MAXIMA: Record<string, number> = {
  'task.bits': 1024, 'task.maxWords': 10_000, 'task.maxRepeats': 1000,
  'task.itemSize': 100, 'task.maxItems': 1000, 'task.ngram': 16, 'task.sequenceBits': 100_000, 'task.sortInputs': 10_000,
  'model.hiddenSize': 8192, 'model.layers': 64, 'model.memorySlots': 65_536, 'model.wordSize': 4096,
  'model.readHeads': 64, 'model.writeHeads': 64,
  'train.batchSize': 4096, 'train.evalBatches': 100_000, 'train.steps': 1e9, 'train.evalEvery': 1e9, 'train.lengthGroupSize': 4096,
  'train.lengthGroupsAtOnce': 4096,
};

/** Keys the LSTM baseline ignores: not checked for it (a preset's memory values need not fit it). */
const MEMORY_KEYS = new Set(['model.memorySlots', 'model.wordSize', 'model.readHeads', 'model.writeHeads', 'model.shiftRange']);

/** Step buffers above this are refused up front rather than failing part-way. */
const MAX_STEP_BYTES = 4 * 2 ** 30;

/** A mistake in a config or an override, reported as one line. */
export class ConfigError extends Error {}

/** Every leaf path of the config, e.g. `optimizer.lr`. */
export function configKeys(): string[] {
  const keys: string[] = [];
  const walk = (o: Record<string, unknown>, prefix: string): void => {
    for (const [k, v] of Object.entries(o)) {
      const p = prefix ? `${prefix}.${k}` : k;
      if (typeof v === 'object' && v !== null) walk(v as Record<string, unknown>, p);
      else keys.push(p);
    }
  };
  walk(DEFAULTS as unknown as Record<string, unknown>, '');
  return keys;
}

export function cloneConfig(c: Config): Config {
  return JSON.parse(JSON.stringify(c)) as Config;
}

function leafDefault(path: string): unknown {
  let o: unknown = DEFAULTS;
  for (const part of path.split('.')) o = (o as Record<string, unknown>)[part];
  return o;
}

function validKeysHint(): string {
  return `valid keys: ${configKeys().join(', ')}`;
}

/** Applies `key=value` (from `--set`) to a config, parsing the value by the key's type, and validates it. */
export function applyOverride(config: Config, assignment: string): void {
  setOverride(config, assignment);
  validateConfig(config);
}

/**
 * Applies several `key=value` assignments, then validates once: keys that constrain each
 * other (`task.minWords=20 task.maxWords=30`) may come in any order.
 */
export function applyOverrides(config: Config, assignments: readonly string[]): void {
  for (const a of assignments) setOverride(config, a);
  validateConfig(config);
}

function setOverride(config: Config, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new ConfigError(`--set expects key=value, got "${assignment}"`);
  const path = assignment.slice(0, eq).trim();
  const raw = assignment.slice(eq + 1).trim();
  if (!configKeys().includes(path)) throw new ConfigError(`unknown config key "${path}"; ${validKeysHint()}`);
  const def = leafDefault(path);
  let value: unknown;
  if (typeof def === 'number') {
    value = Number(raw);
    if (raw === '' || !Number.isFinite(value)) throw new ConfigError(`${path} must be a number, got "${raw}"`);
  } else {
    value = raw;
  }
  const parts = path.split('.');
  let o = config as unknown as Record<string, unknown>;
  for (const p of parts.slice(0, -1)) o = o[p] as Record<string, unknown>;
  o[parts[parts.length - 1]!] = value;
}

/** Checks every key, type and range; returns the config typed. */
export function validateConfig(raw: unknown): Config {
  const check = (o: unknown, def: unknown, prefix: string): void => {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) {
      throw new ConfigError(`${prefix || 'config'} must be an object`);
    }
    const rec = o as Record<string, unknown>;
    const defRec = def as Record<string, unknown>;
    for (const k of Object.keys(rec)) {
      const p = prefix ? `${prefix}.${k}` : k;
      if (!(k in defRec)) throw new ConfigError(`unknown config key "${p}"; ${validKeysHint()}`);
    }
    for (const [k, d] of Object.entries(defRec)) {
      const p = prefix ? `${prefix}.${k}` : k;
      if (!(k in rec) && p in ADDED_LATER) rec[k] = ADDED_LATER[p]; // a run saved before the key existed
      if (!(k in rec)) throw new ConfigError(`config is missing "${p}"`);
      const v = rec[k];
      if (typeof d === 'object') check(v, d, p);
      else if (typeof v !== typeof d) throw new ConfigError(`${p} must be a ${typeof d}, got ${JSON.stringify(v)}`);
      else if (typeof v === 'number' && !Number.isFinite(v)) throw new ConfigError(`${p} must be finite`);
      else if (ENUMS[p] && !ENUMS[p]!.includes(v as string) && !(p === 'task.name' && isModuleTask(rec))) {
        throw new ConfigError(`${p} must be one of ${ENUMS[p]!.join(', ')}, got "${String(v)}"`);
      } else if (INTEGERS.has(p) && !Number.isInteger(v)) throw new ConfigError(`${p} must be an integer, got ${String(v)}`);
    }
  };
  check(raw, DEFAULTS, '');
  const c = raw as Config;
  const checked = (k: string): boolean => c.model.type !== 'lstm' || !MEMORY_KEYS.has(k);
  const positive: [string, number][] = [
    ['task.bits', c.task.bits], ['task.minWords', c.task.minWords], ['task.minRepeats', c.task.minRepeats],
    ['task.repeatNorm', c.task.repeatNorm], ['model.hiddenSize', c.model.hiddenSize], ['model.layers', c.model.layers],
    ['model.memorySlots', c.model.memorySlots], ['model.wordSize', c.model.wordSize],
    ['model.readHeads', c.model.readHeads], ['model.writeHeads', c.model.writeHeads], ['model.clip', c.model.clip],
    ['optimizer.lr', c.optimizer.lr], ['train.batchSize', c.train.batchSize], ['train.steps', c.train.steps],
    ['train.evalEvery', c.train.evalEvery], ['train.evalBatches', c.train.evalBatches], ['train.maxBadSteps', c.train.maxBadSteps], ['train.threads', c.train.threads],
  ];
  for (const [k, v] of positive) if (checked(k) && !(v > 0)) throw new ConfigError(`${k} must be > 0, got ${v}`);
  if (c.train.lengthGroupSize < 0) throw new ConfigError(`train.lengthGroupSize must be 0 (off) or more, got ${c.train.lengthGroupSize}`);
  if (c.train.lengthGroupsAtOnce < 0) throw new ConfigError(`train.lengthGroupsAtOnce must be 0 (all) or more, got ${c.train.lengthGroupsAtOnce}`);
  for (const [k, max] of Object.entries(MAXIMA)) {
    if (!checked(k)) continue;
    const v = k.split('.').reduce<unknown>((o, part) => (o as Record<string, unknown>)[part], c) as number;
    if (v > max) throw new ConfigError(`${k} must be at most ${max}, got ${v}`);
  }
  const stepBytes = estimateStepBytes(c);
  if (stepBytes > MAX_STEP_BYTES) {
    throw new ConfigError(`this config needs about ${(stepBytes / 2 ** 30).toFixed(0)} GiB of buffers per training step; ` +
      'lower train.batchSize, model.memorySlots, model.wordSize or task.maxWords');
  }
  if (c.train.threads > Math.min(64, c.train.batchSize)) {
    throw new ConfigError(`train.threads (${c.train.threads}) must be at most the batch size (${c.train.batchSize}) and 64`);
  }
  // the random streams take the seed as a uint32: any other value would alias one of those
  if (!(c.seed >= 0 && c.seed <= 0xffffffff)) throw new ConfigError(`seed must be in 0..4294967295, got ${c.seed}`);
  validateTask(c.task);
  if (checked('model.shiftRange') && (c.model.shiftRange < 0 || 2 * c.model.shiftRange + 1 > c.model.memorySlots)) {
    throw new ConfigError(`model.shiftRange must be in 0..${Math.floor((c.model.memorySlots - 1) / 2)} for ${c.model.memorySlots} slots`);
  }
  for (const [k, v] of [['optimizer.alpha', c.optimizer.alpha], ['optimizer.beta1', c.optimizer.beta1], ['optimizer.beta2', c.optimizer.beta2], ['optimizer.momentum', c.optimizer.momentum]] as const) {
    if (!(v >= 0 && v < 1)) throw new ConfigError(`${k} must be in [0, 1), got ${v}`);
  }
  // ε = 0 divides 0 by 0 wherever a gradient element is 0 (every step would be skipped as non-finite)
  if (!(c.optimizer.eps > 0)) throw new ConfigError(`optimizer.eps must be > 0, got ${c.optimizer.eps}`);
  if (!(c.optimizer.clipNorm >= 0)) throw new ConfigError(`optimizer.clipNorm must be ≥ 0 (0 disables clipping)`);
  if (!(c.optimizer.lrDecayEvery >= 0)) throw new ConfigError(`optimizer.lrDecayEvery must be ≥ 0 (steps between decays; 0 keeps the rate constant), got ${c.optimizer.lrDecayEvery}`);
  if (!(c.optimizer.lrDecayFactor > 0 && c.optimizer.lrDecayFactor <= 1)) throw new ConfigError(`optimizer.lrDecayFactor must be in (0, 1], got ${c.optimizer.lrDecayFactor}`);
  if (!(c.train.untilBitErrors >= 0)) throw new ConfigError(`train.untilBitErrors must be ≥ 0 (0 disables it)`);
  return c;
}

/** A task config that names a user's module (its name is the module's own, not a built-in one). */
function isModuleTask(task: Record<string, unknown>): boolean {
  return typeof task.module === 'string' && task.module !== '';
}

/** The task's ranges: each a one-line error naming the key and what it may be. */
function validateTask(t: TaskConfig): void {
  const atLeast = (k: keyof TaskConfig, lo: number, why = ''): void => {
    if (!((t[k] as number) >= lo)) throw new ConfigError(`task.${k} must be at least ${lo}${why}, got ${String(t[k])}`);
  };
  const range = (lo: keyof TaskConfig, hi: keyof TaskConfig): void => {
    if ((t[hi] as number) < (t[lo] as number)) throw new ConfigError(`task.${hi} (${String(t[hi])}) is below task.${lo} (${String(t[lo])})`);
  };
  range('minWords', 'maxWords');
  range('minRepeats', 'maxRepeats');
  if (t.name === 'associative-recall') {
    atLeast('itemSize', 1);
    atLeast('minItems', 2, ' (the query needs an item after it)');
    range('minItems', 'maxItems');
    // the items of a sequence are distinct (else a query could have two answers)
    const distinct = 2 ** Math.min(60, t.bits * t.itemSize);
    if (t.maxItems > distinct) {
      throw new ConfigError(`task.maxItems must be at most ${distinct} (the distinct items of task.itemSize × task.bits = ${t.itemSize} × ${t.bits} bits), got ${t.maxItems}`);
    }
  }
  if (t.name === 'dynamic-ngrams') {
    atLeast('ngram', 2, ' (a bit predicted from the ones before it)');
    atLeast('sequenceBits', 1);
  }
  if (t.name === 'priority-sort') {
    atLeast('sortInputs', 1);
    atLeast('sortOutputs', 1);
    if (t.sortOutputs > t.sortInputs) throw new ConfigError(`task.sortOutputs must be in 1..task.sortInputs (${t.sortInputs}), got ${t.sortOutputs}`);
  }
  if (!(t.curriculumThreshold >= 0)) throw new ConfigError(`task.curriculumThreshold must be ≥ 0, got ${t.curriculumThreshold}`);
  if (t.module !== '' && t.name === '') throw new ConfigError('task.name must name the module\'s task');
}

/**
 * Time steps of the task's longest training sample (its maximum length and repeats); for a
 * user's task, whose steps only its module knows, the copy task's of task.maxWords.
 */
export function longestSequence(t: TaskConfig): number {
  switch (t.module === '' ? t.name : '') {
    case 'repeat-copy': return t.maxWords * (t.maxRepeats + 1) + 3;
    case 'associative-recall': return (t.maxItems + 2) * (t.itemSize + 1);
    case 'dynamic-ngrams': return t.sequenceBits + t.ngram - 2;
    case 'priority-sort': return t.sortInputs + t.sortOutputs + 2;
    default: return 2 * t.maxWords + 2;
  }
}

/**
 * A rough upper estimate of the buffers one training step holds: per time step, the memory and
 * its gradients (about 8 + one per head copies of B·N·W) and, for the DNC, the link matrices;
 * the LSTM baseline has no memory, only its layers' states and gates.
 */
export function estimateStepBytes(c: Config): number {
  return longestSequence(c.task) * timeStepBytes(c);
}

/** The buffers of one time step of a training step (estimateStepBytes is this times T). */
export function timeStepBytes(c: Config): number {
  const { memorySlots: N, wordSize: W, readHeads: R, writeHeads: Wh, hiddenSize: H } = c.model;
  const perStep = c.model.type === 'lstm'
    ? 20 * H * c.model.layers
    : N * W * (8 + R + Wh) + (c.model.type === 'dnc' ? 6 * Wh * N * N : 0) + 20 * H;
  return 4 * c.train.batchSize * perStep;
}
