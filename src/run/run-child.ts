/**
 * @file A process that runs a sweep's runs, one at a time: forked by the local pool or by a queue
 * worker (child-runs.ts), it takes each ChildRequest as a message, runs runTraining and reports
 * each evaluation back (with `ship`, the checkpoint files and log lines too, read right after
 * they were written, so a shipment never mixes two evaluations), then the run's end; then it
 * waits for the next request.
 *
 * When its parent goes away (killed, even with kill -9, or done with it) the IPC channel closes;
 * a run under way then stops as on SIGTERM: it saves its last checkpoint, and the process exits,
 * so no run outlives its sweep.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isUserFacing, outOfMemoryMessage } from '../cli/errors.js';
import type { ChildMessage, ChildRequest } from './child-protocol.js';
import { SAME_PAIR, SHIPPED_FILES } from './child-protocol.js';
import { RunLog } from './log.js';
import { CHECKPOINT_DIR, LOG_FILE } from './run-files.js';
import { runTraining } from './run-training.js';

/** A RunLog that also keeps the lines it wrote since they were last taken. */
class KeptLog extends RunLog {
  private kept: string[] = [];
  override line(text: string): void {
    super.line(text);
    this.kept.push(`[${new Date().toISOString()}] ${text}`);
  }
  take(): string[] {
    const k = this.kept;
    this.kept = [];
    return k;
  }
}

function send(m: ChildMessage): Promise<void> {
  return new Promise((res) => {
    if (!process.connected) {
      res();
      return;
    }
    process.send!(m, undefined, {}, () => res());
  });
}

async function runChild(req: ChildRequest): Promise<void> {
  const log = new KeptLog(join(req.runDir, LOG_FILE), false);
  const ckpt = join(req.runDir, CHECKPOINT_DIR);
  // the best pair is shipped when it changed (the receiver keeps the one shipped before)
  let shippedBest = '';
  try {
    const result = await runTraining({
      runDir: req.runDir, config: req.config, resume: req.resume, log, faults: req.faults, release: true,
      // a shipped run's files here are a scratch copy: what a resumed run starts from is in Redis
      durable: !req.ship,
      onEval: (record) => {
        const files: Record<string, Uint8Array> = {};
        if (req.ship) {
          const best = join(ckpt, 'best.state.safetensors');
          const bestNow = existsSync(best) ? `${statSync(best).mtimeMs}:${statSync(best).size}` : '';
          for (const f of SHIPPED_FILES) {
            if (f.startsWith('best') && bestNow === shippedBest) continue;
            if (existsSync(join(ckpt, f))) files[f] = readFileSync(join(ckpt, f));
          }
          shippedBest = bestNow;
          // a new best is written as the last pair's very bytes: then it goes as the same object
          // (structured cloning sends it once, and the worker tells Redis to copy it)
          for (const [b, l] of SAME_PAIR) {
            const bb = files[b], lb = files[l];
            if (bb !== undefined && lb !== undefined && Buffer.from(bb.buffer, bb.byteOffset, bb.byteLength).equals(lb)) files[b] = lb;
          }
        }
        void send({ type: 'eval', record, total: req.config.train.steps, ...(req.ship ? { shipment: { files, log: log.take() } } : {}) });
      },
    });
    await send({ type: 'done', step: result.last?.step ?? 0, reachedStep: result.reachedStep, interrupted: result.interrupted, log: log.take() });
  } catch (err) {
    const message = isUserFacing(err) ? err.message : outOfMemoryMessage(err) ?? String((err as Error)?.stack ?? err);
    await send({ type: 'error', message, log: log.take() });
    process.exitCode = 1;
  }
}

let running = false;
process.once('disconnect', () => {
  if (running) process.kill(process.pid, 'SIGTERM');
});
process.on('message', (req: ChildRequest) => {
  running = true; // the parent sends the next request only after this run's end
  void runChild(req).finally(() => {
    running = false;
  });
});
