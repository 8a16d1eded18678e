/**
 * @file A training run in a run directory: creates or resumes it, trains, evaluates, writes
 * `config.json`, `metrics.jsonl`, `train.log` and the `last` / `best` checkpoints, and stops
 * cleanly on SIGINT / SIGTERM. Knows no model: it goes through MemoryModel and Trainer.
 */
import { existsSync, mkdirSync, readFileSync, appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { applyWeights, loadCheckpoint, saveCheckpoint, type BestRecord, type TrainingState } from '../checkpoint/checkpoint.js';
import { describeFsError, writeFileAtomic } from '../checkpoint/atomic.js';
import type { Config } from '../config/schema.js';
import { createModel } from '../models/registry.js';
import { countParams } from '../models/params.js';
import type { MemoryModel } from '../models/model.js';
import { createTask } from '../tasks/registry.js';
import { seedStreams, Trainer, type EvalRecord } from '../train/trainer.js';
import { UserError } from './errors.js';
import { formatDuration, RunLog } from './log.js';

export interface RunOptions {
  readonly runDir: string;
  readonly config: Config;
  readonly resume: boolean;
  /** with resume: train until this total step (default: the config's) */
  readonly steps?: number;
  readonly log?: RunLog;
  /** called after each evaluation (the dashboard listens here) */
  readonly onEval?: (record: EvalRecord, model: MemoryModel) => void;
  readonly onStep?: (step: number, loss: number) => void;
}

export interface RunResult {
  readonly runDir: string;
  readonly last: EvalRecord | null;
  readonly interrupted: boolean;
  /** the first step at which eval bitErrorsPerSeq fell below config.train.untilBitErrors, if any */
  readonly reachedStep: number | null;
}

export const CONFIG_FILE = 'config.json';
export const METRICS_FILE = 'metrics.jsonl';
export const LOG_FILE = 'train.log';

/** Reads a run directory's config.json. */
export function readRunConfig(runDir: string): Config {
  const p = join(runDir, CONFIG_FILE);
  if (!existsSync(p)) throw new UserError(`${runDir} has no ${CONFIG_FILE}; is it a run directory?`);
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as Config;
  } catch {
    throw new UserError(`${p} is not valid JSON`);
  }
}

function prepareDir(runDir: string, resume: boolean): void {
  const hasRun = existsSync(join(runDir, CONFIG_FILE)) || existsSync(join(runDir, METRICS_FILE));
  if (resume && !hasRun) throw new UserError(`--resume: ${runDir} holds no run to resume (no ${CONFIG_FILE})`);
  if (!resume && hasRun) {
    throw new UserError(`${runDir} already holds a run; pass --resume to continue it, or choose another --run-dir`);
  }
  try {
    mkdirSync(join(runDir, 'checkpoints'), { recursive: true });
  } catch (err) {
    throw new UserError(describeFsError(err, runDir));
  }
}

/** Keeps only metrics lines up to `step` (a run resumed from a checkpoint repeats what came after it). */
function trimMetrics(path: string, step: number): void {
  if (!existsSync(path)) return;
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const kept = lines.filter((l) => {
    try {
      return (JSON.parse(l) as { step: number }).step <= step;
    } catch {
      return false;
    }
  });
  if (kept.length !== lines.length) writeFileAtomic(path, kept.map((l) => `${l}\n`).join(''));
}

export function formatRecord(r: EvalRecord, stepsPerSec: number): string {
  return `step ${r.step} | eval loss ${r.loss.toExponential(3)} | bits/seq ${r.bitsPerSeq.toFixed(3)} | ` +
    `bit errors/seq ${r.bitErrorsPerSeq.toFixed(3)} | train loss ${r.trainLoss.toExponential(3)} | ` +
    `${stepsPerSec.toFixed(1)} steps/s | ${formatDuration(r.elapsedSec)}`;
}

