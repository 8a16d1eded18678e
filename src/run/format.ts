/**
 * @file The lines a run prints about itself.
 */
import type { EvalRecord } from '../train/trainer.js';
import { formatDuration } from './log.js';

export function formatRecord(r: EvalRecord, stepsPerSec: number, curriculum = false): string {
  return `step ${r.step}${curriculum ? ` | ${r.range}` : ''} | eval loss ${r.loss.toExponential(3)} | bits/seq ${r.bitsPerSeq.toFixed(3)}` +
    (r.optimalBitsPerSeq !== undefined ? ` (optimal ${r.optimalBitsPerSeq.toFixed(3)})` : '') + ' | ' +
    `bit errors/seq ${r.bitErrorsPerSeq.toFixed(3)} | train loss ${r.trainLoss.toExponential(3)} | ` +
    `${stepsPerSec.toFixed(1)} steps/s | ${formatDuration(r.elapsedSec)}` +
    (r.skippedSteps > 0 ? ` | ${r.skippedSteps} steps skipped (non-finite)` : '');
}

/** A shell word: quoted when it holds anything but safe characters. */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
