/**
 * @file A training run in a run directory: creates or resumes it, trains, evaluates, writes
 * `config.json`, `metrics.jsonl`, `train.log` and the `last` / `best` checkpoints, and stops
 * cleanly on SIGINT / SIGTERM. Knows no model: it goes through MemoryModel and Trainer.
 *
 * Exact resume: the checkpoint holds everything the next step depends on (weights, optimiser
 * buffers and step, both data streams, the running training loss, the bad-step count), so a
 * run stopped at any step and resumed writes the same metrics, bit for bit, as one never stopped.
 *
 * Nothing is lost when a write fails: checkpoints and config.json are replaced atomically, and
 * a metrics line that cannot be appended whole is cut back (see checkpoint/atomic.ts).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { saveCheckpoint, statePath, weightsPath, type BestRecord, type TrainingState } from '../checkpoint/checkpoint.js';
import { appendFileSafely, WriteFaults, writeFileAtomic, type WriteOptions } from '../checkpoint/atomic.js';
import type { Config } from '../config/schema.js';
import { createModel, releaseModel } from '../models/registry.js';
import { countParams } from '../models/params.js';
import type { MemoryModel } from '../models/model.js';
import { createTask } from '../tasks/registry.js';
import { describeRange } from '../tasks/batch.js';
import { NonFiniteError, seedStreams, Trainer, type EvalRecord } from '../train/trainer.js';
import { kernelsName } from '../kernels/wasm.js';
import { isBetter } from './best.js';
import { installNanSteps, type RunFaults } from './faults.js';
import { StepRate } from './step-rate.js';
import { formatRecord, shellWord } from './format.js';
import { formatDuration, RunLog } from './log.js';
import { restore } from './restore.js';
import { prepareDir, trimMetrics } from './run-dir.js';
import { CHECKPOINT_DIR, CONFIG_FILE, LOG_FILE, METRICS_FILE } from './run-files.js';
import { UserError } from './user-error.js';

export interface RunOptions {
  readonly runDir: string;
  readonly config: Config;
  readonly resume: boolean;
  /** with resume: train until this total step (default: the config's) */
  readonly steps?: number;
  readonly log?: RunLog;
  /** called after each evaluation (the dashboard listens here) */
  readonly onEval?: (record: EvalRecord, model: MemoryModel) => void;
  /** after each training step, with the training speed the terminal shows (StepRate) */
  readonly onStep?: (step: number, loss: number, stepsPerSec: number) => void;
  /** faults to inject, for tests of the failure paths */
  readonly faults?: RunFaults;
  /**
   * at the end, give the trainer's and the model's kernel-heap memory back, for a process that
   * runs run after run (a sweep's); the memory never shrinks, but the next run reuses it
   */
  readonly release?: boolean;
  /**
   * flush each file to disk as it is written (default true); off for a queue worker's scratch
   * copy of a run, whose checkpoints are shipped to Redis and resumed from there (WriteOptions)
   */
  readonly durable?: boolean;
}

export interface RunResult {
  readonly runDir: string;
  readonly last: EvalRecord | null;
  readonly interrupted: boolean;
  /** the first step at which eval bitErrorsPerSeq fell below config.train.untilBitErrors, if any */
  readonly reachedStep: number | null;
}

