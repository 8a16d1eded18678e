/**
 * @file `engram bench`: times training steps of a preset (after warm-up) and reports
 * median, p10 and p90 milliseconds per step, sequences per second and peak memory.
 */
import { findPreset, presetNames } from '../config/presets.js';
import { cloneConfig, validateConfig } from '../config/schema.js';
import { createModel, releaseModel } from '../models/registry.js';
import { forwardFlopsPerTimeStep } from '../models/flops.js';
import { Rng } from '../tensor/random.js';
import { createTask } from '../tasks/registry.js';
import { LengthGroups } from '../tasks/groups.js';
import type { Batch } from '../tasks/batch.js';
import { seedStreams, Trainer } from '../train/trainer.js';
import { setKernels, activeKernels, kernelsName } from '../kernels/wasm.js';
import { kernelBuild, setKernelBuild } from '../kernels/heap.js';
import { setStepReplay, stepReplayEnabled } from '../train/replay.js';
import { PerformanceObserver } from 'node:perf_hooks';
import { intFlag, parseFlags } from './args.js';
import { UserError } from './errors.js';

export const BENCH_HELP = `usage: engram bench [--preset NAME] [--steps N] [--warmup N] [--kernels wasm|ts] [--replay on|off] [--threads N] [--length-groups N] [--groups-at-once N] [--json]

  --preset NAME      time this preset (default: ntm-copy and dnc-repeat-copy)
  --steps N          timed training steps after the warm-up (default 200)
  --warmup N         untimed steps first (default: 20 steps, and more until 3 s have passed
                     and 200 steps have gone by with no new step shape (up to 20 s), at most
                     2000: V8 keeps optimising the step's code for a few hundred short steps,
                     with gradient threads those compiles stall a step now and then, and a
                     step of a new shape is recorded for replay the slow way)
  --kernels K        wasm (the SIMD kernels, default) or ts (their plain TypeScript twins)
  --fma on|off       the WASM kernels' build with fused multiply-adds (on, default where the
                     CPU has them) or the one without (off; as ENGRAM_FMA=0)
  --replay on|off    replay each batch shape's recorded kernel calls (on, default) or run
                     every step through the model's code and the tape (off)
  --threads N        gradient threads per step (train.threads; default: the preset's)
  --length-groups N  samples per length group (train.lengthGroupSize; 0: whole padded batches;
                     default: the preset's)
  --groups-at-once N length groups run side by side (train.lengthGroupsAtOnce; 0: all;
                     default: the preset's)
  --json             print the result as one JSON object on the last line (msPerStep, p10, p90, ...)`;

/** Timed steps per window of the heap measurement (a reading of the heap's size makes an object of its own). */
const HEAP_WINDOW = 20;

/** What reading the used heap's size twice makes by itself: the median growth between two readings. */
function readingCost(): number {
  const g: number[] = [];
  for (let w = 0; w < 50; w++) {
    const h0 = process.memoryUsage().heapUsed;
    const grown = process.memoryUsage().heapUsed - h0;
    if (grown >= 0) g.push(grown); // else a collection ran
  }
  return g.length > 0 ? quantile(g.sort((a, b) => a - b), 0.5) : 0;
}

