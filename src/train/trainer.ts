/**
 * @file The training loop. It knows no model: only a MemoryModel's parameters and forward
 * pass, a Task's batches and the config. Random streams: `train` draws training batches,
 * `eval` draws evaluation batches, so evaluating never changes what training sees.
 */
import type { Config } from '../config/schema.js';
import type { MemoryModel } from '../models/model.js';
import type { Task } from '../tasks/batch.js';
import { Rng } from '../tensor/random.js';
import { Tape, withTape } from '../tensor/tensor.js';
import { maskedBceLoss, MetricsAccumulator, type Metrics } from './loss.js';
import { clipGradNorm, createOptimizer, globalGradNorm, zeroGrads, type Optimizer } from './optim.js';

export interface EvalRecord extends Metrics {
  step: number;
  /** mean training loss over the steps since the previous evaluation */
  trainLoss: number;
  elapsedSec: number;
  /** steps skipped for a non-finite loss or gradient, in all */
  skippedSteps: number;
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

export class NonFiniteError extends Error {}

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

  constructor(
    readonly model: MemoryModel,
    readonly task: Task,
    readonly config: Config,
    readonly streams: TrainerStreams,
  ) {
    this.optimizer = createOptimizer(config.optimizer, model.params);
  }

  /** One optimisation step on a fresh training batch. Non-finite steps leave the weights untouched. */
  trainStep(): StepResult {
    const params = [...this.model.params.values()];
    const batch = this.task.sample(this.streams.train, this.config.train.batchSize);
    zeroGrads(params);
    const tape = new Tape();
    const loss = withTape(tape, () => maskedBceLoss(this.model.forward(batch.input, batch.T, batch.B), batch));
    tape.backward(loss);
    const lossValue = loss.data[0]!;
    const gradNorm = globalGradNorm(params);
    this.step++;
    if (!Number.isFinite(lossValue) || !Number.isFinite(gradNorm)) {
      this.skippedSteps++;
      this.badInARow++;
      if (this.badInARow >= this.config.train.maxBadSteps) {
        throw new NonFiniteError(
          `${this.badInARow} non-finite steps in a row at step ${this.step} (loss ${lossValue}, gradient norm ${gradNorm}); ` +
            'lower optimizer.lr or raise train.maxBadSteps',
        );
      }
      return { loss: lossValue, gradNorm, skipped: true };
    }
    this.badInARow = 0;
    clipGradNorm(params, gradNorm, this.config.optimizer.clipNorm);
    this.optimizer.step();
    this.lossSum += lossValue;
    this.lossCount++;
    return { loss: lossValue, gradNorm, skipped: false };
  }

  /** SPEC §5's metrics over `batches` fresh evaluation batches; never trains. */
  evaluate(batches = this.config.train.evalBatches, length?: number): Metrics {
    const acc = new MetricsAccumulator();
    for (let i = 0; i < batches; i++) {
      const batch = this.task.sample(this.streams.eval, this.config.train.batchSize, length);
      const logits = this.model.forward(batch.input, batch.T, batch.B);
      acc.add(logits.map((z) => z.data), batch);
    }
    return acc.result();
  }

  /** Evaluates and resets the running training loss. */
  evalRecord(elapsedSec: number): EvalRecord {
    const m = this.evaluate();
    const trainLoss = this.lossCount > 0 ? this.lossSum / this.lossCount : NaN;
    this.lossSum = 0;
    this.lossCount = 0;
    return { step: this.step, ...m, trainLoss, elapsedSec, skippedSteps: this.skippedSteps };
  }
}