export async function runTraining(opts: RunOptions): Promise<RunResult> {
  const runDir = resolve(opts.runDir);
  prepareDir(runDir, opts.resume);
  const log = opts.log ?? new RunLog(join(runDir, LOG_FILE));
  const config = opts.config;
  const ckptDir = join(runDir, 'checkpoints');
  const metricsPath = join(runDir, METRICS_FILE);

  const streams = seedStreams(config.seed);
  const task = createTask(config.task);
  const model = createModel(config.model, task.inputSize, task.outputSize, streams.init);
  const trainer = new Trainer(model, task, config, streams);
  let best: BestRecord | null = null;

  if (opts.resume) {
    const ck = loadCheckpoint(ckptDir, 'last');
    applyWeights(model.params, ck.weights.tensors, join(ckptDir, 'last.safetensors'));
    trainer.optimizer.loadState(ck.state.optimizerStep, ck.optimizer);
    streams.train.setState(ck.state.rng.train);
    streams.eval.setState(ck.state.rng.eval);
    trainer.step = ck.state.step;
    trainer.skippedSteps = ck.state.skippedSteps;
    trainer.elapsedBefore = ck.state.elapsedSec;
    trainer.lossSum = ck.state.runningLoss.sum;
    trainer.lossCount = ck.state.runningLoss.count;
    best = ck.state.best;
    trimMetrics(metricsPath, trainer.step);
    log.line(`resuming ${runDir} at step ${trainer.step}`);
  } else {
    writeFileAtomic(join(runDir, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
    log.line(`run directory: ${runDir}`);
  }
  const total = opts.steps ?? config.train.steps;
  log.line(`${config.model.type} (${config.model.controller} controller, ${countParams(model.params)} parameters) ` +
    `on ${config.task.name}; ${config.optimizer.name} lr ${config.optimizer.lr}; batch ${config.train.batchSize}; ` +
    `steps ${trainer.step}→${total}; seed ${config.seed}`);

  const state = (): TrainingState => ({
    step: trainer.step,
    optimizerStep: trainer.optimizer.state().step,
    rng: { train: streams.train.getState(), eval: streams.eval.getState() },
    best,
    skippedSteps: trainer.skippedSteps,
    elapsedSec: trainer.elapsedBefore + (performance.now() - t0) / 1000,
    config,
    runningLoss: { sum: trainer.lossSum, count: trainer.lossCount },
  });
  const save = (name: string): void => saveCheckpoint(ckptDir, name, model.params, trainer.optimizer.state(), state());

  let stopSignal: string | null = null;
  const onSignal = (sig: string) => () => {
    if (stopSignal !== null) process.exit(130); // a second Ctrl-C: stop at once
    stopSignal = sig;
  };
  const onInt = onSignal('SIGINT'), onTerm = onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);

  const t0 = performance.now();
  let last: EvalRecord | null = null;
  let reachedStep: number | null = null;
  let windowStart = performance.now(), windowStep = trainer.step;
  const until = config.train.untilBitErrors;
  try {
    while (trainer.step < total && stopSignal === null) {
      const r = trainer.trainStep();
      opts.onStep?.(trainer.step, r.loss);
      const elapsed = trainer.elapsedBefore + (performance.now() - t0) / 1000;
      const done = trainer.step - windowStep;
      const rate = done / Math.max(1e-9, (performance.now() - windowStart) / 1000);
      log.progress(trainer.step, total, `loss ${r.loss.toExponential(2)} | ${rate.toFixed(1)} steps/s | ${formatDuration(elapsed)} | left ${formatDuration((total - trainer.step) / rate)}`);
      if (trainer.step % config.train.evalEvery === 0 || trainer.step === total) {
        const rec = trainer.evalRecord(trainer.elapsedBefore + (performance.now() - t0) / 1000);
        last = rec;
        log.line(formatRecord(rec, rate));
        windowStart = performance.now();
        windowStep = trainer.step;
        appendFileSync(metricsPath, `${JSON.stringify(rec)}\n`);
        if (best === null || rec.bitErrorsPerSeq < best.bitErrorsPerSeq ||
            (rec.bitErrorsPerSeq === best.bitErrorsPerSeq && rec.loss < best.loss)) {
          best = { step: rec.step, bitErrorsPerSeq: rec.bitErrorsPerSeq, loss: rec.loss };
          save('best');
        }
        save('last');
        opts.onEval?.(rec, model);
        if (until > 0 && rec.bitErrorsPerSeq < until) {
          reachedStep = rec.step;
          log.line(`bit errors per sequence ${rec.bitErrorsPerSeq.toFixed(4)} < ${until} at step ${rec.step} ` +
            `after ${formatDuration(rec.elapsedSec)} of training; stopping`);
          break;
        }
      }
      // let signals and servers run between steps
      if (trainer.step % 4 === 0) await new Promise<void>((res) => setImmediate(res));
    }
    if (stopSignal !== null) {
      save('last');
      log.line(`${stopSignal}: saved step ${trainer.step} to ${join(ckptDir, 'last.safetensors')}`);
      log.line(`resume with: npx engram train --run-dir ${runDir} --resume`);
    } else {
      log.line(`done: run written to ${runDir}`);
    }
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    log.clearBar();
  }
  return { runDir, last, interrupted: stopSignal !== null, reachedStep };
}
