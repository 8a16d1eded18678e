/**
 * @file `engram test`: loads a trained model, reports the three metrics over fresh batches,
 * and prints one sample's input, target and rounded output as bit grids.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, type TrainedModel } from '../api/load-model.js';
import { configDifferences } from '../checkpoint/checkpoint.js';
import { DEFAULTS, timeStepBytes, type Config } from '../config/schema.js';
import { loadTaskModule } from './task-module.js';
import { forwardFlopsPerTimeStep } from '../models/flops.js';
import type { MemoryModel } from '../models/model.js';
import type { Batch, Task } from '../tasks/batch.js';
import { MetricsAccumulator } from '../train/loss.js';
import { appendFileSafely } from '../checkpoint/atomic.js';
import { Rng } from '../tensor/random.js';
import type { Buf } from '../tensor/tensor.js';
import { OpContext } from '../tensor/context.js';
import { intFlag, parseFlags } from './args.js';
import { UserError } from './errors.js';
import { CONFIG_FILE, readConfigJson } from '../run/run-files.js';
import { checkReportPath, writeReport } from '../server/report.js';
import { GENERALISATION_FILE } from '../server/runs.js';
import type { GeneralisationRecord, GeneralisationRow } from '../server/protocol.js';
import { describeRange, rangeText } from '../tasks/batch.js';

export const TEST_HELP = `usage: engram test --run-dir DIR [--last] [--batches K] [--length L | --lengths L1,L2,...] [--repeats R1,...] [--seed S] [--json]
       engram test --checkpoint FILE.safetensors [...]

  --run-dir DIR      a run directory; loads its best checkpoint (--last: the latest)
  --checkpoint FILE  a weights file written by engram train (NAME.safetensors)
  --batches K        evaluate on K fresh batches per row (default: the run's evalBatches)
  --length L         every sample has exactly L words (items, bits … as the task counts)
  --lengths L1,...   one row of metrics per length: generalisation to longer sequences
  --items N1,...     the same as --lengths, for tasks whose samples are items (associative-recall)
  --repeats R1,...   one row per repeat count (tasks with repeats); with --lengths, every pair
  --task FILE        the module of a run's own task (engram train --task FILE)
  --seed S           seed of the test batches (default: the run's seed)
  --json             print the metrics as one JSON object on the last line
  --report FILE.html write one self-contained HTML page: curves, generalisation and the memory inspector

  With --run-dir, the rows of --lengths / --items / --repeats are also appended to
  DIR/generalisation.jsonl, which the dashboard's past-runs page and --report plot.`;

/** What a row of a test is drawn with: each sample's length and repeats, when fixed. */
export interface TestCase {
  readonly length?: number;
  readonly repeats?: number;
}

/** One row of `engram test`: a case (its length and repeats, when fixed) and its metrics. */
export type TestRow = GeneralisationRow;

/**
 * Evaluation is refused up front past these: one batch's buffers, and the whole test's time at
 * a rate well below what the kernels reach (so the estimate errs towards letting a test run).
 */
const MAX_TEST_BYTES = 2 * 2 ** 30;
const MAX_TEST_SECONDS = 300;
const ASSUMED_FLOPS_PER_SEC = 5e9; // measured: about 6.8 GFLOP/s for ntm-copy-paper at batch 8

/** A comma-separated list of whole numbers ≥ 1 (a flag's value), or undefined when absent. */
export function intList(name: string, v: unknown): number[] | undefined {
  if (v === undefined) return undefined;
  const parts = typeof v === 'string' ? v.split(',').map((p) => p.trim()) : [];
  const out = parts.map(Number);
  if (parts.length === 0 || parts.some((p) => p === '') || out.some((n) => !Number.isInteger(n) || n < 1) || out.length > 100) {
    throw new UserError(`--${name} must be whole numbers ≥ 1 separated by commas (at most 100), e.g. --${name} 10,20,40; got "${String(v)}"`);
  }
  return out;
}

/** The rough cost of evaluating `batches` batches of one case: bytes per batch, seconds in all. */
export function testCost(config: Config, task: Task, c: TestCase, batches: number): { steps: number; bytes: number; seconds: number } {
  const steps = task.steps(c.length ?? task.lengths[1], c.repeats ?? task.repeats?.[1]);
  const B = config.train.batchSize;
  // a batch's input, target and mask, the logits kept per step, and twice one time step's state (as a training step's, without the tape)
  const bytes = 4 * steps * B * (task.inputSize + 2 * task.outputSize + 1) + 2 * timeStepBytes(config);
  const seconds = (batches * steps * forwardFlopsPerTimeStep(config.model, task.inputSize, task.outputSize, B)) / ASSUMED_FLOPS_PER_SEC;
  return { steps, bytes, seconds };
}

/**
 * Refuses, with one line, a test whose evaluation would take minutes or gigabytes, naming the
 * largest length that would not.
 */
