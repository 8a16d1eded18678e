/**
 * @file Exact resume: puts a run's `last` checkpoint (weights, optimiser buffers and step,
 * both data streams, the running training loss, the bad-step count, the curriculum level)
 * back into a trainer.
 */
import { existsSync } from 'node:fs';
import {
  applyWeights, CheckpointError, configDifferences, loadCheckpoint, statePath, weightsPath, type BestRecord,
} from '../checkpoint/checkpoint.js';
import type { Config } from '../config/schema.js';
import type { seedStreams, Trainer } from '../train/trainer.js';
import { CONFIG_FILE } from './run-files.js';
import { UserError } from './user-error.js';

/** Puts the `last` checkpoint into `trainer` and returns the best record so far. */
export function restore(ckptDir: string, config: Config, trainer: Trainer, streams: ReturnType<typeof seedStreams>): BestRecord | null {
  let ck;
  try {
    ck = loadCheckpoint(ckptDir, 'last');
  } catch (err) {
    if (!(err instanceof CheckpointError) || !existsSync(statePath(ckptDir, 'best'))) throw err;
    throw new CheckpointError(`${err.message} (to resume from the best checkpoint instead, copy best.safetensors and ` +
      `best.state.safetensors over last.safetensors and last.state.safetensors in ${ckptDir})`);
  }
  const source = weightsPath(ckptDir, 'last');
  // train.steps is the total the run trains to: `--resume --steps N` moves it, in config.json first
  const diff = configDifferences(config, ck.state.config).filter((k) => k !== 'train.steps');
  if (diff.length > 0) {
    throw new UserError(`${CONFIG_FILE} does not match the checkpoint ${source} (${diff.slice(0, 4).join(', ')} differ); ` +
      `restore ${CONFIG_FILE} as it was, or start a new run`);
  }
  applyWeights(trainer.model.params, ck.weights.tensors, source);
  try {
    trainer.optimizer.loadState(ck.state.optimizerStep, ck.optimizer);
  } catch (err) {
    throw new CheckpointError(`${statePath(ckptDir, 'last')}: ${(err as Error).message}; it was saved with a different optimizer`);
  }
  streams.train.setState(ck.state.rng.train);
  streams.eval.setState(ck.state.rng.eval);
  trainer.step = ck.state.step;
  trainer.skippedSteps = ck.state.skippedSteps;
  trainer.badInARow = ck.state.badInARow;
  trainer.elapsedBefore = ck.state.elapsedSec;
  trainer.lossSum = ck.state.runningLoss.sum;
  trainer.lossCount = ck.state.runningLoss.count;
  if (ck.state.level !== undefined) trainer.level = Math.min(ck.state.level, trainer.task.levels - 1);
  return ck.state.best;
}
