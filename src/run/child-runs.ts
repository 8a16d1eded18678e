/**
 * @file Runs a sweep's runs in processes of their own (run-child.ts): single-threaded runs side
 * by side use every core, and a run that crashes takes nothing else down.
 *
 * A process is kept for the next run once its run has ended well (RunProcesses): a run of a
 * small preset trains for about a second, and a fresh process spends a third of that again
 * loading the code and compiling it (V8 optimises the step's code over its first few hundred
 * steps). A process whose run failed, crashed or was stopped is closed, and the next run gets a
 * fresh one, so nothing a broken run left behind reaches another. Training's results do not
 * depend on what ran before in its process: the same seed gives the same metrics, bit for bit
 * (test/sweep.test.ts checks it).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EvalRecord } from '../train/trainer.js';
import type { ChildMessage, ChildRequest, Shipment } from './child-protocol.js';

const CHILD = fileURLToPath(new URL('./run-child.js', import.meta.url));

export type ChildEnd =
  | { readonly ok: true; readonly step: number; readonly reachedStep: number | null; readonly interrupted: boolean; readonly log: readonly string[] }
  /** crashed: the process ended without saying why (killed, out of memory): worth another try */
  | { readonly ok: false; readonly error: string; readonly crashed: boolean; readonly log: readonly string[] };

export interface ChildRun {
  readonly ended: Promise<ChildEnd>;
  /** the process it runs in */
  readonly pid: number;
  /** asks the run to stop (SIGTERM: it saves its last checkpoint first) */
  stop(): void;
}

type OnEval = (record: EvalRecord, total: number, shipment?: Shipment) => void;

/** One process, running one run at a time. */
class RunProcess {
  private readonly child: ChildProcess;
  private stderr = '';
  /** the run under way: where its messages go, and how it ends when the process does */
  private current: { onEval: OnEval; end: (e: ChildEnd) => void } | null = null;
  /** the process has ended, or was asked to */
  private gone = false;

  constructor() {
    // detached: a Ctrl-C at the terminal reaches the sweep alone, which stops each run once (a second
    // signal would stop a run before it saves)
    this.child = fork(CHILD, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced', detached: true });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.child.on('message', (m: ChildMessage) => {
      const run = this.current;
      if (run === null) return;
      if (m.type === 'eval') {
        run.onEval(m.record, m.total, m.shipment);
        return;
      }
      this.current = null;
      run.end(m.type === 'done'
        ? { ok: true, step: m.step, reachedStep: m.reachedStep, interrupted: m.interrupted, log: m.log }
        : { ok: false, error: m.message.split('\n')[0]!, crashed: false, log: m.log });
    });
    const died = (error: string): void => {
      this.gone = true;
      const run = this.current;
      this.current = null;
      run?.end({ ok: false, error, crashed: true, log: [] });
    };
    this.child.on('error', (err) => died(`could not start the run's process: ${err.message}`));
    this.child.on('close', (code, signal) => {
      const last = this.stderr.trim().split('\n').pop() ?? '';
      died(`the run's process ended ${signal !== null ? `on ${signal}` : `with exit code ${code}`}${last ? `: ${last}` : ''}`);
    });
  }

  get usable(): boolean {
    return !this.gone && this.current === null && this.child.connected;
  }

  run(req: ChildRequest, onEval: OnEval): ChildRun {
    this.stderr = '';
    const ended = new Promise<ChildEnd>((end) => {
      this.current = { onEval, end };
    });
    this.child.send(req);
    return { ended, pid: this.child.pid ?? 0, stop: () => this.child.kill('SIGTERM') };
  }

  /** Lets the process go: it exits once idle (and stops a run still under way, which saves first). */
  close(): void {
    this.gone = true;
    if (this.child.connected) this.child.disconnect();
  }
}

/** Processes for runs, each kept for the next run while its runs end well. */
export class RunProcesses {
  private readonly idle: RunProcess[] = [];
  private closed = false;

  /**
   * Starts processes until `count` are idle, so the first runs do not wait for a process to load
   * its code (a queue worker does this when it starts: it is long-lived, and ready before its first job).
   */
  prestart(count: number): void {
    for (const p of this.idle.splice(0)) {
      if (p.usable) this.idle.push(p);
      else p.close();
    }
    while (!this.closed && this.idle.length < count) this.idle.push(new RunProcess());
  }

  /** Starts a run in an idle process, or in a new one. */
  start(req: ChildRequest, onEval: OnEval): ChildRun {
    let p = this.idle.pop();
    while (p !== undefined && !p.usable) {
      p.close();
      p = this.idle.pop();
    }
    const proc = p ?? new RunProcess();
    const run = proc.run(req, onEval);
    // the process is back in the pool before the caller hears of the end, so its next run takes it
    const ended = run.ended.then((e) => {
      if (e.ok && !e.interrupted && !this.closed && proc.usable) this.idle.push(proc);
      else proc.close();
      return e;
    });
    return { ended, pid: run.pid, stop: run.stop };
  }

  /** Closes the idle processes; a run still under way closes its process when it ends. */
  close(): void {
    this.closed = true;
    for (const p of this.idle.splice(0)) p.close();
  }
}
