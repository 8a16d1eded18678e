/**
 * @file Times training steps of a preset (after warm-up): median, p10 and p90 milliseconds
 * per step, sequences per second, peak memory, buffers made, garbage collection and the
 * JavaScript heap a step allocates. `engram bench` parses flags and prints; bench/run.ts
 * runs it per preset in processes of their own.
 */
import { findPreset, presetNames } from '../config/presets.js';
import { cloneConfig, validateConfig } from '../config/schema.js';
import { createModel, releaseModel } from '../models/registry.js';
import { forwardFlopsPerTimeStep } from '../models/flops.js';
import { Rng } from '../tensor/random.js';
import { createTask } from '../tasks/registry.js';
import { LengthGroups } from '../tasks/groups.js';
import type { Batch } from '../tasks/batch.js';
import { seedStreams, Trainer, type TrainerOptions } from '../train/trainer.js';
import { PerformanceObserver } from 'node:perf_hooks';
import { UserError } from './user-error.js';

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
export async function benchPreset(name: string, steps: number, warmup?: number, threads?: number, lengthGroupSize?: number, groupsAtOnce?: number, trainerOptions: TrainerOptions = {}): Promise<BenchResult> {
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
  const trainer = new Trainer(model, noting, config, streams, trainerOptions);
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

