/**
 * @file Errors the user can fix: printed as one line, never with a stack trace.
 */
import { ConfigError } from '../config/schema.js';
import { CheckpointError } from '../checkpoint/checkpoint.js';
import { WriteError } from '../checkpoint/atomic.js';
import { NonFiniteError } from '../train/trainer.js';
import { GradientWorkerError } from '../train/parallel.js';
import { TaskError } from '../tasks/registry.js';
import { UserError } from '../run/user-error.js';

export { UserError };

/** True for errors whose message alone tells the user what to do. */
export function isUserFacing(err: unknown): err is Error {
  return err instanceof UserError || err instanceof ConfigError || err instanceof CheckpointError ||
    err instanceof WriteError || err instanceof NonFiniteError || err instanceof GradientWorkerError || err instanceof TaskError;
}

/**
 * A one-line message for an allocation that failed because a config or flag asked for too much
 * (`--set model.memorySlots=100000000`, `--length 100000000`), or null for any other error.
 * (A V8 heap that runs out is fatal and cannot be caught here.)
 */
export function outOfMemoryMessage(err: unknown): string | null {
  if (!(err instanceof RangeError)) return null;
  if (!/Invalid typed array length|Array buffer allocation failed|could not allocate memory|Invalid array length|heap cannot grow/.test(err.message)) return null;
  return `out of memory (${err.message.split('\n')[0]}): the config or flags ask for larger tensors than this machine can hold; ` +
    'lower train.batchSize, model.memorySlots, model.wordSize, model.hiddenSize, the head counts, task.bits, task.maxWords or --length';
}