export async function runTraining(opts: RunOptions): Promise<RunResult> {
  const runDir = resolve(opts.runDir);
  prepareDir(runDir, opts.resume);
  const log = opts.log ?? new RunLog(join(runDir, LOG_FILE));
  const config = opts.config;
  const ckptDir = join(runDir, CHECKPOINT_DIR);
  const metricsPath = join(runDir, METRICS_FILE);

  const streams = seedStreams(config.seed);
  const task = createTask(config.task);
  const model = createModel(config.model, task.inputSize, task.outputSize, streams.init);
  const trainer = new Trainer(model, task, config, streams);
  if (opts.faults?.nanSteps) installNanSteps(trainer, opts.faults.nanSteps);
  const writes: WriteOptions = {
    ...(opts.faults?.writeFault ? { faults: new WriteFaults(opts.faults.writeFault) } : {}),
    ...(opts.durable === false ? { durable: false } : {}),
  };
  let best: BestRecord | null = null;

  const configPath = join(runDir, CONFIG_FILE);
  const writeConfig = (): void => writeFileAtomic(configPath, `${JSON.stringify(config, null, 2)}\n`, writes);
  /** `--resume --steps N` with N ≠ train.steps: config.json takes the new total with the first save */
  let configPending = false;
  if (opts.resume) {
    const resumed = existsSync(weightsPath(ckptDir, 'last')) || existsSync(statePath(ckptDir, 'last'));
    if (resumed) best = restore(ckptDir, config, trainer, streams);
    // refused before anything in the run directory changes
    if (opts.steps !== undefined && opts.steps < trainer.step) {
      throw new UserError(`--resume --steps ${opts.steps}: ${runDir} is already at step ${trainer.step}; ` +
        `pass --steps ${trainer.step} or more (the total to train to, not the steps to add)`);
    }
    log.line(resumed ? `resuming ${runDir} at step ${trainer.step}` : `resuming ${runDir}: no checkpoint yet, starting from step 0`);
    trimMetrics(metricsPath, trainer.step, writes);
    if (opts.steps !== undefined && opts.steps !== config.train.steps) {
      config.train.steps = opts.steps; // and so in every checkpoint saved from now on
      configPending = true;
    }
  } else {
    writeConfig();
    log.line(`run directory: ${runDir}`);
  }
  const total = opts.steps ?? config.train.steps;
  const m = config.model;
  const shape = m.type === 'lstm' ? `${m.layers} × ${m.hiddenSize}` : `${m.controller} controller`;
  log.line(`${m.type} (${shape}, ${countParams(model.params)} parameters) ` +
    `on ${config.task.name} (${describeRange(task)}${config.task.curriculum !== 'uniform' ? `, a growing curriculum${config.task.curriculum === 'mix' ? ' (every second batch from the whole range)' : ''} from ${describeRange(task, trainer.level)}` : ''}); ${config.optimizer.name} lr ${config.optimizer.lr}${config.optimizer.lrDecayEvery > 0 ? ` (× ${config.optimizer.lrDecayFactor} every ${config.optimizer.lrDecayEvery} steps)` : ''}; batch ${config.train.batchSize}; ` +
    `steps ${trainer.step}→${total}; seed ${config.seed}; ${kernelsName()} kernels, ${config.train.threads} thread${config.train.threads > 1 ? 's' : ''}`);
  if (trainer.step >= total) {
    log.line(`already at step ${trainer.step}; pass --steps N with N > ${trainer.step} to train on`);
    if (configPending) writeConfig(); // nothing to train or save: the total is still the one asked for
    configPending = false;
  }

  const t0 = performance.now();
  const elapsed = (): number => trainer.elapsedBefore + (performance.now() - t0) / 1000;
  const state = (): TrainingState => ({
    step: trainer.step,
    optimizerStep: trainer.optimizer.state().step,
    rng: { train: streams.train.getState(), eval: streams.eval.getState() },
    best,
    skippedSteps: trainer.skippedSteps,
    badInARow: trainer.badInARow,
    elapsedSec: elapsed(),
    config,
    runningLoss: { sum: trainer.lossSum, count: trainer.lossCount },
    level: trainer.level,
  });
  let savedStep: number | null = opts.resume && trainer.step > 0 ? trainer.step : null;
  /** Writes the checkpoint pair under each of `names` (one write: a new best is the last too). */
  const save = (...names: ('best' | 'last')[]): void => {
    // config.json first: a checkpoint never holds a total that config.json does not
    if (configPending) {
      writeConfig();
      configPending = false;
    }
    saveCheckpoint(ckptDir, names, model.params, trainer.optimizer.state(), state(), writes);
    if (names.includes('last')) savedStep = trainer.step;
  };

  let stopSignal: string | null = null;
  const onSignal = (sig: string) => () => {
    if (stopSignal !== null) process.exit(130); // a second Ctrl-C: stop at once (no write is under way here)
    stopSignal = sig;
  };
  const onInt = onSignal('SIGINT'), onTerm = onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);

  let last: EvalRecord | null = null;
  let reachedStep: number | null = null;
  let lastYield = performance.now();
  const until = config.train.untilBitErrors;
  /** steps per second over the last seconds of training, as the terminal and the live page show it */
  const speed = new StepRate();
  speed.mark(trainer.step);
  const rate = (): number => speed.perSec();
  try {
    while (trainer.step < total && stopSignal === null) {
      const r = trainer.trainStep();
      speed.mark(trainer.step);
      opts.onStep?.(trainer.step, r.loss, rate());
      if (log.progressDue(trainer.step, total)) {
        const perSec = rate();
        log.progress(trainer.step, total, `loss ${r.loss.toExponential(2)} | ${perSec.toFixed(1)} steps/s | ${formatDuration(elapsed())} | left ${formatDuration((total - trainer.step) / perSec)}`);
      }
      const scheduled = trainer.step % config.train.evalEvery === 0;
      if (scheduled || trainer.step === total) {
        const evalStart = performance.now();
        const rec = trainer.evalRecord(elapsed(), scheduled);
        last = rec;
        log.line(formatRecord(rec, rate(), config.task.curriculum !== 'uniform'));
        // the metrics line first: a checkpoint never runs ahead of metrics.jsonl
        appendFileSafely(metricsPath, `${JSON.stringify(rec)}\n`, writes);
        // a new best is the last too: one pair of files, written under both names at once
        if (isBetter(rec, best)) {
          best = { step: rec.step, level: rec.level, bitErrorsPerSeq: rec.bitErrorsPerSeq, loss: rec.loss };
          save('best', 'last');
        } else {
          save('last');
        }
        if (trainer.level !== rec.level) log.line(`curriculum: training on ${describeRange(task, trainer.level)} from step ${rec.step}`);
        opts.onEval?.(rec, model);
        speed.exclude(performance.now() - evalStart); // (not training: left out of the speed)
        // a curriculum's run has learned once it is below `until` on the whole range
        if (until > 0 && rec.bitErrorsPerSeq < until && rec.level >= task.levels - 1) {
          reachedStep = rec.step;
          log.line(`bit errors per sequence ${rec.bitErrorsPerSeq.toFixed(4)} < ${until} at step ${rec.step} ` +
            `after ${formatDuration(rec.elapsedSec)} of training; stopping`);
          break;
        }
      }
      // let signals and servers run between steps (at most every 5 ms, so tiny models stay fast)
      if (performance.now() - lastYield >= 5) {
        await new Promise<void>((res) => setImmediate(res));
        lastYield = performance.now();
      }
    }
    // a signal that came as the run finished anyway changes nothing
    if (stopSignal !== null && (trainer.step >= total || reachedStep !== null)) stopSignal = null;
    if (stopSignal !== null) {
      if (savedStep !== trainer.step) save('last');
      if (configPending) writeConfig(); // stopped before any step: the resume command below needs the new total
      configPending = false;
      const more = total !== config.train.steps ? ` --steps ${total}` : '';
      log.line(`${stopSignal}: saved step ${trainer.step} to ${weightsPath(ckptDir, 'last')}`);
      log.line(`resume with: npx engram train --run-dir ${shellWord(runDir)} --resume${more}`);
    } else {
      log.line(`done: run written to ${runDir}`);
    }
  } catch (err) {
    if (err instanceof NonFiniteError) {
      const kept = savedStep === null ? 'no checkpoint was saved before them' : `the last good checkpoint (step ${savedStep}) is kept in ${ckptDir}`;
      const msg = `${err.message}; ${kept}`;
      log.line(`error: ${msg}`);
      throw new NonFiniteError(msg);
    }
    throw err;
  } finally {
    if (opts.release === true) {
      trainer.dispose();
      releaseModel(model);
    } else {
      trainer.close();
    }
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    log.clearBar();
  }
  return { runDir, last, interrupted: stopSignal !== null, reachedStep };
}
