/**
 * @file The training loop. It knows no model: only a MemoryModel's parameters and forward
 * pass, a Task's batches and the config. Random streams: `train` draws training batches,
 * `eval` draws evaluation batches, so evaluating never changes what training sees.
 */
import type { Config } from '../config/schema.js';
import type { MemoryModel } from '../models/model.js';
import { BatchStore, describeRange, type Task } from '../tasks/batch.js';
import { Rng } from '../tensor/random.js';
import { type Buf, type Tensor } from '../tensor/tensor.js';
import { BufferPool } from '../tensor/pool.js';
import { activeKernels, defaultKernels, heapAllocator, heapFor, type KernelChoice } from '../kernels/wasm.js';
import type { KernelHeap } from '../kernels/heap.js';
import { accumulateGradients, forwardLogits, replayStatsOf, StepContext } from './gradients.js';
import type { ReplayStats } from './replay.js';
import { MetricsAccumulator, type Metrics } from './loss.js';
import { ParallelGradients } from './parallel.js';
import { clipGradNorm, createOptimizer, globalGradNorm, zeroGrads, type Optimizer } from './optim.js';

export interface EvalRecord extends Metrics {
  step: number;
  /** mean training loss over the steps since the previous scheduled evaluation (NaN, written null, if all were skipped) */
  trainLoss: number;
  elapsedSec: number;
  /** steps skipped for a non-finite loss or gradient, in all */
  skippedSteps: number;
  /** the curriculum level this evaluation drew from (Task.levels − 1: the whole range) */
  level: number;
  /** the ranges it drew from, e.g. "1..7 words" */
  range: string;
}

export interface StepResult {
  loss: number;
  gradNorm: number;
  skipped: boolean;
}

export interface TrainerStreams {
  readonly train: Rng;
  readonly eval: Rng;
}

/** The seed's named streams: `init` for weights, `train` and `eval` for data. */
export function seedStreams(seed: number): { init: Rng; train: Rng; eval: Rng } {
  const root = new Rng(seed);
  return { init: root.fork('init'), train: root.fork('train'), eval: root.fork('eval') };
}

/** Too many non-finite steps in a row (config train.maxBadSteps); the weights are those before them. */
export class NonFiniteError extends Error {}

/** Sees every step's gradients before they are checked and applied (tests use it to inject a NaN). */
export type GradientHook = (step: number, params: ReadonlyMap<string, Tensor>) => void;


/** How a Trainer runs its steps. */
export interface TrainerOptions {
  /** training steps and evaluation's forward passes are recorded and replayed (train/replay.ts) where they can be (default true; the same results to the bit) */
  readonly replay?: boolean;
  /**
   * the kernels its steps and its optimiser run: 'wasm' (the WebAssembly SIMD kernels, on this
   * thread's kernel heap; the TypeScript twins when unavailable) or 'ts' (the twins); default: the
   * process's default (setKernels) when it is made. The two round differently in the last bits.
   */
  readonly kernels?: KernelChoice;
}

/** dst.set(src), with one memory copy when both live on the kernel heap. */
function copyInto(dst: Buf, src: Buf, heap: KernelHeap | null): void {
  const pd = heap === null ? -1 : heap.ptr(dst), ps = pd < 0 ? -1 : heap!.ptr(src);
  if (ps >= 0) heap!.k.copyBytes(pd, ps, 4 * src.length);
  else dst.set(src);
}

export class Trainer {
  readonly optimizer: Optimizer;
  step = 0;
  skippedSteps = 0;
  badInARow = 0;
  /** training seconds before this process (a resumed run carries them on) */
  elapsedBefore = 0;
  /** running training loss since the last evaluation (saved in checkpoints for exact resume) */
  lossSum = 0;
  lossCount = 0;
  gradientHook: GradientHook | null = null;
  /**
   * The curriculum level training draws from (Task.levels − 1: the whole range). With
   * task.curriculum `grow` or `mix` it starts at 0 and rises by one at each scheduled evaluation
   * whose bit errors per sequence fall below task.curriculumThreshold (`mix` also draws every
   * second batch from the whole range: batchLevel); with `uniform` it is the whole range.
   */
  level: number;
  /** copies of the weights and optimiser buffers from before the update, to undo a non-finite one */
  private readonly undo = new Map<Buf, Buf>();
  /** the buffers the optimiser backed up this step (to put back if its update is not finite) */
  private readonly saved: Buf[] = [];
  /** how many of `saved` this step filled (the array keeps its length: no reallocation each step) */
  private nSaved = 0;
  /** The optimiser's backup: where b's old contents go (made on first use, beside b). */
  private readonly backup = (b: Buf): Buf => {
    let copy = this.undo.get(b);
    if (copy === undefined) this.undo.set(b, (copy = this.heap?.owns(b) ? this.heap.alloc(b.length) ?? b.slice() : b.slice()));
    this.saved[this.nSaved++] = b;
    return copy;
  };
  /** the kernel heap its steps and optimiser run on (TrainerOptions.kernels; null: the TypeScript twins) */
  private readonly heap: KernelHeap | null;
  /** the kernels that run its steps (TrainerOptions.kernels, 'ts' when the WASM kernels are unavailable) */
  readonly kernels: KernelChoice;
  private disposed = false;
  /** steps are replayed where they can be (TrainerOptions.replay), here and on the gradient workers */
  readonly replay: boolean;

