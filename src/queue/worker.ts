/**
 * @file An `engram worker`: takes runs from the BullMQ queue, runs each in a process of its
 * own (run/run-child.ts; a process is kept for the next run while its runs end well) in a scratch folder, and ships every evaluation back with the
 * checkpoint written after it (queue/results.ts). A run whose sweep already shipped a
 * checkpoint resumes from it, so a worker that dies (its job goes back to the queue through
 * BullMQ's stalled-job handling) costs at most the steps since the last evaluation.
 *
 * A job is data only (checkRunJob): its config is made from the preset and overrides by the
 * schema, as the CLI makes it; nothing in it is loaded or run as code.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type Job } from 'bullmq';
import { makeDirs, writeFileAtomic, writeFilesAtomic } from '../checkpoint/atomic.js';
import { isUserFacing } from '../cli/errors.js';
import { RunProcesses, type ChildRun } from '../run/child-runs.js';
import { CHECKPOINT_DIR, CONFIG_FILE } from '../run/run-files.js';
import { configOf } from '../run/sweep-plan.js';
import { endsRun } from '../run/sweep-summary.js';
import type { Config } from '../config/schema.js';
import { checkReachable, QUEUE_NAME, redisClient } from './connection.js';
import type { QueueUrl } from './queue-url.js';
import { addEvent, checkRunJob, fetchCheckpoint, shipEval } from './results.js';

/**
 * How long a job's lock lasts without renewal (ms). A worker renews it every half of this; one
 * that died loses its job to another worker within about 1.5 × this.
 */
export const LOCK_MS = 10_000;
/** Times a job may stall (its worker died) before BullMQ fails it. */
export const MAX_STALLED = 50;

export interface WorkerOptions {
  readonly queue: QueueUrl;
  readonly parallel: number;
  /** where runs are trained before their results are shipped */
  readonly workDir: string;
  readonly log: (line: string) => void;
}

export class QueueWorker {
  private readonly live = new Set<ChildRun>();
  private readonly processes = new RunProcesses();
  /** each running run's end, its last shipment included */
  private readonly ending = new Set<Promise<unknown>>();
  private worker: Worker | null = null;
  private readonly redis;

  private constructor(private readonly opts: WorkerOptions) {
    this.redis = redisClient(opts.queue);
  }

  static async start(opts: WorkerOptions): Promise<QueueWorker> {
    await checkReachable(opts.queue);
    const w = new QueueWorker(opts);
    w.processes.prestart(opts.parallel);
    w.worker = new Worker(QUEUE_NAME, (job) => w.process(job), {
      connection: redisClient(opts.queue), concurrency: opts.parallel,
      lockDuration: LOCK_MS, stalledInterval: LOCK_MS / 2, maxStalledCount: MAX_STALLED,
    });
    let down = false;
    w.worker.on('error', () => {
      if (!down) opts.log(`lost Redis at ${opts.queue.shown}; reconnecting`);
      down = true;
    });
    w.worker.on('ready', () => {
      if (down) opts.log(`reconnected to ${opts.queue.shown}`);
      down = false;
    });
    return w;
  }

  private async process(job: Job): Promise<void> {
    const data = checkRunJob(job.data);
    if (typeof data === 'string') {
      this.opts.log(`job ${job.id}: refused: ${data}`);
      throw new Error(`refused: ${data}`); // no sweep to report to; BullMQ keeps it as failed
    }
    const { sweep, run } = data;
    let config: Config;
    try {
      config = configOf(data);
    } catch (err) {
      if (!isUserFacing(err)) throw err;
      await addEvent(this.redis, sweep, { type: 'failed', run, error: err.message, log: [] });
      return;
    }
    const dir = join(this.opts.workDir, sweep, run);
    rmSync(dir, { recursive: true, force: true });
    makeDirs(join(dir, CHECKPOINT_DIR));
    const ck = await fetchCheckpoint(this.redis, sweep, run);
    if (ck !== null && endsRun(ck.record, config)) {
      // it finished but its worker stopped before saying so
      await addEvent(this.redis, sweep, { type: 'done', run, log: [], dir });
      return;
    }
    if (ck !== null) {
      // a scratch copy (the run's own files here are not flushed to disk either: see run-child.ts)
      const scratch = { durable: false };
      writeFileAtomic(join(dir, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`, scratch);
      writeFilesAtomic([...ck.files].map(([name, bytes]) => [join(dir, CHECKPOINT_DIR, name), bytes] as const), scratch);
    }
    this.opts.log(`${run} (sweep ${sweep.slice(0, 8)}): ${ck !== null ? `resuming at step ${ck.step}` : 'starting'}`);
    await addEvent(this.redis, sweep, { type: 'start', run, step: ck?.step ?? 0 });
    // evaluations are shipped in order, each after the one before
    let shipping: Promise<void> = Promise.resolve();
    const child = this.processes.start({ runDir: dir, config, resume: ck !== null, ship: true }, (record, _total, shipment) => {
      shipping = shipping.then(() => shipEval(this.redis, sweep, run, record, shipment?.files ?? {}, shipment?.log ?? [], dir));
    });
    this.live.add(child);
    const ending = child.ended.then(async (e) => {
      await shipping; // no evaluation comes after the process ended
      return e;
    });
    this.ending.add(ending);
    const end = await ending;
    this.live.delete(child);
    this.ending.delete(ending);
    if (end.ok && !end.interrupted) {
      await addEvent(this.redis, sweep, { type: 'done', run, log: end.log, dir });
      this.opts.log(`${run} (sweep ${sweep.slice(0, 8)}): done at step ${end.step}`);
      rmSync(dir, { recursive: true, force: true });
      return;
    }
    // this worker is stopping: the job stays locked until the process exits, and BullMQ's
    // stalled-job check then gives it to another worker, which resumes it
    if (end.ok) return new Promise<void>(() => {});
    const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (!end.crashed || last) {
      await addEvent(this.redis, sweep, { type: 'failed', run, error: end.error, log: end.log });
      this.opts.log(`${run} (sweep ${sweep.slice(0, 8)}): failed: ${end.error}`);
      return;
    }
    throw new Error(end.error); // a crash: BullMQ tries again (from the last shipped checkpoint)
  }

  /**
   * Stops taking jobs and stops the runs, waiting until each has shipped its evaluations; the
   * caller then exits, and the runs go to other workers (see process()).
   */
  async stop(): Promise<void> {
    void this.worker?.pause(true);
    for (const c of this.live) c.stop();
    await Promise.all([...this.ending]);
    this.processes.close();
  }
}
