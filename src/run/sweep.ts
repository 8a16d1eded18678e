/**
 * @file A sweep: every run of a SweepSpec, each an ordinary run directory inside the sweep
 * directory, run by an executor (the local process pool here, or a queue: queue/submit.ts),
 * with a progress line and, at the end, the summary per combination in sweep.json.
 *
 * Resumable: a run whose directory shows it finished is skipped; any other run with a
 * config.json resumes from its last checkpoint (exact resume). Killing the sweep, even with
 * kill -9, stops its runs after they save (run-child.ts), so nothing checkpointed is lost.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EvalRecord } from '../train/trainer.js';
import { RunProcesses, type ChildRun } from './child-runs.js';
import type { RunFaults } from './faults.js';
import { formatDuration, RunLog } from './log.js';
import { CONFIG_FILE } from './run-files.js';
import { openSweepDir, SWEEP_FORMAT, SWEEP_VERSION, writeSweepFile, type SweepFile } from './sweep-file.js';
import { planSweep, type PlannedRun, type SweepSpec } from './sweep-plan.js';
import { runFinished, runOutcome, summariseCombos, type RunOutcome } from './sweep-summary.js';

/** How a run ended, as an executor reports it. */
export type RunEnd = { readonly ok: true; readonly interrupted: boolean } | { readonly ok: false; readonly error: string };

export interface ExecutorHooks {
  started(run: PlannedRun): void;
  evaluated(run: PlannedRun, record: EvalRecord): void;
  ended(run: PlannedRun, end: RunEnd): void;
}

/** Runs a sweep's unfinished runs; resolves when each has ended (or stop() was called and they stopped). */
export interface SweepExecutor {
  /** `queue` in sweep.json: where the runs go, without any password (null: this machine) */
  readonly where: string | null;
  run(sweepDir: string, sweepId: string, runs: readonly PlannedRun[], hooks: ExecutorHooks): Promise<void>;
  stop(): void;
}

/** Single-threaded runs, `parallel` processes at once, each kept for the next run (RunProcesses). */
export class LocalPool implements SweepExecutor {
  readonly where = null;
  private stopping = false;
  private readonly live = new Set<ChildRun>();

  constructor(private readonly parallel: number, private readonly faults?: RunFaults) {}

  async run(sweepDir: string, _sweepId: string, runs: readonly PlannedRun[], hooks: ExecutorHooks): Promise<void> {
    const queue = [...runs];
    const processes = new RunProcesses();
    const slot = async (): Promise<void> => {
      for (let run = queue.shift(); run !== undefined && !this.stopping; run = queue.shift()) {
        const runDir = join(sweepDir, run.name);
        const r = run;
        const child = processes.start({ runDir, config: run.config, resume: existsSync(join(runDir, CONFIG_FILE)), faults: this.faults, ship: false },
          (record) => hooks.evaluated(r, record));
        this.live.add(child);
        hooks.started(run);
        const end = await child.ended;
        this.live.delete(child);
        hooks.ended(run, end.ok ? { ok: true, interrupted: end.interrupted } : { ok: false, error: end.error });
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(this.parallel, runs.length) }, slot));
    } finally {
      processes.close();
    }
  }

  stop(): void {
    this.stopping = true;
    for (const c of this.live) c.stop();
  }
}

export interface SweepOptions {
  readonly sweepDir: string;
  /** null: the spec in the sweep directory's sweep.json */
  readonly spec: SweepSpec | null;
  readonly executor: SweepExecutor;
  readonly log?: RunLog;
}

export interface SweepResult {
  readonly sweepDir: string;
  readonly file: SweepFile;
  readonly interrupted: boolean;
}

export async function runSweep(opts: SweepOptions): Promise<SweepResult> {
  const sweepDir = resolve(opts.sweepDir);
  const { id, spec } = openSweepDir(sweepDir, opts.spec);
  const runs = planSweep(spec); // every config validated before anything starts
  const log = opts.log ?? new RunLog(null);
  const outcomes = new Map<string, RunOutcome>();
  const todo: PlannedRun[] = [];
  for (const run of runs) {
    const dir = join(sweepDir, run.name);
    if (existsSync(join(dir, CONFIG_FILE)) && runFinished(dir, run.config)) outcomes.set(run.name, runOutcome(run, dir, 'finished'));
    else todo.push(run);
  }
  const snapshot = (complete: boolean): SweepFile => ({
    format: SWEEP_FORMAT, version: SWEEP_VERSION, id, spec, queue: opts.executor.where, updated: new Date().toISOString(), complete,
    summary: summariseCombos(runs, outcomes),
    runs: runs.map((r) => outcomes.get(r.name) ?? runOutcome(r, join(sweepDir, r.name), 'pending')),
  });
  writeSweepFile(sweepDir, snapshot(false));
  log.line(`sweep ${sweepDir}: ${runs.length} runs (${runs.length - todo.length} already finished, ${todo.length} to run` +
    `${opts.executor.where !== null ? ` on ${opts.executor.where}` : ''})`);

  // progress: runs done, running and left; time left from the fraction of steps done so far
  const t0 = performance.now();
  const fraction = new Map<string, number>();
  let done = 0, failed = 0;
  const progress = (): string => {
    const running = fraction.size;
    const doneWork = done + [...fraction.values()].reduce((a, b) => a + b, 0);
    const secs = (performance.now() - t0) / 1000;
    const left = doneWork > 0 ? formatDuration((secs * (todo.length - doneWork)) / doneWork) : '?';
    return `${done} done${failed > 0 ? ` (${failed} failed)` : ''}, ${running} running, ${todo.length - done - running} left | about ${left} left`;
  };
  let stopSignal: string | null = null;
  const onSignal = (sig: string) => (): void => {
    if (stopSignal !== null) return;
    stopSignal = sig;
    log.line(`${sig}: stopping the runs (each saves its last checkpoint first)`);
    opts.executor.stop();
  };
  const onInt = onSignal('SIGINT'), onTerm = onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    await opts.executor.run(sweepDir, id, todo, {
      started: (run) => {
        fraction.set(run.name, 0);
        log.progress(done, todo.length, progress());
      },
      evaluated: (run, rec) => {
        fraction.set(run.name, Math.min(1, rec.step / run.config.train.steps));
        log.progress(done, todo.length, progress());
      },
      ended: (run, end) => {
        fraction.delete(run.name);
        const dir = join(sweepDir, run.name);
        if (end.ok && end.interrupted) return; // stopped: it resumes next time
        done++;
        if (!end.ok) failed++;
        const o = runOutcome(run, dir, end.ok ? 'finished' : 'failed', end.ok ? undefined : end.error);
        outcomes.set(run.name, o);
        writeSweepFile(sweepDir, snapshot(false));
        const what = !end.ok ? `failed: ${end.error}` : o.learnedStep !== null
          ? `learned at step ${o.learnedStep} (${o.learnedSec!.toFixed(1)} s)` : `did not learn (step ${o.lastStep}, ${o.lastBitErrorsPerSeq?.toFixed(3)} bit errors/seq)`;
        log.line(`${run.name}: ${what} | ${progress()}`);
      },
    });
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    log.clearBar();
  }
  const complete = runs.every((r) => outcomes.get(r.name)?.status === 'finished' || outcomes.get(r.name)?.status === 'failed');
  const file = snapshot(complete);
  writeSweepFile(sweepDir, file);
  return { sweepDir, file, interrupted: stopSignal !== null || !complete };
}
