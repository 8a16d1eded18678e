/**
 * @file What a sweep runs: every combination of the `--grid` values, on every seed, each run
 * a config made from a preset and `key=value` overrides. A run is described by RunSpec alone
 * (preset, overrides, seed): that is all a queued job carries, and the worker makes its config
 * through the same schema (configOf), so nothing from a queue is ever run as code.
 *
 *   DIR/sweep.json                         the spec, the runs' outcomes and the summary
 *   DIR/{combination}/seed-{S}/            one ordinary run directory per combination and seed
 *
 * A combination is named by its grid assignments (`optimizer.lr=0.01,model.memorySlots=16`),
 * or `default` without a grid.
 */
import { findPreset, presetNames } from '../config/presets.js';
import { applyOverrides, cloneConfig, ConfigError, configKeys, type Config } from '../config/schema.js';
import { UserError } from './user-error.js';

/** One run: all a queued job carries. */
export interface RunSpec {
  readonly preset: string;
  /** `key=value` assignments applied in order, as `--set` applies them */
  readonly overrides: readonly string[];
  readonly seed: number;
}

export interface SweepSpec {
  readonly preset: string;
  readonly seeds: readonly number[];
  /** [key, values] in the order given */
  readonly grid: readonly (readonly [string, readonly string[]])[];
  /** `--set key=value`, applied to every run before the grid's values */
  readonly set: readonly string[];
  /** `--until-bit-errors X` (undefined: the preset's) */
  readonly untilBitErrors?: number;
}

export interface PlannedRun {
  /** `{combination}/seed-{S}`: its directory inside the sweep directory */
  readonly name: string;
  readonly combo: string;
  readonly seed: number;
  readonly spec: RunSpec;
  readonly config: Config;
}

export const DEFAULT_COMBO = 'default';
/** More runs than this in one sweep is almost surely a typing mistake (`--seeds 1-100000`). */
export const MAX_SWEEP_RUNS = 10_000;

/** `1-20`, `1,3,5` or `7` → seeds (whole numbers in the config's seed range, no repeats). */
export function parseSeeds(s: string): number[] {
  const bad = (): never => {
    throw new UserError(`--seeds must be a range A-B or a list A,B,... of whole numbers (e.g. 1-20 or 1,3,5), got "${s}"`);
  };
  const num = (t: string): number => (/^\d{1,10}$/.test(t.trim()) && Number(t) <= 0xffffffff ? Number(t) : bad());
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(s);
  let seeds: number[];
  if (m) {
    const a = num(m[1]!), b = num(m[2]!);
    if (b < a) throw new UserError(`--seeds ${s}: the range ends before it starts; write ${b}-${a}`);
    if (b - a + 1 > MAX_SWEEP_RUNS) throw new UserError(`--seeds ${s} is ${b - a + 1} seeds; a sweep runs at most ${MAX_SWEEP_RUNS} runs`);
    seeds = Array.from({ length: b - a + 1 }, (_, i) => a + i);
  } else {
    seeds = s.split(',').map(num);
  }
  const dup = seeds.find((v, i) => seeds.indexOf(v) !== i);
  if (dup !== undefined) throw new UserError(`--seeds ${s} names seed ${dup} twice`);
  return seeds;
}

/** `key=v1,v2,...` → [key, values]; the key must be a config key. */
export function parseGrid(s: string): [string, string[]] {
  const eq = s.indexOf('=');
  const key = s.slice(0, Math.max(0, eq)).trim();
  const values = s.slice(eq + 1).split(',').map((v) => v.trim());
  if (eq <= 0 || values.some((v) => v === '')) {
    throw new UserError(`--grid expects key=value1,value2,... (e.g. optimizer.lr=0.01,0.02), got "${s}"`);
  }
  if (!configKeys().includes(key)) throw new UserError(`--grid ${s}: unknown config key "${key}"; valid keys: ${configKeys().join(', ')}`);
  if (key === 'seed') throw new UserError('--grid seed=...: give seeds with --seeds');
  if (key === 'task.module') throw new UserError('--grid task.module=...: a sweep runs built-in tasks only');
  const dup = values.find((v, i) => values.indexOf(v) !== i);
  if (dup !== undefined) throw new UserError(`--grid ${s} names the value ${dup} twice`);
  return [key, values];
}

/** A name safe as a folder name (and as a dashboard run name): anything else becomes `_`. */
function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_.@+=,-]/g, '_').slice(0, 200);
}

/**
 * The config of one run: the preset, then the overrides (validated together, as `--set` is),
 * then the seed. A task module (code from a file) is refused: a run here is data only.
 */
export function configOf(spec: RunSpec): Config {
  const preset = findPreset(spec.preset);
  if (!preset) throw new UserError(`unknown preset "${spec.preset}"; presets: ${presetNames().join(', ')}`);
  const config = cloneConfig(preset.config);
  config.seed = spec.seed;
  applyOverrides(config, spec.overrides);
  if (config.task.module !== '') throw new ConfigError('task.module cannot be set in a sweep: a sweep runs built-in tasks only');
  return config;
}

/** Every combination of the grid (the first key varying slowest), each as its assignments. */
function combinations(grid: SweepSpec['grid']): string[][] {
  let out: string[][] = [[]];
  for (const [key, values] of grid) out = out.flatMap((c) => values.map((v) => [...c, `${key}=${v}`]));
  return out;
}

/**
 * Every run of the sweep, each config made and validated here, before anything starts: a bad
 * key or value in any combination is a one-line error naming it.
 */
export function planSweep(spec: SweepSpec): PlannedRun[] {
  const keys = new Set<string>();
  for (const [key] of spec.grid) {
    if (keys.has(key)) throw new UserError(`--grid names ${key} twice; give its values once, comma-separated`);
    keys.add(key);
  }
  for (const a of spec.set) {
    const key = a.slice(0, a.indexOf('=')).trim();
    if (keys.has(key)) throw new UserError(`${key} is given by both --set and --grid; keep one`);
  }
  const combos = combinations(spec.grid);
  if (combos.length * spec.seeds.length > MAX_SWEEP_RUNS) {
    throw new UserError(`this sweep is ${combos.length} combinations × ${spec.seeds.length} seeds; a sweep runs at most ${MAX_SWEEP_RUNS} runs`);
  }
  const runs: PlannedRun[] = [];
  for (const assignments of combos) {
    const combo = assignments.length === 0 ? DEFAULT_COMBO : safeName(assignments.join(','));
    // one thread per run: the sweep's parallelism is across runs
    const overrides = ['train.threads=1', ...spec.set, ...assignments,
      ...(spec.untilBitErrors !== undefined ? [`train.untilBitErrors=${spec.untilBitErrors}`] : [])];
    for (const seed of spec.seeds) {
      const runSpec: RunSpec = { preset: spec.preset, overrides, seed };
      let config: Config;
      try {
        config = configOf(runSpec);
      } catch (err) {
        if (err instanceof ConfigError && assignments.length > 0) throw new ConfigError(`${assignments.join(', ')}: ${err.message}`);
        throw err;
      }
      runs.push({ name: `${combo}/seed-${seed}`, combo, seed, spec: runSpec, config });
    }
  }
  return runs;
}
