/**
 * @file `engram test`: loads a trained model, reports SPEC §5's metrics over fresh batches,
 * and prints one sample's input, target and rounded output as bit grids.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, type TrainedModel } from '../api/load-model.js';
import { configDifferences } from '../checkpoint/checkpoint.js';
import type { Config } from '../config/schema.js';
import type { Batch } from '../tasks/batch.js';
import { MetricsAccumulator } from '../train/loss.js';
import { Rng } from '../tensor/random.js';
import type { Buf } from '../tensor/tensor.js';
import { intFlag, parseFlags } from './args.js';
import { UserError } from './errors.js';
import { CONFIG_FILE, readConfigJson } from './run.js';
import { writeReport } from '../server/report.js';

export const TEST_HELP = `usage: engram test --run-dir DIR [--last] [--batches K] [--length L] [--seed S] [--json]
       engram test --checkpoint FILE.safetensors [...]

  --run-dir DIR      a run directory; loads its best checkpoint (--last: the latest)
  --checkpoint FILE  a weights file written by engram train (NAME.safetensors)
  --batches K        evaluate on K fresh batches (default: the run's evalBatches)
  --length L         every sample has exactly L words (test generalisation to longer sequences)
  --seed S           seed of the test batches (default: the run's seed)
  --json             print the metrics as one JSON object on the last line
  --report FILE.html write one self-contained HTML page: curves and the memory inspector`;

/** Time steps drawn in the terminal grids; longer sequences are cut with a note (the --report page shows all). */
export const GRID_MAX_STEPS = 160;

/** One sample's channels over time: '#' for 1, '.' for 0, '!' for a wrong scored output bit. */
export function bitGrids(batch: Batch, logits: readonly Buf[], b: number): string {
  const { B, X, Y } = batch;
  const T = Math.min(batch.T, GRID_MAX_STEPS);
  const lines: string[] = [];
  const row = (label: string, f: (t: number) => string): void => {
    let s = '';
    for (let t = 0; t < T; t++) s += f(t);
    lines.push(`${label.padEnd(9)}${s}${batch.T > T ? '…' : ''}`);
  };
  if (batch.T > T) lines.push(`(the first ${T} of ${batch.T} time steps)`);
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
    report: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (f.help) {
    console.log(TEST_HELP);
    return 0;
  }
  const runDir = f['run-dir'], checkpoint = f.checkpoint;
  if (typeof runDir === 'string' && typeof checkpoint === 'string') throw new UserError('engram test takes --run-dir DIR or --checkpoint FILE, not both');
  if (typeof runDir !== 'string' && typeof checkpoint !== 'string') throw new UserError('engram test needs --run-dir DIR or --checkpoint FILE');
  const batches = intFlag('batches', f.batches);
  const length = intFlag('length', f.length);
  const seedFlag = intFlag('seed', f.seed, 0);

  let trained: TrainedModel;
  if (typeof runDir === 'string') {
    if (!existsSync(runDir)) throw new UserError(`--run-dir ${runDir} does not exist`);
    trained = loadModel(runDir, { last: f.last === true });
    checkRunConfig(runDir, trained);
  } else {
    trained = loadModel(checkpoint as string, { last: f.last === true });
  }
  const { model, config, task, path: file } = trained;
  const K = batches ?? config.train.evalBatches;
  const rng = new Rng(seedFlag ?? config.seed).fork('test');
  const acc = new MetricsAccumulator();
  let sample: { batch: Batch; logits: Buf[] } | null = null;
  for (let i = 0; i < K; i++) {
    const batch = task.sample(rng, config.train.batchSize, { length });
    const logits = model.forward(batch.input, batch.T, batch.B).map((z) => z.data);
    acc.add(logits, batch);
    sample ??= { batch, logits };
  }
  const m = acc.result();
  console.log(`checkpoint: ${file} (step ${trained.step})`);
  console.log(`${K} fresh batches of ${config.train.batchSize}${length ? `, ${length} words each` : ''}: ` +
    `loss ${m.loss.toExponential(3)} | bits/seq ${m.bitsPerSeq.toFixed(4)} | bit errors/seq ${m.bitErrorsPerSeq.toFixed(4)}`);
  if (sample) {
    console.log(`\none sample (${sample.batch.lengths[0]} words):\n${bitGrids(sample.batch, sample.logits, 0)}`);
    console.log('(time runs left to right; # is 1, . is 0, ! is a wrong output bit; outputs are shown where scored)');
  }
  if (typeof f.report === 'string' && sample) {
    const report = writeReport(f.report, {
      model, config, batch: sample.batch, checkpoint: file, step: trained.step, runDir: typeof runDir === 'string' ? runDir : undefined,
      metrics: m, batches: K, length: length ?? null,
    });
    console.log(`report: ${report}`);
  }
  if (f.json) {
    console.log(JSON.stringify({ ...m, batches: K, batchSize: config.train.batchSize, length: length ?? null, step: trained.step, checkpoint: file }));
  }
  return 0;
}

/** A run directory's config.json must describe the model in its checkpoint. */
function checkRunConfig(runDir: string, trained: TrainedModel): void {
  const p = join(runDir, CONFIG_FILE);
  if (!existsSync(p)) return;
  const r = readConfigJson(p) as Partial<Config>;
  const diff = [
    ...configDifferences(r.model, trained.config.model, 'model'),
    ...configDifferences(r.task, trained.config.task, 'task'),
  ];
  if (diff.length > 0) {
    throw new UserError(`${p} does not match the checkpoint ${trained.path} (${diff.slice(0, 4).join(', ')} differ); ` +
      'restore config.json, or test the checkpoint alone with --checkpoint');
  }
}
