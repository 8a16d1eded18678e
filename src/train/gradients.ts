/**
 * @file One batch's forward pass, loss and backward pass, accumulating into the parameters'
 * gradients: the work a training step does, shared by the trainer and its gradient workers.
 */
import type { MemoryModel } from '../models/model.js';
import type { Batch } from '../tasks/batch.js';
import { BufferPool, Tape, withPool, withTape } from '../tensor/tensor.js';
import { lossScale, maskedBceLoss } from './loss.js';

/**
 * @param normaliser the loss divisor (a slice of a batch passes the whole batch's lossScale)
 * @returns the loss value
 */
export function accumulateGradients(model: MemoryModel, batch: Batch, pool: BufferPool, normaliser = lossScale(batch)): number {
  const tape = new Tape();
  // the step's buffers come from the pool; nothing that holds one outlives this block
  return withPool(pool, () => {
    const loss = withTape(tape, () => maskedBceLoss(model.forward(batch.input, batch.T, batch.B), batch, normaliser));
    tape.backward(loss);
    return loss.data[0]!;
  });
}