  constructor(
    readonly model: MemoryModel,
    readonly task: Task,
    readonly config: Config,
    readonly streams: TrainerStreams,
    options: TrainerOptions = {},
  ) {
    this.replay = options.replay ?? true;
    this.kernels = activeKernels(options.kernels ?? defaultKernels());
    this.heap = heapFor(this.kernels);
    const steps = { replay: this.replay, kernels: this.kernels };
    this.trainSteps = new StepContext(new BufferPool(heapAllocator(this.heap)), steps);
    this.evalSteps = new StepContext(new BufferPool(heapAllocator(this.heap)), steps);
    this.optimizer = createOptimizer(config.optimizer, model.params, this.heap);
    this.level = config.task.curriculum === 'uniform' ? task.levels - 1 : 0;
    // parameter gradients live as long as the model: allocate them before any pooled step
    for (const p of model.params.values()) p.g();
  }

  /** Training steps: their buffers, reused across steps of the same shape (no allocation in the steady state), length groups and replay. */
  readonly trainSteps: StepContext;
  /** every training step's and evaluation batch's batch is drawn into these (none is kept past its use) */
  private readonly batches = new BatchStore();
  /** Evaluation's forward passes, apart from the training steps. */
  readonly evalSteps: StepContext;

  /** The training steps' buffer pool (for benchmarks and tests). */
  get trainPool(): BufferPool {
    return this.trainSteps.pool;
  }
  /** gradient workers, started at the first step when config.train.threads > 1 */
  private parallel: ParallelGradients | null = null;

  /**
   * Starts the gradient workers now (config.train.threads > 1) rather than at the first step,
   * and settles once they can take slices: in a browser, await this before the first step (a
   * Web Worker starts only while its creator's thread is free, and a step keeps it busy).
   */
  async startThreads(): Promise<void> {
    this.dropStaleWorkers();
    if (this.config.train.threads > 1) {
      this.parallel ??= new ParallelGradients(this.model, this.config, this.config.train.threads, { replay: this.replay, kernels: this.kernels });
      await this.parallel.ready();
    }
  }

  /** Stops the gradient workers, if any (the trainer can still evaluate). */
  close(): void {
    void this.parallel?.close();
    this.parallel = null;
  }

  /**
   * close(), then gives this trainer's kernel-heap memory back: its step buffers, its undo copies,
   * and its optimiser state (moved to ordinary arrays, so state() still reads it for a checkpoint).
   * The trainer must not train or evaluate afterwards. The model's own parameters stay where they
   * are: releaseModel(model) moves those.
   */
  dispose(): void {
    this.close();
    this.trainSteps.pool.clear();
    this.evalSteps.pool.clear();
    const heap = this.heap;
    if (heap === null) return;
    for (const copy of this.undo.values()) if (heap.owns(copy)) heap.release(copy as Float32Array);
    this.undo.clear();
    const buffers = this.optimizer.state().buffers;
    for (const [k, b] of buffers) {
      if (!heap.owns(b)) continue;
      buffers.set(k, Float32Array.from(b));
      heap.release(b as Float32Array);
    }
    this.disposed = true;
  }

  /**
   * One optimisation step on a fresh training batch. A step whose loss, gradient or update is
   * not finite is undone and counted in `skippedSteps`; after train.maxBadSteps of them in a
   * row it throws NonFiniteError, the weights still those from before the first.
   */
  trainStep(): StepResult {
    if (this.disposed) throw new Error('Trainer.trainStep: this trainer was disposed');
    const params = this.currentParams();
    const batch = this.task.sample(this.streams.train, this.config.train.batchSize, { store: this.batches, level: this.batchLevel() });
    zeroGrads(params, this.heap);
    this.dropStaleWorkers();
    if (this.config.train.threads > 1) this.parallel ??= new ParallelGradients(this.model, this.config, this.config.train.threads, { replay: this.replay, kernels: this.kernels });
    const lossValue = this.parallel
      ? this.parallel.accumulate(this.model, batch, this.trainSteps)
      : accumulateGradients(this.model, batch, this.trainSteps, undefined, this.config.train.lengthGroupSize, this.config.train.lengthGroupsAtOnce);
    this.step++;
    this.gradientHook?.(this.step, this.model.params);
    const gradNorm = globalGradNorm(params, this.heap);
    if (!Number.isFinite(lossValue) || !Number.isFinite(gradNorm)) return this.skip(lossValue, gradNorm);
    clipGradNorm(params, gradNorm, this.config.optimizer.clipNorm);
    // finite gradients can still overflow in the update (a huge lr): the optimiser saves what it
    // overwrites (in the same pass as its update, on the kernels) and says whether all it wrote is finite
    this.nSaved = 0;
    if (!this.optimizer.step(this.backup)) {
      for (let i = 0; i < this.nSaved; i++) copyInto(this.saved[i]!, this.undo.get(this.saved[i]!)!, this.heap);
      // the optimiser counted the step it undoes (step() counts first, whatever comes of it)
      const { step, buffers } = this.optimizer.state();
      this.optimizer.loadState(step - 1, buffers);
      return this.skip(lossValue, gradNorm);
    }
    this.badInARow = 0;
    this.lossSum += lossValue;
    this.lossCount++;
    return { loss: lossValue, gradNorm, skipped: false };
  }

