/**
 * @file `engram test`: loads a trained model, reports SPEC §5's metrics over fresh batches,
 * and prints one sample's input, target and rounded output as bit grids.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { applyWeights, loadWeights, weightsPath } from '../checkpoint/checkpoint.js';
import { createModel } from '../models/registry.js';
import { createTask } from '../tasks/registry.js';
import type { Batch } from '../tasks/batch.js';
import { MetricsAccumulator } from '../train/loss.js';
import { Rng } from '../tensor/random.js';
import type { Buf } from '../tensor/tensor.js';
import { intFlag, parseFlags } from './args.js';
import { UserError } from './errors.js';

export const TEST_HELP = `usage: engram test --run-dir DIR [--last] [--batches K] [--length L] [--seed S] [--json]
       engram test --checkpoint FILE.safetensors [...]

  --run-dir DIR      a run directory; loads its best checkpoint (--last: the latest)
  --checkpoint FILE  a weights file written by engram train
  --batches K        evaluate on K fresh batches (default: the run's evalBatches)
  --length L         every sample has exactly L words (test generalisation to longer sequences)
  --seed S           seed of the test batches (default: the run's seed)
  --json             print the metrics as one JSON object on the last line`;

/** One sample's channels over time: '#' for 1, '.' for 0, '!' for a wrong scored output bit. */
export function bitGrids(batch: Batch, logits: readonly Buf[], b: number): string {
  const { T, B, X, Y } = batch;
  const lines: string[] = [];
  const row = (label: string, f: (t: number) => string): void => {
    let s = '';
    for (let t = 0; t < T; t++) s += f(t);
    lines.push(`${label.padEnd(9)}${s}`);
  };
  lines.push('input');
  for (let j = 0; j < X; j++) row(`  ${j}`, (t) => (batch.input[(t * B + b) * X + j]! > 0 ? '#' : '.'));
  lines.push('target');
  for (let j = 0; j < Y; j++) row(`  ${j}`, (t) => (batch.mask[t * B + b]! === 0 ? ' ' : batch.target[(t * B + b) * Y + j]! > 0 ? '#' : '.'));
  lines.push('output');
  for (let j = 0; j < Y; j++) {
    row(`  ${j}`, (t) => {
      if (batch.mask[t * B + b]! === 0) return ' ';
      const bit = logits[t]![b * Y + j]! > 0 ? 1 : 0;
      return bit !== batch.target[(t * B + b) * Y + j] ? '!' : bit ? '#' : '.';
    });
  }
  return lines.join('\n');
}

export function testCommand(argv: string[]): number {
  const f = parseFlags('test', argv, {
    'run-dir': { type: 'string' },
    checkpoint: { type: 'string' },
    last: { type: 'boolean' },
    batches: { type: 'string' },
    length: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (f.help) {
    console.log(TEST_HELP);
    return 0;
  }
  let file: string;
  if (typeof f.checkpoint === 'string') {
    file = f.checkpoint;
  } else if (typeof f['run-dir'] === 'string') {
    const dir = join(f['run-dir'], 'checkpoints');
    const best = weightsPath(dir, 'best'), last = weightsPath(dir, 'last');
    file = f.last || !existsSync(best) ? last : best;
    if (!existsSync(file)) throw new UserError(`${f['run-dir']} has no checkpoint yet (looked for ${file})`);
  } else {
    throw new UserError('engram test needs --run-dir DIR or --checkpoint FILE');
  }
  const { tensors, config } = loadWeights(file);
  const task = createTask(config.task);
  const model = createModel(config.model, task.inputSize, task.outputSize, new Rng(0));
  applyWeights(model.params, tensors, file);

  const batches = intFlag('batches', f.batches) ?? config.train.evalBatches;
  const length = intFlag('length', f.length);
  const seed = intFlag('seed', f.seed, 0) ?? config.seed;
  const rng = new Rng(seed).fork('test');
  const acc = new MetricsAccumulator();
  let sample: { batch: Batch; logits: Buf[] } | null = null;
  for (let i = 0; i < batches; i++) {
    const batch = task.sample(rng, config.train.batchSize, length);
    const logits = model.forward(batch.input, batch.T, batch.B).map((z) => z.data);
    acc.add(logits, batch);
    sample ??= { batch, logits };
  }
  const m = acc.result();
  console.log(`checkpoint: ${file}`);
  console.log(`${batches} batches of ${config.train.batchSize}${length ? `, ${length} words each` : ''}: ` +
    `loss ${m.loss.toExponential(3)} | bits/seq ${m.bitsPerSeq.toFixed(4)} | bit errors/seq ${m.bitErrorsPerSeq.toFixed(4)}`);
  if (sample) console.log(`\none sample (${sample.batch.lengths[0]} words):\n${bitGrids(sample.batch, sample.logits, 0)}`);
  if (f.json) console.log(JSON.stringify({ ...m, batches, length: length ?? null, checkpoint: file }));
  return 0;
}
