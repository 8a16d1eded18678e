/**
 * @file `engram test --report FILE.html`: one self-contained HTML file with the dashboard's
 * pictures of a tested model (its curves, if it came from a run directory, and the memory
 * inspector on one test sample). The page's script and styles are inlined and the data rides
 * in a JSON element, so the file opens offline, from anywhere, with no server.
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { writeFileAtomic } from '../checkpoint/atomic.js';
import type { Config } from '../config/schema.js';
import type { MemoryModel } from '../models/model.js';
import type { Batch } from '../tasks/batch.js';
import { inspectBatch } from './inspect.js';
import { gatherInto, zeroBatch } from '../tasks/batch.js';
import { neededSteps } from '../tasks/groups.js';
import { createTask } from '../tasks/registry.js';
import { REPORT_DATA_ID, type GeneralisationRecord, type ReportData } from './protocol.js';
import { readGeneralisation, readMetrics, summarise, checkpointFile } from './runs.js';
import { UserError } from '../cli/errors.js';
import { WEB_DIR } from './server.js';

export interface ReportInput {
  readonly model: MemoryModel;
  readonly config: Config;
  /** a test batch; its element 0 is inspected (the sample `engram test` prints) */
  readonly batch: Batch;
  readonly checkpoint: string;
  /** the training step of the checkpoint's weights, when known */
  readonly step?: number | null;
  /** the run directory, when the checkpoint came from one: its curves go in the report */
  readonly runDir?: string;
  readonly metrics: { loss: number; bitsPerSeq: number; bitErrorsPerSeq: number };
  readonly batches: number;
  readonly length: number | null;
  /** the rows of a test over several lengths or repeats (else the run's last recorded ones are shown, if any) */
  readonly generalisation?: GeneralisationRecord | null;
}

/**
 * Refuses, with one line, a report path that cannot be written (checked before a test's
 * evaluation, which may take a while): its folder must exist, and the path must not be a folder.
 */
export function checkReportPath(file: string): void {
  const path = resolve(file), dir = dirname(path);
  let ok = false;
  try {
    ok = statSync(dir).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) throw new UserError(`--report ${file}: the folder ${dir} does not exist; create it or choose another path`);
  if (existsSync(path) && statSync(path).isDirectory()) throw new UserError(`--report ${file} is a folder; give a file name such as report.html`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UserError(`--report ${file}: cannot write into ${dir}`);
  }
}

/** Sample 0 of `batch` as a batch of its own, to the last time step it is scored at. */
export function firstSample(batch: Batch): Batch {
  const T = Math.max(1, neededSteps(batch, 0));
  return gatherInto(batch, [0], 0, 1, T, zeroBatch(T, 1, batch.X, batch.Y));
}

/** Text that may sit inside <script>…</script> without ending it. */
function scriptSafe(text: string): string {
  return text.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

export function reportHtml(data: ReportData, webDir = WEB_DIR): string {
  const js = `${webDir}/app.js`, css = `${webDir}/app.css`;
  if (!existsSync(js) || !existsSync(css)) throw new Error(`the dashboard page is not built (no ${js}); run npm run build`);
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  const title = `engram report: ${data.title}`.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="data:,">
<style>${readFileSync(css, 'utf8').replace(/<\/(style)/gi, '<\\/$1')}</style>
</head>
<body>
<div id="app"></div>
<script type="application/json" id="${REPORT_DATA_ID}">${json}</script>
<script>${scriptSafe(readFileSync(js, 'utf8'))}</script>
</body>
</html>
`;
}

/** Writes the report; @returns its absolute path. */
export function writeReport(file: string, input: ReportInput): string {
  const runDir = input.runDir ?? guessRunDir(input.checkpoint);
  const evals = runDir ? readMetrics(runDir) : [];
  const name = runDir ? basename(resolve(runDir)) : basename(input.checkpoint);
  const data: ReportData = {
    title: name,
    run: summarise(name, input.config, evals, true, false),
    evals,
    test: {
      checkpoint: input.checkpoint, loss: input.metrics.loss, bitsPerSeq: input.metrics.bitsPerSeq, bitErrorsPerSeq: input.metrics.bitErrorsPerSeq,
      batches: input.batches, length: input.length,
    },
    generalisation: input.generalisation ?? (runDir ? readGeneralisation(runDir) : null),
    // sample 0 alone, cut to its own length (not padded to the batch's longest)
    inspection: inspectBatch(input.model, firstSample(input.batch), 0, `test sample 0 of ${basename(input.checkpoint)}`, input.step ?? null,
      createTask(input.config.task).lengthName),
  };
  const path = resolve(file);
  writeFileAtomic(path, reportHtml(data));
  return path;
}

/** DIR/checkpoints/x.safetensors → DIR, if DIR looks like a run directory. */
function guessRunDir(checkpoint: string): string | undefined {
  const dir = dirname(dirname(resolve(checkpoint)));
  return basename(dirname(resolve(checkpoint))) === 'checkpoints' && checkpointFile(dir) !== null && existsSync(`${dir}/config.json`) ? dir : undefined;
}
