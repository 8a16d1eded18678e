/**
 * @file The live state of one training run and the tabs watching it. Training calls
 * `step` and `evaluation` (synchronously, between steps); each call does O(1) work and,
 * at most every FLUSH_MS, one JSON.stringify shared by every client. History is bounded:
 * the training-loss series is decimated, evaluations are few (one per K steps).
 */
import { StepRate } from '../run/step-rate.js';
import type { ServerResponse } from 'node:http';
import type { Inspection, LiveEvent, LiveSnapshot, MetricRecord, Progress, RunSummary } from './protocol.js';
import { DecimatedSeries, FLUSH_MS } from './decimated-series.js';
import { SseClient, sseMessage } from './sse.js';

export { DecimatedSeries, FLUSH_MS, MAX_TRAIN_POINTS } from './decimated-series.js';

/** Bytes a slow client may have waiting before it is dropped to a resync. */
export const CLIENT_QUEUE_BYTES = 2 << 20;
/** Open event streams at most; more get 503. */
export const MAX_CLIENTS = 64;

export interface LiveHubOptions {
  readonly run: RunSummary;
  readonly total: number;
  /** evaluations already in metrics.jsonl (a resumed run) */
  readonly evals?: readonly MetricRecord[];
  readonly now?: () => number;
}

export class LiveHub {
  private readonly clients = new Set<SseClient>();
  private readonly evals: MetricRecord[];
  private readonly train = new DecimatedSeries();
  private run: RunSummary;
  private inspection: Inspection | null = null;
  private inspectionMessage: string | null = null;
  private sentPoints = 0;
  private seriesReset = false;
  private lastFlush = -Infinity;
  private step: number;
  private state: Progress['state'] = 'training';
  private readonly now: () => number;
  /** the training speed the run reports with each step (null: none given, measured here) */
  private givenRate: number | null = null;
  /** the speed measured here, the run's way (StepRate), when the run reports none */
  private readonly ownRate: StepRate;
  private readonly elapsedBase: number;
  private readonly started: number;
  private total: number;

  constructor(opts: LiveHubOptions) {
    this.run = opts.run;
    this.total = opts.total;
    this.evals = [...(opts.evals ?? [])];
    this.now = opts.now ?? (() => performance.now());
    this.started = this.now();
    this.ownRate = new StepRate(this.now);
    const last = this.evals[this.evals.length - 1];
    this.step = last?.step ?? 0;
    this.elapsedBase = last?.elapsedSec ?? 0;
  }

  /**
   * After each training step. @param stepsPerSec the speed the terminal shows (run/step-rate.ts):
   * the page shows the same; without it the hub measures its own over the same window
   */
  onStep(step: number, loss: number, stepsPerSec?: number): void {
    this.step = step;
    if (stepsPerSec !== undefined) this.givenRate = stepsPerSec;
    else this.ownRate.mark(step);
    if (this.train.add(step, loss) === 'reset') this.seriesReset = true;
    if (this.now() - this.lastFlush >= FLUSH_MS) this.flush();
  }

  /** After each evaluation, with the inspection of the fixed sample (or null). */
  onEval(record: MetricRecord, inspection: Inspection | null): void {
    this.step = record.step;
    this.evals.push(record);
    this.run = { ...this.run, last: record, evaluations: this.evals.length, hasCheckpoint: true };
    this.flush();
    this.broadcast({ type: 'eval', data: record });
    if (inspection) this.setInspection(inspection);
  }

  setInspection(inspection: Inspection): void {
    this.inspection = inspection;
    this.inspectionMessage = null;
    if (this.clients.size > 0) this.broadcastText(this.inspectionText(), 'inspection');
  }

  /**
   * Training ended. A run that finished early (it learned: train.untilBitErrors) ends at its last
   * step, so the page's bar is full beside "training done" rather than stopped part-way.
   */
  finish(state: 'done' | 'stopped'): void {
    this.state = state;
    if (state === 'done') this.total = this.step;
    this.run = { ...this.run, live: false };
    this.flush();
  }

  progress(): Progress {
    const t = this.now();
    const rate = this.givenRate ?? this.ownRate.perSec();
    const elapsedSec = this.elapsedBase + (t - this.started) / 1000;
    const left = this.total - this.step;
    return {
      step: this.step,
      total: this.total,
      stepsPerSec: rate,
      elapsedSec,
      etaSec: this.state !== 'training' ? 0 : rate > 0 ? left / rate : null,
      state: this.state,
    };
  }

  snapshot(): LiveSnapshot {
    return { run: this.run, evals: this.evals, train: this.train.toJSON(), progress: this.progress(), inspection: this.inspection };
  }

  /** Takes over an HTTP response as an event stream; false (and 503) when too many are open. */
  attach(res: ServerResponse): boolean {
    for (const c of this.clients) if (c.isClosed) this.clients.delete(c);
    if (this.clients.size >= MAX_CLIENTS) {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`at most ${MAX_CLIENTS} open dashboards\n`);
      return false;
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      Connection: 'keep-alive',
    });
    const client = new SseClient(res, CLIENT_QUEUE_BYTES, () => this.snapshotText());
    this.clients.add(client);
    res.on('close', () => this.clients.delete(client));
    client.send(this.snapshotText());
    return true;
  }

  get isTraining(): boolean {
    return this.state === 'training';
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** For tests: each client's queue. */
  clientStats(): ReturnType<SseClient['stats']>[] {
    return [...this.clients].map((c) => c.stats());
  }

  private flush(): void {
    this.lastFlush = this.now();
    if (this.seriesReset) {
      this.seriesReset = false;
      this.broadcast({ type: 'trainSeries', data: this.train.toJSON() }, 'train');
    } else if (this.sentPoints < this.train.steps.length) {
      this.broadcast({
        type: 'train',
        data: { steps: this.train.steps.slice(this.sentPoints), loss: this.train.values.slice(this.sentPoints) },
      });
    }
    this.sentPoints = this.train.steps.length;
    this.broadcast({ type: 'progress', data: this.progress() }, 'progress');
  }

  private snapshotText(): string {
    return sseMessage(JSON.stringify({ type: 'snapshot', data: this.snapshot() } satisfies LiveEvent));
  }

  private inspectionText(): string {
    this.inspectionMessage ??= sseMessage(JSON.stringify({ type: 'inspection', data: this.inspection! } satisfies LiveEvent));
    return this.inspectionMessage;
  }

  private broadcast(event: LiveEvent, key?: string): void {
    if (this.clients.size === 0) return;
    this.broadcastText(sseMessage(JSON.stringify(event)), key);
  }

  private broadcastText(text: string, key?: string): void {
    for (const c of this.clients) c.send(text, key);
  }
}
