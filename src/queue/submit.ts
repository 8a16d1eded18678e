/**
 * @file A sweep on a BullMQ queue, seen from the machine that submits it: each unfinished run
 * becomes a job (its RunSpec and the sweep's id, nothing else), and what workers ship back
 * (queue/results.ts) is written into the run directories here: metrics.jsonl and train.log as
 * they come, and the checkpoints when a run ends, when this process stops, and every
 * CHECKPOINT_COPY_MS while a run goes on (until then the latest is in Redis).
 *
 * Applying an event is idempotent (an evaluation is written once, by its step), and the events
 * stay in Redis: stopping this process and running the same command again reads them from the
 * start and loses nothing. Jobs have stable ids, so submitting again adds nothing twice.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { appendFileSafely, makeDirs, writeFileAtomic, writeFilesAtomic } from '../checkpoint/atomic.js';
import { readMetrics } from '../server/runs.js';
import { CHECKPOINT_DIR, CONFIG_FILE, LOG_FILE, METRICS_FILE } from '../run/run-files.js';
import type { PlannedRun } from '../run/sweep-plan.js';
import type { ExecutorHooks, SweepExecutor } from '../run/sweep.js';
import { checkReachable, QUEUE_NAME, redisClient } from './connection.js';
import type { QueueUrl } from './queue-url.js';
import { checkpointKey, eventsKey, fetchCheckpoint, type RunJob, type SweepEvent } from './results.js';

/** Attempts a job gets when its run's process crashes (a worker killed outright is BullMQ's stalled-job handling instead). */
export const JOB_ATTEMPTS = 3;
/** How long one read of the events waits (ms): also how soon a stop is noticed. */
const READ_BLOCK_MS = 1000;
/** How often jobs that BullMQ gave up on are looked for (ms). */
const FAILED_CHECK_MS = 5000;
/**
 * How often a running run's shipped checkpoint is copied here (ms); it is always copied when the
 * run ends and when this process stops. Until then Redis holds it, and a run resumes from Redis,
 * so copying every evaluation (four files, each flushed to disk) bought nothing but disk writes.
 */
export const CHECKPOINT_COPY_MS = 10_000;
/** How long a stopping submitter waits for Redis to copy the runs' latest checkpoints (ms). */
const STOP_COPY_MS = 5000;

/** A stable job id: the sweep's id and a digest of the run's name (BullMQ ids may not hold ':'). */
export function jobId(sweep: string, run: string): string {
  return `${sweep}.${createHash('sha256').update(run).digest('hex').slice(0, 20)}`;
}

interface RunState {
  readonly run: PlannedRun;
  readonly dir: string;
  /** the step of the last evaluation in metrics.jsonl */
  lastStep: number;
  /** the step of the checkpoint last written here */
  checkpointStep: number;
  /** when the checkpoint was last copied here (or the run was first heard of), for CHECKPOINT_COPY_MS */
  copiedAt: number;
  started: boolean;
  ended: boolean;
}

export class QueueSubmitter implements SweepExecutor {
  readonly where: string;
  private stopping = false;
  private resolveStopped: () => void = () => {};
  /** resolves when stop() is called */
  private readonly stopped = new Promise<void>((res) => {
    this.resolveStopped = res;
  });

  private constructor(private readonly q: QueueUrl, private readonly redis: Redis, private readonly reader: Redis,
    private readonly queue: Queue, private readonly queueConnection: Redis) {
    this.where = q.shown;
  }

  static async connect(q: QueueUrl): Promise<QueueSubmitter> {
    await checkReachable(q);
    // a connection given to BullMQ stays ours to close
    const connection = redisClient(q);
    const queue = new Queue(QUEUE_NAME, { connection });
    queue.on('error', () => {}); // reconnects by itself
    return new QueueSubmitter(q, redisClient(q), redisClient(q), queue, connection);
  }

