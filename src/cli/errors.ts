/**
 * @file Errors the user can fix: printed as one line, never with a stack trace.
 */
import { ConfigError } from '../config/schema.js';
import { CheckpointError } from '../checkpoint/checkpoint.js';
import { WriteError } from '../checkpoint/atomic.js';
import { NonFiniteError } from '../train/trainer.js';

export class UserError extends Error {}

/** True for errors whose message alone tells the user what to do. */
export function isUserFacing(err: unknown): err is Error {
  return err instanceof UserError || err instanceof ConfigError || err instanceof CheckpointError ||
    err instanceof WriteError || err instanceof NonFiniteError;
}
