/**
 * @file `engram dashboard --runs DIR` (past runs), and the live dashboard that
 * `engram train --dashboard` starts beside its training loop.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import type { MemoryModel } from '../models/model.js';
import { inspectionSample, inspectLive } from '../server/inspect-run.js';
import { LiveHub } from '../server/live.js';
import { readMetrics, summarise } from '../server/runs.js';
import { startDashboard, type Dashboard } from '../server/server.js';
import type { EvalRecord } from '../train/trainer.js';
import { createTask } from '../tasks/registry.js';
import { intFlag, parseFlags } from './args.js';
import { UserError } from './errors.js';

/** The port tried when none is given (visdom's, which the reference used). */
export const DEFAULT_PORT = 8097;
export const DEFAULT_HOST = '127.0.0.1';

export const DASHBOARD_HELP = `usage: engram dashboard [--runs DIR] [--port P] [--host H]

  --runs DIR   the folder of run directories and sweep directories (engram sweep) to show, or
               one sweep directory (default: runs)
  --port P     the port to listen on (default ${DEFAULT_PORT}, or any free one if that is taken; 0: any free one)
  --host H     the address to listen on (default 127.0.0.1: this machine only)

Serves a page listing the runs in DIR, their curves side by side, and the memory inspector
on any run's checkpoint; and the sweeps in DIR: each combination's curves as the median over
its seeds with a band from the lowest to the highest, and the summary table. Stop it with Ctrl-C.`;

export interface ListenFlags {
  readonly port?: string;
  readonly host?: string;
}

function portFlag(v: string | undefined): number | undefined {
  return intFlag('port', v, 0, 65535);
}

/**
 * Starts a dashboard server; a port the user chose that cannot be had is a one-line error,
 * the default port falls back to any free one.
 */
export async function listen(flags: ListenFlags, start: (host: string, port: number) => Promise<Dashboard>): Promise<Dashboard> {
  const host = flags.host ?? DEFAULT_HOST;
  const chosen = portFlag(flags.port);
  try {
    return await start(host, chosen ?? DEFAULT_PORT);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' && chosen === undefined) return listen({ ...flags, port: '0' }, start);
    const port = chosen ?? DEFAULT_PORT;
    if (code === 'EADDRINUSE') throw new UserError(`port ${port} on ${host} is already in use; pass another --port, or --port 0 for any free one`);
    if (code === 'EACCES') throw new UserError(`no permission to listen on port ${port}; pass a port above 1023, or --port 0`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      throw new UserError(`cannot listen on --host ${host}: no such address on this machine`);
    }
    throw err;
  }
}

export function announce(d: Dashboard, host: string, what = 'dashboard'): void {
  console.log(`${what}: ${d.url}`);
  if (host !== DEFAULT_HOST && host !== 'localhost') {
    console.log(`${what}: listening on ${host}: anyone who can reach this address can see it`);
  }
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilInterrupted(): Promise<string> {
  return new Promise((res) => {
    const on = (sig: string) => (): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      res(sig);
    };
    const onInt = on('SIGINT'), onTerm = on('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}

export interface LiveDashboard {
  readonly url: string;
  readonly onStep: (step: number, loss: number, stepsPerSec: number) => void;
  readonly onEval: (record: EvalRecord, model: MemoryModel) => void;
  finish(state: 'done' | 'stopped'): void;
  close(): Promise<void>;
}

export async function startLiveDashboard(opts: {
  runDir: string;
  config: Config;
  total: number;
  resume: boolean;
  flags: ListenFlags;
}): Promise<LiveDashboard> {
  const runDir = resolve(opts.runDir);
  const name = basename(runDir);
  const evals = opts.resume ? readMetrics(runDir) : [];
  const hub = new LiveHub({ run: summarise(name, opts.config, evals, opts.resume, true), total: opts.total, evals });
  const sample = inspectionSample(opts.config, opts.config.seed);
  const lengthName = createTask(opts.config.task).lengthName;
  const host = opts.flags.host ?? DEFAULT_HOST;
  const d = await listen(opts.flags, (h, port) =>
    startDashboard({ host: h, port, title: name, live: { hub, name, runDir } }),
  );
  announce(d, host);
  return {
    url: d.url,
    onStep: (step, loss, stepsPerSec) => hub.onStep(step, loss, stepsPerSec),
    onEval: (record, model) => {
      let inspection = null;
      try {
        inspection = inspectLive(model, sample, record.step, lengthName);
      } catch (err) {
        // the dashboard never stops training: the curves go on without the inspector
        console.error(`dashboard: could not inspect the sample: ${(err as Error).message}`);
      }
      hub.onEval(record, inspection);
    },
    finish: (state) => hub.finish(state),
    close: () => d.close(),
  };
}

export async function dashboardCommand(argv: string[]): Promise<number> {
  const f = parseFlags('dashboard', argv, {
    runs: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (f.help) {
    console.log(DASHBOARD_HELP);
    return 0;
  }
  const runsDir = resolve(typeof f.runs === 'string' ? f.runs : 'runs');
  if (!existsSync(runsDir) || !statSync(runsDir).isDirectory()) {
    throw new UserError(`--runs ${runsDir} is not a folder; pass the folder that holds your run directories`);
  }
  const flags = { port: f.port as string | undefined, host: f.host as string | undefined };
  const d = await listen(flags, (host, port) => startDashboard({ host, port, title: basename(runsDir), runsDir }));
  announce(d, flags.host ?? DEFAULT_HOST);
  console.log(`showing the runs and sweeps in ${runsDir}; Ctrl-C to stop`);
  await untilInterrupted();
  await d.close();
  return 0;
}