function checkCost(config: Config, task: Task, cases: readonly TestCase[], batches: number): void {
  const costs = cases.map((c) => testCost(config, task, c, batches));
  const t = { bytes: Math.max(...costs.map((k) => k.bytes)), seconds: costs.reduce((a, k) => a + k.seconds, 0) };
  if (t.bytes <= MAX_TEST_BYTES && t.seconds <= MAX_TEST_SECONDS) return;
  // the case with the longest sequences (the first of them)
  const worst = cases[costs.reduce((w, k, i) => (k.steps > costs[w]!.steps ? i : w), 0)]!;
  let lo = 1, hi = Math.max(1, worst.length ?? task.lengths[1]);
  while (lo < hi) { // the largest length whose case alone fits
    const mid = Math.ceil((lo + hi) / 2);
    const k = testCost(config, task, { ...worst, length: mid }, batches);
    if (k.bytes <= MAX_TEST_BYTES && k.seconds <= MAX_TEST_SECONDS) lo = mid;
    else hi = mid - 1;
  }
  const what = t.bytes > MAX_TEST_BYTES ? `about ${(t.bytes / 2 ** 30).toFixed(1)} GiB per batch` : `about ${Math.ceil(t.seconds / 60)} minutes`;
  throw new UserError(`this test would take ${what} (${batches} batches of ${config.train.batchSize}); ` +
    `keep ${task.lengthName} per sample at most ${lo} here, or lower --batches`);
}

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