export interface BenchResult {
  preset: string;
  threads: number;
  /** train.lengthGroupSize of the timed steps */
  lengthGroupSize: number;
  /** train.lengthGroupsAtOnce of the timed steps */
  lengthGroupsAtOnce: number;
  steps: number;
  msPerStep: number;
  p10: number;
  p90: number;
  sequencesPerSec: number;
  /** an analytic FLOP count of the step (3× its forward pass over the time steps it runs) over the median time */
  gflops: number;
  /** time steps a step runs per sample, on average: the padded length T, or less in length groups */
  meanT: number;
  peakRssMB: number;
  /**
   * buffers the step's pool had to make, per timed step whose shape an earlier step already had
   * (the steady state; 0: every buffer reused). A step of a new shape makes its buffers once;
   * those are counted in newShapes instead.
   */
  bufferAllocsPerStep: number;
  /**
   * timed steps of a shape no earlier step had: a new padded length T or, in length groups, new
   * group lengths (what a step runs: its rows schedule, MemoryModel.forward)
   */
  newShapes: number;
  /** this thread's garbage-collection pauses during the timed steps, per step (the step's short-lived JavaScript objects) */
  gcMsPerStep: number;
  /**
   * JavaScript heap a step allocates on this thread, in bytes: the used heap's growth over a
   * window of HEAP_WINDOW timed steps, per step, the median over the windows in which no
   * collection ran, less what reading the heap's size allocates itself
   */
  jsBytesPerStep: number;
  /** untimed steps run first */
  warmupSteps: number;
}

/** The default warm-up: at least this many steps ... */
const WARMUP_MIN_STEPS = 20;
/** ... and more until this much time has passed ... */
const WARMUP_MIN_MS = 3000;
/**
 * ... and while one of the last this many steps had a shape no step before it had (its first
 * steps are recorded and checked, the ordinary way: step replay), up to WARMUP_MAX_MS ...
 */
const WARMUP_SETTLE_STEPS = 200;
const WARMUP_MAX_MS = 20_000;
/** ... but no more than this many steps. */
const WARMUP_MAX_STEPS = 2000;

