/**
 * @file A config in one line, for the dashboard's run list and the playground:
 * e.g. "LSTM 64, 1+1 heads, 32 × 12 memory, adam 0.02, batch 8".
 */
import type { Config } from './schema.js';

export function describeConfig(c: Config): string {
  const m = c.model;
  const training = `${c.optimizer.name} ${c.optimizer.lr}${c.optimizer.lrDecayEvery > 0 ? ` × ${c.optimizer.lrDecayFactor} every ${c.optimizer.lrDecayEvery}` : ''}, batch ${c.train.batchSize}`;
  if (m.type === 'lstm') return `LSTM ${m.layers} × ${m.hiddenSize}, no memory, ${training}`;
  const heads = m.type === 'dnc' ? `${m.writeHeads} write + ${m.readHeads} read heads` : `${m.writeHeads}+${m.readHeads} heads`;
  return `${m.controller.toUpperCase()} ${m.hiddenSize}, ${heads}, ${m.memorySlots} × ${m.wordSize} memory, ${training}`;
}
