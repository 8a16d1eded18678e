/**
 * @file Runs one run in a process of its own (run-child.ts): single-threaded runs side by side
 * use every core, and a run that crashes takes nothing else down.
 */
import { fork } from 'node:child_process';
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
  /** asks the run to stop (SIGTERM: it saves its last checkpoint first) */
  stop(): void;
}

export function startChildRun(req: ChildRequest, onEval: (record: EvalRecord, total: number, shipment?: Shipment) => void): ChildRun {
  // detached: a Ctrl-C at the terminal reaches the sweep alone, which stops each run once (a second
  // signal would stop a run before it saves)
  const child = fork(CHILD, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced', detached: true });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let end: ChildEnd | null = null;
  child.on('message', (m: ChildMessage) => {
    if (m.type === 'eval') onEval(m.record, m.total, m.shipment);
    else if (m.type === 'done') end = { ok: true, step: m.step, reachedStep: m.reachedStep, interrupted: m.interrupted, log: m.log };
    else end = { ok: false, error: m.message.split('\n')[0]!, crashed: false, log: m.log };
  });
  const ended = new Promise<ChildEnd>((res) => {
    child.on('error', (err) => res({ ok: false, error: `could not start the run's process: ${err.message}`, crashed: true, log: [] }));
    child.on('close', (code, signal) => {
      if (end !== null) {
        res(end);
        return;
      }
      const last = stderr.trim().split('\n').pop() ?? '';
      res({ ok: false, error: `the run's process ended ${signal !== null ? `on ${signal}` : `with exit code ${code}`}${last ? `: ${last}` : ''}`, crashed: true, log: [] });
    });
  });
  child.send(req);
  return { ended, stop: () => child.kill('SIGTERM') };
}