export async function testCommand(argv: string[]): Promise<number> {
  const f = parseFlags('test', argv, {
    'run-dir': { type: 'string' },
    checkpoint: { type: 'string' },
    last: { type: 'boolean' },
    batches: { type: 'string' },
    length: { type: 'string' },
    lengths: { type: 'string' },
    task: { type: 'string' },
    items: { type: 'string' },
    repeats: { type: 'string' },
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
  const seedFlag = intFlag('seed', f.seed, 0, 0xffffffff);
  const lengthList = intList('lengths', f.lengths), itemList = intList('items', f.items), repeatList = intList('repeats', f.repeats);
  if ([length, lengthList, itemList].filter((v) => v !== undefined).length > 1) {
    throw new UserError('pass one of --length, --lengths and --items');
  }
  // --report is written after the evaluation: a path that cannot be written is refused before it
  if (typeof f.report === 'string') checkReportPath(f.report);

  // a run on a user's task: its module, named again here (a run directory never runs code by itself)
  if (typeof f.task === 'string') await loadTaskModule(f.task, { ...DEFAULTS.task, module: '' });
  let trained: TrainedModel;
  if (typeof runDir === 'string') {
    if (!existsSync(runDir)) throw new UserError(`--run-dir ${runDir} does not exist`);
    trained = loadModel(runDir, { last: f.last === true });
    checkRunConfig(runDir, trained);
  } else {
    trained = loadModel(checkpoint as string, { last: f.last === true });
  }
  const { model, config, task, path: file } = trained;
  if (itemList !== undefined && task.lengthName !== 'items') {
    throw new UserError(`--items: ${task.name}'s samples are counted in ${task.lengthName}; use --lengths`);
  }
  if (repeatList !== undefined && task.repeats === undefined) throw new UserError(`--repeats: ${task.name} has no repeats`);
  const lengths: (number | undefined)[] = lengthList ?? itemList ?? [length];
  const cases: TestCase[] = lengths.flatMap((L) => (repeatList ?? [undefined]).map((R) => ({
    ...(L !== undefined ? { length: L } : {}), ...(R !== undefined ? { repeats: R } : {}),
  })));
  const K = batches ?? config.train.evalBatches;
  checkCost(config, task, cases, K);

  const progress = new TestProgress(cases.length * K);
  const rows: TestRow[] = [];
  let sample: { batch: Batch; logits: Buf[] } | null = null;
  for (const c of cases) {
    const rng = new Rng(seedFlag ?? config.seed).fork('test'); // each row on the same draws
    const r = evaluateCase(model, task, c, K, config.train.batchSize, rng, () => progress.tick(describeCase(task, c)));
    rows.push(r.row);
    sample = r.sample;
  }
  progress.done();
  const many = cases.length > 1 || lengthList !== undefined || itemList !== undefined || repeatList !== undefined;
  console.log(`checkpoint: ${file} (step ${trained.step})`);
  if (!many) {
    const m = rows[0]!;
    console.log(`${K} fresh batches of ${config.train.batchSize}${length ? `, ${length} ${task.lengthName} each` : ''}: ` +
      `loss ${m.loss.toExponential(3)} | bits/seq ${m.bitsPerSeq.toFixed(4)} | bit errors/seq ${m.bitErrorsPerSeq.toFixed(4)}` +
      (m.optimalBitsPerSeq !== undefined ? ` | optimal bits/seq ${m.optimalBitsPerSeq.toFixed(4)}` : ''));
  } else {
    console.log(`${K} fresh batches of ${config.train.batchSize} per row (trained on ${describeRange(task)}):`);
    console.log(formatRows(task, rows));
  }
  if (sample) {
    const last = cases[cases.length - 1]!;
    console.log(`\none sample (${sample.batch.lengths[0]} ${task.lengthName}${last.repeats !== undefined ? `, ${last.repeats} repeats` : ''}):\n${bitGrids(sample.batch, sample.logits, 0)}`);
    console.log('(time runs left to right; # is 1, . is 0, ! is a wrong output bit; outputs are shown where scored)');
  }
  let generalisation: GeneralisationRecord | null = null;
  if (many) {
    generalisation = { time: new Date().toISOString(), step: trained.step, checkpoint: file, seed: seedFlag ?? config.seed, batches: K, lengthName: task.lengthName, rows };
    if (typeof runDir === 'string') appendFileSafely(join(runDir, GENERALISATION_FILE), `${JSON.stringify(generalisation)}\n`);
  }
  if (typeof f.report === 'string' && sample) {
    const m = rows[rows.length - 1]!;
    const report = writeReport(f.report, {
      model, config, batch: sample.batch, checkpoint: file, step: trained.step, runDir: typeof runDir === 'string' ? runDir : undefined,
      metrics: m, batches: K, length: cases[cases.length - 1]!.length ?? null, generalisation,
    });
    console.log(`report: ${report}`);
  }
  if (f.json) {
    const head = many ? {} : { ...rows[0]! };
    console.log(JSON.stringify({ ...head, batches: K, batchSize: config.train.batchSize, length: many ? null : length ?? null, lengthName: task.lengthName, step: trained.step, checkpoint: file, rows }));
  }
  return 0;
}

function describeCase(task: Task, c: TestCase): string {
  const parts = [c.length !== undefined ? `${c.length} ${task.lengthName}` : '', c.repeats !== undefined ? `${c.repeats} repeats` : ''];
  return parts.filter((p) => p !== '').join(', ') || 'the training range';
}

/** The metrics of K batches of one case, and its first batch (to print a sample of). */
export function evaluateCase(model: MemoryModel, task: Task, c: TestCase, K: number, B: number, rng: Rng, onBatch?: () => void): { row: TestRow; sample: { batch: Batch; logits: Buf[] } } {
  const acc = new MetricsAccumulator();
  let scored = 0;
  let sample: { batch: Batch; logits: Buf[] } | null = null;
  for (let i = 0; i < K; i++) {
    const batch = task.sample(rng, B, c);
    const logits = model.forward(OpContext.plain, batch.input, batch.T, batch.B).map((z) => z.data);
    acc.add(logits, batch);
    for (let j = 0; j < batch.mask.length; j++) scored += batch.mask[j]! * batch.Y;
    sample ??= { batch, logits };
    onBatch?.();
  }
  const m = acc.result();
  return { row: { ...c, ...m, bitErrorRate: scored > 0 ? (m.bitErrorsPerSeq * K * B) / scored : 0 }, sample: sample! };
}

/** The rows as an aligned table. */
export function formatRows(task: Task, rows: readonly TestRow[]): string {
  const optimal = rows.some((r) => r.optimalBitsPerSeq !== undefined);
  const head = [task.lengthName, ...(task.repeats ? ['repeats'] : []), 'loss', 'bits/seq', ...(optimal ? ['optimal bits/seq'] : []), 'bit errors/seq', 'bits wrong'];
  const body = rows.map((r) => [
    r.length !== undefined ? String(r.length) : rangeText(task.lengths),
    ...(task.repeats ? [r.repeats !== undefined ? String(r.repeats) : `${task.repeats[0]}..${task.repeats[1]}`] : []),
    r.loss.toExponential(3), r.bitsPerSeq.toFixed(4), ...(optimal ? [r.optimalBitsPerSeq?.toFixed(4) ?? ''] : []),
    r.bitErrorsPerSeq.toFixed(4), `${(100 * r.bitErrorRate).toFixed(2)}%`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return [head, ...body].map((cols) => cols.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** Batches done, on stderr: a line that rewrites itself on a terminal, else one every 10 s (only once a test runs past 2 s). */
class TestProgress {
  private done_ = 0;
  private readonly t0 = performance.now();
  private lastShown = 0;
  constructor(private readonly total: number) {}

  tick(what: string): void {
    this.done_++;
    const now = performance.now();
    const tty = process.stderr.isTTY === true;
    if (now - this.t0 < 2000 || now - this.lastShown < (tty ? 200 : 10_000)) return;
    this.lastShown = now;
    const line = `testing ${what}: batch ${this.done_} of ${this.total}, ${((now - this.t0) / 1000).toFixed(0)} s`;
    if (tty) process.stderr.write(`\r${line}\x1b[K`);
    else process.stderr.write(`${line}\n`);
  }

  done(): void {
    if (this.lastShown > 0 && process.stderr.isTTY === true) process.stderr.write('\r\x1b[K');
  }
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
