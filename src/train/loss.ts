/**
 * @file Masked binary cross-entropy from logits, and the three evaluation metrics.
 *   BCE(z, y) = max(z, 0) − z·y + log(1 + e^{−|z|})      stable for any logit z
 *   loss            = Σ mask·BCE / (T·B·Y) / B            the reference's scale
 *   bitsPerSeq      = Σ mask·BCE / ln 2 / B                the NTM paper's cost per sequence
 *   bitErrorsPerSeq = Σ mask·[round(σ(z)) ≠ y] / B
 */
import { sigmoidScalar } from '../tensor/ops.js';
import { expectShape, Tensor, type Buf } from '../tensor/tensor.js';
import { contextOf } from '../tensor/op.js';
import type { Batch } from '../tasks/batch.js';

export function bceWithLogits(z: number, y: number): number {
  return Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
}

/** The reference's normaliser: Σ mask·BCE is divided by this to give `loss`. */
export function lossScale(batch: Batch): number {
  return batch.T * batch.B * batch.Y * batch.B;
}

/**
 * The training loss on the reference's scale.
 * @param logits T tensors, each [B, Y], or at step t [n, Y] for the batch's first n samples
 * when the others are no longer scored (mask 0 from t on: a batch that drops its finished
 * samples, MemoryModel.forward's `rows`)
 * @param normaliser the divisor of Σ mask·BCE; a slice of a batch passes the whole batch's
 * @returns scalar [1]
 */
export function maskedBceLoss(logits: readonly Tensor[], batch: Batch, normaliser = lossScale(batch)): Tensor {
  const { T, B, Y } = batch;
  if (logits.length !== T) throw new Error(`maskedBceLoss: ${logits.length} output steps for a batch of T=${T}`);
  const rows = logits.map((z, t) => {
    const n = z.shape[0]!;
    expectShape('maskedBceLoss', 'logits', z, [Math.min(Math.max(n, 1), B), Y]);
    for (let b = n; b < B; b++) {
      if (batch.mask[t * B + b] !== 0) throw new Error(`maskedBceLoss: logits at step ${t} have ${n} rows, but sample ${b} is scored there`);
    }
    return n;
  });
  // its own tape record rather than op()'s: both passes take the batch and the normaliser as
  // arguments (a replay hands them its own), where op()'s passes have theirs fixed
  // (in the logits' context: the step's pool, tape and recorder)
  const ctx = contextOf(logits);
  const tape = ctx.tape !== null && logits.some((z) => z.requiresGrad) ? ctx.tape : null;
  const out = Tensor.zeros([1], logits[0]!.dtype, tape !== null, ctx);
  // both passes are functions of the batch and the normaliser, so a replay of the step redoes
  // them with its own
  const forward = (batch: Batch, normaliser: number): void => {
    let sum = 0;
    for (let t = 0; t < T; t++) sum += maskedBceSum(logits[t]!.data, batch, t, rows[t]);
    out.data[0] = sum * (1 / normaliser);
  };
  forward(batch, normaliser);
  ctx.replayJs(forward);
  if (tape) {
    tape.push(() => {
      const g = out.grad;
      if (g === null) return;
      const gz = logits.map((z) => (z.requiresGrad ? z.g() : null));
      const backward = (batch: Batch, normaliser: number): void => {
        const s = g[0]! * (1 / normaliser);
        for (let t = 0; t < T; t++) {
          const gzt = gz[t];
          if (!gzt) continue;
          const zd = logits[t]!.data, n = rows[t]!;
          for (let b = 0; b < n; b++) {
            const m = batch.mask[t * B + b]!;
            if (m === 0) continue;
            for (let j = 0; j < Y; j++) {
              const k = b * Y + j;
              gzt[k]! += s * m * (sigmoidScalar(zd[k]!) - batch.target[(t * B + b) * Y + j]!);
            }
          }
        }
      };
      backward(batch, normaliser);
      ctx.replayJs(backward);
    });
  }
  return out;
}

/** Σ_b,j mask·BCE at time step t. @param z [B, Y], or [rows, Y] of the batch's first samples */
export function maskedBceSum(z: Buf, batch: Batch, t: number, rows = batch.B): number {
  const { B, Y } = batch;
  let s = 0;
  for (let b = 0; b < rows; b++) {
    const m = batch.mask[t * B + b]!;
    if (m === 0) continue;
    for (let j = 0; j < Y; j++) s += m * bceWithLogits(z[b * Y + j]!, batch.target[(t * B + b) * Y + j]!);
  }
  return s;
}

/**
 * Σ_b,j mask·[round(σ(z)) ≠ y] at time step t; σ(z) > 0.5 ⇔ z > 0. At z = 0 exactly, σ = 0.5
 * rounds to 0, as torch.round (half to even) does. @param z [B, Y]
 */
export function maskedBitErrors(z: Buf, batch: Batch, t: number): number {
  const { B, Y } = batch;
  let s = 0;
  for (let b = 0; b < B; b++) {
    const m = batch.mask[t * B + b]!;
    if (m === 0) continue;
    for (let j = 0; j < Y; j++) {
      const bit = z[b * Y + j]! > 0 ? 1 : 0;
      if (bit !== batch.target[(t * B + b) * Y + j]) s += m;
    }
  }
  return s;
}

export interface Metrics {
  loss: number;
  bitsPerSeq: number;
  bitErrorsPerSeq: number;
  /** tasks with a best possible predictor (Batch.optimalBits): its bits per sequence, to set beside bitsPerSeq */
  optimalBitsPerSeq?: number;
}

/** Accumulates the three metrics over several batches (averaged per batch, like the reference). */
export class MetricsAccumulator {
  private loss = 0;
  private bce = 0;
  private errors = 0;
  private sequences = 0;
  private batches = 0;
  /** Σ Batch.optimalBits, and the sequences of the batches that had it */
  private optimal = 0;
  private optimalSequences = 0;

  /** @param logits T buffers, each [B, Y] */
  add(logits: readonly Buf[], batch: Batch): void {
    let bce = 0, err = 0;
    for (let t = 0; t < batch.T; t++) {
      bce += maskedBceSum(logits[t]!, batch, t);
      err += maskedBitErrors(logits[t]!, batch, t);
    }
    this.loss += bce / lossScale(batch);
    this.bce += bce;
    this.errors += err;
    this.sequences += batch.B;
    this.batches++;
    if (batch.optimalBits !== undefined) {
      this.optimal += batch.optimalBits;
      this.optimalSequences += batch.B;
    }
  }

  result(): Metrics {
    const m: Metrics = {
      loss: this.loss / this.batches,
      bitsPerSeq: this.bce / Math.LN2 / this.sequences,
      bitErrorsPerSeq: this.errors / this.sequences,
    };
    if (this.optimalSequences > 0) m.optimalBitsPerSeq = this.optimal / this.optimalSequences;
    return m;
  }
}
