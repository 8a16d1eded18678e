/**
 * @file The words the trainer and its gradient workers exchange (control states and the
 * slice message), shared by train/parallel.ts and train/grad-worker.ts.
 */
import type { Batch } from '../tasks/batch.js';

/** Values of a worker's control word (Int32 0 of its control buffer). */
export const State = { Idle: 0, Go: 1, Done: 2, Failed: 3, Quit: 4 } as const;
export type State = (typeof State)[keyof typeof State];

export interface SliceMessage {
  readonly batch: Batch;
  /** the whole batch's loss divisor */
  readonly normaliser: number;
}
