/**
 * @file Which evaluation is the run's best (the `best` checkpoint).
 */
import type { BestRecord } from '../checkpoint/checkpoint.js';
import type { EvalRecord } from '../train/trainer.js';

/**
 * A higher curriculum level (a wider range), then fewer bit errors, then lower loss; a
 * non-finite evaluation is never the best.
 */
export function isBetter(rec: EvalRecord, best: BestRecord | null): boolean {
  if (!Number.isFinite(rec.bitErrorsPerSeq) || !Number.isFinite(rec.loss)) return false;
  if (best !== null && best.level !== undefined && rec.level !== best.level) return rec.level > best.level;
  return best === null || rec.bitErrorsPerSeq < best.bitErrorsPerSeq ||
    (rec.bitErrorsPerSeq === best.bitErrorsPerSeq && rec.loss < best.loss);
}
