/**
 * @file Faults a test injects into a run, passed in as an option (the CLI reads them from
 * ENGRAM_TEST_NAN_STEPS and ENGRAM_TEST_WRITE_FAULT, so end-to-end tests reach a child process).
 */
import type { WriteFault } from '../checkpoint/atomic.js';
import type { Trainer } from '../train/trainer.js';

export interface RunFaults {
  /** poison one gradient value with NaN at steps a..b (inclusive) */
  readonly nanSteps?: readonly [number, number];
  /** fail the n-th write to a file ending in the suffix, as a full disk would */
  readonly writeFault?: WriteFault;
}

/** Parses `A-B` (or `A`) for RunFaults.nanSteps. */
export function parseNanSteps(spec: string): [number, number] {
  const [a, b] = spec.split('-').map(Number) as [number, number | undefined];
  return [a, b ?? a];
}

/** Makes the trainer poison a gradient at the steps `nanSteps` names. */
export function installNanSteps(trainer: Trainer, nanSteps: readonly [number, number]): void {
  const [a, b] = nanSteps;
  trainer.gradientHook = (step, params) => {
    if (step >= a && step <= b) params.values().next().value!.g()[0] = NaN;
  };
}