  async run(sweepDir: string, sweepId: string, runs: readonly PlannedRun[], hooks: ExecutorHooks): Promise<void> {
    const states = new Map<string, RunState>();
    for (const run of runs) {
      const dir = join(sweepDir, run.name);
      makeDirs(join(dir, CHECKPOINT_DIR));
      if (!existsSync(join(dir, CONFIG_FILE))) writeFileAtomic(join(dir, CONFIG_FILE), `${JSON.stringify(run.config, null, 2)}\n`);
      const m = readMetrics(dir);
      states.set(run.name, { run, dir, lastStep: m[m.length - 1]?.step ?? 0, checkpointStep: -1, copiedAt: 0, started: false, ended: false });
    }
    const submit = async (): Promise<void> => {
      for (const run of runs) {
        if (this.stopping) return;
        const data: RunJob = { sweep: sweepId, run: run.name, ...run.spec };
        const id = jobId(sweepId, run.name);
        const job = await this.queue.getJob(id);
        if (job !== undefined && (await job.isFailed())) {
          await job.retry('failed');
          continue;
        }
        // a job done whose results are not here (its run directory was removed, say): run it again
        if (job !== undefined && (await job.isCompleted())) await job.remove();
        await this.queue.add('run', data, { jobId: id, attempts: JOB_ATTEMPTS, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: { age: 7 * 86400 }, removeOnFail: { age: 7 * 86400 } });
      }
    };
    // a stop while Redis is away does not wait for it (the same command later submits what is missing)
    await Promise.race([submit(), this.stopped]);
    let offset = '0';
    let lastFailedCheck = Date.now();
    const pending = (): RunState[] => [...states.values()].filter((s) => !s.ended);
    /** reads the events after `offset` (waiting up to READ_BLOCK_MS for one, with `block`) and applies them */
    const readEvents = async (block: boolean): Promise<void> => {
      const read = block
        ? this.reader.xread('BLOCK', READ_BLOCK_MS, 'STREAMS', eventsKey(sweepId), offset)
        : this.reader.xread('STREAMS', eventsKey(sweepId), offset);
      // a stop does not wait for a Redis that is away (the client would wait for it for ever);
      // the last read, after a stop, is bounded by STOP_COPY_MS instead
      const res = await (block ? Promise.race([read, this.stopped.then(() => null)]) : read) as [string, [string, string[]][]][] | null;
      for (const [id, fields] of res?.[0]?.[1] ?? []) {
        offset = id;
        const e = JSON.parse(fields[1]!) as SweepEvent;
        const s = states.get(e.run);
        if (s !== undefined && !s.ended) await this.apply(sweepId, s, e, hooks);
      }
    };
    while (pending().length > 0 && !this.stopping) {
      try {
        await readEvents(true);
      } catch {
        await new Promise((r) => setTimeout(r, 500)); // Redis went away: the client reconnects
        continue;
      }
      if (Date.now() - lastFailedCheck > FAILED_CHECK_MS) {
        lastFailedCheck = Date.now();
        await this.checkFailed(sweepId, pending(), hooks).catch(() => {});
      }
    }
    if (pending().length > 0) {
      // stopping: what came in since the last read, then the latest checkpoint of each run under
      // way, so the sweep directory is as far on as Redis (if Redis answers within STOP_COPY_MS)
      const last = (async () => {
        await readEvents(false);
        for (const s of pending()) if (s.started && s.checkpointStep < s.lastStep) await this.writeCheckpoint(sweepId, s);
      })().catch(() => {});
      await Promise.race([last, new Promise((r) => setTimeout(r, STOP_COPY_MS).unref())]);
    }
    // every run has ended and its results are here: the events are no longer needed
    if (pending().length === 0) {
      await this.redis.del(eventsKey(sweepId)).catch(() => {});
    }
  }

  /** Jobs BullMQ gave up on (stalled too often, say) with no `failed` event from a worker. */
  private async checkFailed(sweepId: string, pending: RunState[], hooks: ExecutorHooks): Promise<void> {
    for (const s of pending) {
      const job = await this.queue.getJob(jobId(sweepId, s.run.name));
      if (job !== undefined && (await job.isFailed())) {
        if (s.checkpointStep !== s.lastStep) await this.writeCheckpoint(sweepId, s).catch(() => {});
        s.ended = true;
        hooks.ended(s.run, { ok: false, error: `the queue gave up on it: ${job.failedReason.split('\n')[0]}` });
      }
    }
  }

  private async apply(sweepId: string, s: RunState, e: SweepEvent, hooks: ExecutorHooks): Promise<void> {
    const local = (lines: readonly string[], dir: string): string => lines.map((l) => `${l.split(dir).join(s.dir)}\n`).join('');
    if (!s.started) {
      s.started = true;
      s.copiedAt = Date.now();
      hooks.started(s.run);
    }
    if (e.type === 'eval') {
      if (e.record.step <= s.lastStep) return; // written already (a resumed run repeats nothing, but events are read again on re-attach)
      if (e.log.length > 0) appendFileSafely(join(s.dir, LOG_FILE), local(e.log, e.dir));
      appendFileSafely(join(s.dir, METRICS_FILE), `${JSON.stringify(e.record)}\n`);
      s.lastStep = e.record.step;
      if (Date.now() - s.copiedAt >= CHECKPOINT_COPY_MS) await this.writeCheckpoint(sweepId, s);
      hooks.evaluated(s.run, e.record);
    } else if (e.type === 'done') {
      if (e.log.length > 0) appendFileSafely(join(s.dir, LOG_FILE), local(e.log, e.dir));
      if (s.checkpointStep !== s.lastStep) await this.writeCheckpoint(sweepId, s);
      await this.redis.del(checkpointKey(sweepId, s.run.name)); // it is here now, and the run will not resume
      s.ended = true;
      hooks.ended(s.run, { ok: true, interrupted: false });
    } else if (e.type === 'failed') {
      // its last checkpoint too, for a look at where it failed (or to resume it by hand)
      if (s.checkpointStep !== s.lastStep) await this.writeCheckpoint(sweepId, s).catch(() => {});
      s.ended = true;
      hooks.ended(s.run, { ok: false, error: e.error });
    }
  }

  /** The run's shipped checkpoint, if metrics.jsonl has its evaluation (a checkpoint never runs ahead of the metrics). */
  private async writeCheckpoint(sweepId: string, s: RunState): Promise<void> {
    const ck = await fetchCheckpoint(this.redis, sweepId, s.run.name);
    if (ck === null || ck.step > s.lastStep) return;
    writeFilesAtomic([...ck.files].map(([name, bytes]) => [join(s.dir, CHECKPOINT_DIR, name), bytes] as const));
    s.checkpointStep = ck.step;
    s.copiedAt = Date.now();
  }

  stop(): void {
    this.stopping = true;
    this.resolveStopped();
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => {});
    this.queueConnection.disconnect();
    this.redis.disconnect();
    this.reader.disconnect();
  }

  toString(): string {
    return `queue ${this.q.shown}`;
  }
}