  /**
   * Forgets gradient workers that were closed (after an error); the next training step starts new ones.
   */
  private dropStaleWorkers(): void {
    const p = this.parallel;
    if (p !== null && p.closed) this.close();
  }

  /** What step replay did on this thread: training steps and evaluation (null: none ran yet, or replay is off). */
  replayStats(): { train: ReplayStats | null; eval: ReplayStats | null } {
    return { train: replayStatsOf(this.trainSteps), eval: replayStatsOf(this.evalSteps) };
  }

  /** The model's parameters now (releaseParams replaces them), in an array kept from step to step. */
  private currentParams(): Tensor[] {
    let i = 0;
    for (const p of this.model.params.values()) this.paramList[i++] = p;
    this.paramList.length = i;
    return this.paramList;
  }

  private readonly paramList: Tensor[] = [];

  private skip(loss: number, gradNorm: number): StepResult {
    this.skippedSteps++;
    this.badInARow++;
    if (this.badInARow >= this.config.train.maxBadSteps) {
      throw new NonFiniteError(
        `${this.badInARow} non-finite steps in a row up to step ${this.step} (last: loss ${loss}, gradient norm ${gradNorm}); ` +
          'lower optimizer.lr or raise train.maxBadSteps',
      );
    }
    return { loss, gradNorm, skipped: true };
  }

  /**
   * The metrics over `batches` fresh batches from `rng` (the eval stream); never trains.
   * @param level the curriculum level to draw from (default: the whole range)
   */
  evaluate(batches = this.config.train.evalBatches, length?: number, rng: Rng = this.streams.eval, level?: number): Metrics {
    if (this.disposed) throw new Error('Trainer.evaluate: this trainer was disposed');
    const acc = new MetricsAccumulator();
    this.dropStaleWorkers();
    for (let i = 0; i < batches; i++) {
      const batch = this.task.sample(rng, this.config.train.batchSize, { length, store: this.batches, level });
      // on the gradient threads too, once they run (the same logits, see ParallelGradients.forward)
      acc.add(this.parallel ? this.parallel.forward(this.model, batch, this.evalSteps) : forwardLogits(this.model, batch, this.evalSteps, this.config.train.lengthGroupSize, this.config.train.lengthGroupsAtOnce), batch);
    }
    return acc.result();
  }

  /**
   * The level the next training batch draws from: the curriculum's; with `mix`, every second
   * batch (the one after an odd step count, so a resumed run draws as one never stopped) from
   * the whole range. Easy batches keep a model learning while the hard ones teach it the whole
   * range from the start: the "combined" strategy of Zaremba and Sutskever's Learning to Execute.
   */
  private batchLevel(): number {
    return this.config.task.curriculum === 'mix' && this.step % 2 === 1 ? this.task.levels - 1 : this.level;
  }

  /** Whether training draws from the task's whole range (always, but while a `grow` or `mix` curriculum widens it). */
  get wholeRange(): boolean {
    return this.level >= this.task.levels - 1;
  }

  /**
   * Evaluates (at the curriculum's current level) and resets the running training loss; a
   * scheduled evaluation below task.curriculumThreshold moves a `grow` or `mix` curriculum up one level.
   * An off-schedule evaluation (`scheduled` false: the end of a run between evaluations) draws
   * from a copy of the eval stream, keeps the running loss and the level, so a run stopped there
   * and resumed matches one never stopped.
   */
  evalRecord(elapsedSec: number, scheduled = true): EvalRecord {
    let rng = this.streams.eval;
    if (!scheduled) {
      rng = new Rng(0);
      rng.setState(this.streams.eval.getState());
    }
    const level = this.level;
    const m = this.evaluate(this.config.train.evalBatches, undefined, rng, level);
    const trainLoss = this.lossCount > 0 ? this.lossSum / this.lossCount : NaN;
    if (scheduled) {
      this.lossSum = 0;
      this.lossCount = 0;
      if (!this.wholeRange && m.bitErrorsPerSeq < this.config.task.curriculumThreshold) this.level++;
    }
    return { step: this.step, ...m, trainLoss, elapsedSec, skippedSteps: this.skippedSteps, level, range: describeRange(this.task, level) };
  }
}
