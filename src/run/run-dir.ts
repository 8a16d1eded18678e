/**
 * @file The checks a run directory passes before a run starts or resumes in it, and the
 * trimming of metrics.jsonl back to the checkpoint a resumed run starts from.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describeFsError, makeDirs, writeFileAtomic, type WriteOptions } from '../checkpoint/atomic.js';
import { CHECKPOINT_DIR, CONFIG_FILE } from './run-files.js';
import { UserError } from './user-error.js';

/**
 * A new run needs a new or empty directory; a resumed one a directory holding a run. Makes
 * DIR/checkpoints. Nothing already in the directory is changed.
 */
export function prepareDir(runDir: string, resume: boolean): void {
  let isDir = false, entries: string[] = [];
  if (existsSync(runDir)) {
    try {
      isDir = statSync(runDir).isDirectory();
      if (isDir) entries = readdirSync(runDir);
    } catch (err) {
      throw new UserError(`cannot read ${runDir}: ${describeFsError(err, runDir)}`);
    }
    if (!isDir) throw new UserError(`--run-dir ${runDir} is a file, not a directory`);
  }
  const hasRun = entries.includes(CONFIG_FILE);
  if (resume && !hasRun) throw new UserError(`--resume: ${runDir} holds no run to resume (no ${CONFIG_FILE})`);
  if (!resume && hasRun) {
    throw new UserError(`${runDir} already holds a run; pass --resume to continue it, or choose another --run-dir`);
  }
  // an empty checkpoints/ is what a start that failed before writing config.json leaves behind
  const others = entries.filter((e) => !(e === CHECKPOINT_DIR && readdirSync(join(runDir, e)).length === 0));
  if (!resume && others.length > 0) {
    throw new UserError(`${runDir} is not empty (it holds ${others[0]}); a new run needs a new or empty --run-dir`);
  }
  makeDirs(join(runDir, CHECKPOINT_DIR));
}

/** Keeps only metrics lines up to `step` (a run resumed from a checkpoint repeats what came after it). */
export function trimMetrics(path: string, step: number, writes: WriteOptions = {}): void {
  if (!existsSync(path)) return;
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const kept = lines.filter((l) => {
    try {
      return (JSON.parse(l) as { step: number }).step <= step;
    } catch {
      return false;
    }
  });
  if (kept.length !== lines.length) writeFileAtomic(path, kept.map((l) => `${l}\n`).join(''), writes);
}