function quantile(sorted: ArrayLike<number>, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** @param warmup untimed steps first; undefined: the default rule (WARMUP_MIN_STEPS, WARMUP_MIN_MS, WARMUP_MAX_STEPS) */
export async function benchPreset(name: string, steps: number, warmup?: number, threads?: number, lengthGroupSize?: number, groupsAtOnce?: number): Promise<BenchResult> {
  const preset = findPreset(name);
  if (!preset) throw new UserError(`unknown preset "${name}"; presets: ${presetNames().join(', ')}`);
  const config = cloneConfig(preset.config);
  if (threads !== undefined) config.train.threads = threads;
  if (lengthGroupSize !== undefined) config.train.lengthGroupSize = lengthGroupSize;
  if (groupsAtOnce !== undefined) config.train.lengthGroupsAtOnce = groupsAtOnce;
  validateConfig(config);
  const streams = seedStreams(config.seed);
  const task = createTask(config.task);
  const model = createModel(config.model, task.inputSize, task.outputSize, streams.init);
  // the same task, noting each batch's length
  let last: Batch | null = null;
  const noting = Object.create(task) as typeof task;
  noting.sample = (rng, B, options) => {
    const b = task.sample(rng, B, options);
    last = b;
    return b;
  };
  const trainer = new Trainer(model, noting, config, streams);
  const times = new Float64Array(steps);
  let warmupSteps = 0;
  const seen = new Set<number>();
  let repeatSteps = 0;
  let newShapes = 0;
  // Whether a step (read after it) ran a shape no step before it had, noting its shapes: its T or,
  // in length groups, each run of groups side by side as step replay tells them apart (as a
  // number: the steps of the run's groups and how many samples they have). With gradient threads
  // each thread runs runs of its own share, which may all be old when the batch's are new: the
  // count is then an upper bound.
  const shapeGroups = new LengthGroups();
  const hash = (key: number, v: number): number => (key * 1009 + v) % 2_147_483_647;
  const newShape = (b: Batch): boolean => {
    const size = config.train.lengthGroupSize;
    if (size <= 0) return seen.size !== seen.add(b.T).size;
    const n = shapeGroups.plan(b, size), per = config.train.lengthGroupsAtOnce > 0 ? config.train.lengthGroupsAtOnce : n;
    let fresh = false;
    for (let k = 0; k < n; k += per) {
      let key = 0, rows = 0;
      for (let j = k; j < Math.min(n, k + per); j++) {
        key = hash(key, shapeGroups.steps(j));
        rows += shapeGroups.rows(j);
      }
      key = hash(key, 100_000 + rows);
      if (!seen.has(key)) {
        seen.add(key);
        fresh = true;
      }
    }
    return fresh;
  };
  let peak = process.memoryUsage.rss();
  let fresh0 = 0;
  const windows: number[] = [];
  let heap0 = 0;
  let fresh = 0;
  let gcMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  try {
    const w0 = performance.now();
    let lastNew = 0; // the last warm-up step of a new shape
    const warming = (): boolean => {
      if (warmup !== undefined) return warmupSteps < warmup;
      if (warmupSteps < WARMUP_MIN_STEPS) return true;
      const ms = performance.now() - w0;
      return warmupSteps < WARMUP_MAX_STEPS && (ms < WARMUP_MIN_MS || (warmupSteps - lastNew < WARMUP_SETTLE_STEPS && ms < WARMUP_MAX_MS));
    };
    while (warming()) {
      trainer.trainStep();
      if (newShape(last!)) lastNew = warmupSteps;
      warmupSteps++;
    }
    gc.observe({ entryTypes: ['gc'] });
    for (let i = 0; i < steps; i++) {
      if (i % HEAP_WINDOW === 0) {
        peak = Math.max(peak, process.memoryUsage.rss());
        heap0 = process.memoryUsage().heapUsed;
      }
      fresh0 = trainer.trainPool.fresh;
      const t = performance.now();
      trainer.trainStep();
      times[i] = performance.now() - t;
      if (i % HEAP_WINDOW === HEAP_WINDOW - 1) {
        const grown = process.memoryUsage().heapUsed - heap0;
        if (grown >= 0) windows.push(grown); // else a collection ran in the window
      }
      if (!newShape(last!)) {
        fresh += trainer.trainPool.fresh - fresh0;
        repeatSteps++;
      } else {
        newShapes++;
      }
    }
    peak = Math.max(peak, process.memoryUsage.rss());
    await new Promise((resolve) => setTimeout(resolve, 20)); // GC entries arrive asynchronously
  } finally {
    gc.disconnect();
    trainer.dispose(); // the next preset of this process reuses the memory
    releaseModel(model);
  }
  times.sort();
  // what a window's reading of the heap's size makes by itself: an empty window's growth
  const reading = readingCost();
  const median = quantile(times, 0.5);
  // the time steps a step runs, from a stream of batches of its own: the mean padded length T
  const rng = new Rng(config.seed, 'bench-length');
  // (in length groups, the time steps a step runs per sample: Σ rows × steps over its groups / B)
  const groups = new LengthGroups(), B = config.train.batchSize, size = config.train.lengthGroupSize;
  let sumT = 0;
  for (let i = 0; i < 200; i++) {
    const batch = task.sample(rng, B);
    if (size <= 0) {
      sumT += batch.T;
      continue;
    }
    const n = groups.plan(batch, size);
    for (let k = 0; k < n; k++) sumT += (groups.rows(k) * groups.steps(k)) / B;
  }
  const meanT = sumT / 200;
  const flops = 3 * meanT * forwardFlopsPerTimeStep(config.model, task.inputSize, task.outputSize, config.train.batchSize);
  return {
    preset: name,
    threads: config.train.threads,
    lengthGroupSize: config.train.lengthGroupSize,
    lengthGroupsAtOnce: config.train.lengthGroupsAtOnce,
    steps,
    msPerStep: median,
    p10: quantile(times, 0.1),
    p90: quantile(times, 0.9),
    sequencesPerSec: (1000 * config.train.batchSize) / median,
    gflops: flops / (median * 1e6),
    meanT,
    peakRssMB: peak / 2 ** 20,
    bufferAllocsPerStep: repeatSteps > 0 ? fresh / repeatSteps : 0,
    newShapes,
    gcMsPerStep: gcMs / steps,
    jsBytesPerStep: windows.length > 0 ? Math.max(0, quantile(windows.sort((a, b) => a - b), 0.5) - reading) / HEAP_WINDOW : NaN,
    warmupSteps,
  };
}

export async function benchCommand(argv: string[]): Promise<number> {
  const f = parseFlags('bench', argv, {
    preset: { type: 'string' }, steps: { type: 'string' }, warmup: { type: 'string' }, kernels: { type: 'string' }, fma: { type: 'string' }, replay: { type: 'string' }, threads: { type: 'string' }, 'length-groups': { type: 'string' }, 'groups-at-once': { type: 'string' }, json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (f.help) {
    console.log(BENCH_HELP);
    return 0;
  }
  if (f.kernels !== undefined) {
    if (f.kernels !== 'wasm' && f.kernels !== 'ts') throw new UserError(`--kernels must be wasm or ts, got "${String(f.kernels)}"`);
    setKernels(f.kernels);
  }
  if (f.fma !== undefined) {
    if (f.fma !== 'on' && f.fma !== 'off') throw new UserError(`--fma must be on or off, got "${String(f.fma)}"`);
    if (!setKernelBuild(f.fma === 'on' ? 'fma' : 'simd')) {
      throw new UserError(`--fma ${f.fma}: the kernels' ${f.fma === 'on' ? 'fused build does not run here (it needs relaxed SIMD and a CPU with FMA)' : 'build without FMA is not built'}; drop --fma`);
    }
  }
  if (f.replay !== undefined) {
    if (f.replay !== 'on' && f.replay !== 'off') throw new UserError(`--replay must be on or off, got "${String(f.replay)}"`);
    setStepReplay(f.replay === 'on');
  }
  const names = typeof f.preset === 'string' ? [f.preset] : ['ntm-copy', 'dnc-repeat-copy'];
  const steps = intFlag('steps', f.steps) ?? 200;
  const threads = intFlag('threads', f.threads);
  const warmup = intFlag('warmup', f.warmup, 0);
  const groups = intFlag('length-groups', f['length-groups'], 0);
  const atOnce = intFlag('groups-at-once', f['groups-at-once'], 0);
  const results: BenchResult[] = [];
  for (const n of names) {
    const r = await benchPreset(n, steps, warmup, threads, groups, atOnce);
    console.log(`${r.preset} (${kernelsName()} kernels${stepReplayEnabled() ? '' : ', no replay'}, ${r.threads} thread${r.threads > 1 ? 's' : ''}, ` +
      `${r.lengthGroupSize > 0 ? `length groups of ${r.lengthGroupSize}, ${r.lengthGroupsAtOnce > 0 ? r.lengthGroupsAtOnce : 'all'} at once` : 'whole batches'}): ${r.msPerStep.toFixed(2)} ms/step (p10 ${r.p10.toFixed(2)}, p90 ${r.p90.toFixed(2)}) | ` +
      `${r.sequencesPerSec.toFixed(0)} sequences/s | ${r.gflops.toFixed(2)} GFLOP/s | peak RSS ${r.peakRssMB.toFixed(0)} MB | ` +
      `${r.bufferAllocsPerStep.toFixed(1)} buffers made per step (${r.newShapes} new shapes) | GC ${r.gcMsPerStep.toFixed(2)} ms/step, ` +
      `${r.jsBytesPerStep.toFixed(0)} bytes of JavaScript objects per step | ${r.steps} steps after ${r.warmupSteps} warm-up`);
    results.push(r);
  }
  const kernels = activeKernels(), replay = stepReplayEnabled(), fma = kernels === 'wasm' && kernelBuild() === 'fma';
  if (f.json) console.log(JSON.stringify(results.length === 1 ? { ...results[0], kernels, fma, replay } : { results, kernels, fma, replay, msPerStep: results[0]!.msPerStep }));
  return 0;
}
