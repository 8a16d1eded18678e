/**
 * @file The faults end-to-end tests inject into a child `engram train`, read from the
 * environment here at the CLI's edge and passed to runTraining as an option:
 *   ENGRAM_TEST_NAN_STEPS=A-B            poisons one gradient value with NaN at steps A..B
 *   ENGRAM_TEST_WRITE_FAULT=CODE:SUFFIX[:N]  fails the N-th write to a file ending in SUFFIX
 */
import { parseWriteFault } from '../checkpoint/atomic.js';
import { parseNanSteps, type RunFaults } from '../run/faults.js';

export function faultsFromEnv(env: NodeJS.ProcessEnv = process.env): RunFaults | undefined {
  const nan = env.ENGRAM_TEST_NAN_STEPS, write = env.ENGRAM_TEST_WRITE_FAULT;
  if (!nan && !write) return undefined;
  return { nanSteps: nan ? parseNanSteps(nan) : undefined, writeFault: write ? parseWriteFault(write) : undefined };
}
