/**
 * @file The playground's training worker: holds the model and its Trainer, trains in slices
 * of ~40 ms between which it reads the page's messages (pause, resume, a new model, a file),
 * evaluates every train.evalEvery steps as `engram train` does (same seed, same steps, same
 * numbers on the same kernels build), and sends the page the dashboard's LiveEvents.
 */
import {
  applyWeights, createModel, createTask, decodeWeightsFile, describeConfig, encodeWeightsFile, fetchKernels, inspectBatch, kernelsName,
  releaseModel, Rng, seedStreams, setGradientWorkerUrl, Trainer, type Batch, type Config, type MemoryModel, type Task,
} from '../../src/browser.js';
import { DecimatedSeries, FLUSH_MS } from '../../src/server/decimated-series.js';
import type { Inspection, LiveEvent, MetricRecord, Progress, RunSummary } from '../../src/server/protocol.js';
import type { FromWorker, PlaygroundStatus, ToWorker } from './messages.js';

const scope = self as unknown as { postMessage(m: FromWorker, transfer?: Transferable[]): void; onmessage: ((ev: MessageEvent<ToWorker>) => void) | null; location: Location };
const post = (m: FromWorker, transfer: Transferable[] = []): void => scope.postMessage(m, transfer);
const live = (event: LiveEvent): void => post({ type: 'live', event });

/** Steps run between two looks at the page's messages, at most this long. */
const SLICE_MS = 40;

interface Session {
  readonly name: string;
  readonly config: Config;
  readonly task: Task;
  readonly model: MemoryModel;
  readonly trainer: Trainer;
  /** the inspector's sample: the same one at every evaluation, as the dashboard's */
  readonly sample: Batch;
  readonly evals: MetricRecord[];
  /** the training loss as the dashboard keeps it (bounded), and how many points the page has */
  readonly train: DecimatedSeries;
  sent: number;
  reset: boolean;
  lastFlush: number;
  paused: boolean;
  done: boolean;
  /** training seconds before the current run of the loop */
  elapsedBefore: number;
  runningSince: number | null;
  /** training-step milliseconds and steps since the last evaluation */
  stepMs: number;
  steps: number;
  rate: number;
  status: PlaygroundStatus;
}

let session: Session | null = null;
let looping = false;

function elapsed(s: Session): number {
  return s.elapsedBefore + (s.runningSince === null ? 0 : (performance.now() - s.runningSince) / 1000);
}

function progress(s: Session): Progress {
  const total = s.config.train.steps, step = s.trainer.step;
  return {
    step, total, stepsPerSec: s.rate, elapsedSec: elapsed(s), etaSec: s.rate > 0 ? (total - step) / s.rate : null,
    state: s.done ? 'done' : s.paused ? 'paused' : 'training',
  };
}

function summary(name: string, config: Config): RunSummary {
  return {
    name, model: config.model.type, task: config.task.name, description: describeConfig(config), totalSteps: config.train.steps,
    last: null, evaluations: 0, hasCheckpoint: false, live: true, updated: null,
  };
}

function inspect(s: Session, title: string): Inspection {
  return inspectBatch(s.model, s.sample, 0, title, s.trainer.step, s.task.lengthName);
}

/** A session for `config`: its task, a model initialised from its seed, a trainer; nothing runs yet. */
function makeSession(name: string, config: Config, weights?: { tensors: Parameters<typeof applyWeights>[1]; source: string; step: number }): Session {
  const task = createTask(config.task);
  const streams = seedStreams(config.seed);
  const model = createModel(config.model, task.inputSize, task.outputSize, streams.init);
  try {
    if (weights) applyWeights(model.params, weights.tensors, weights.source);
  } catch (err) {
    releaseModel(model);
    throw err;
  }
  const trainer = new Trainer(model, task, config, streams);
  if (weights) trainer.step = weights.step;
  const sample = task.sample(new Rng(config.seed, 'inspect'), 1);
  return {
    name, config, task, model, trainer, sample, evals: [], train: new DecimatedSeries(), sent: 0, reset: false, lastFlush: 0, paused: true, done: false, elapsedBefore: 0, runningSince: null,
    stepMs: 0, steps: 0, rate: 0, status: { step: trainer.step, bitErrorsPerSeq: null, loss: null, msPerStep: null, done: false },
  };
}

/** Makes `next` the session, the previous one's memory given back; the page's view starts afresh. */
function replace(next: Session): void {
  const prev = session;
  session = next;
  if (prev !== null) {
    prev.trainer.dispose();
    releaseModel(prev.model);
  }
  live({ type: 'snapshot', data: { run: summary(next.name, next.config), evals: [], train: { steps: [], loss: [], stride: 1 }, progress: progress(next), inspection: null } });
  post({ type: 'status', status: next.status });
}

/** New training-loss points and the progress, as the dashboard's server sends them (at most every FLUSH_MS). */
function flush(s: Session): void {
  s.lastFlush = performance.now();
  if (s.reset) {
    s.reset = false;
    live({ type: 'trainSeries', data: s.train.toJSON() });
  } else if (s.sent < s.train.steps.length) {
    live({ type: 'train', data: { steps: s.train.steps.slice(s.sent), loss: s.train.values.slice(s.sent) } });
  }
  s.sent = s.train.steps.length;
  live({ type: 'progress', data: progress(s) });
}

/** An evaluation as `engram train` makes it (scheduled, or the last step's), with the inspector's view. */
function evaluate(s: Session, scheduled: boolean): void {
  const rec = s.trainer.evalRecord(elapsed(s), scheduled);
  s.evals.push(rec);
  s.rate = s.steps / Math.max(1e-9, s.stepMs / 1000);
  const until = s.config.train.untilBitErrors;
  if ((until > 0 && rec.bitErrorsPerSeq < until && rec.level >= s.task.levels - 1) || s.trainer.step >= s.config.train.steps) s.done = true;
  s.status = { step: rec.step, bitErrorsPerSeq: rec.bitErrorsPerSeq, loss: rec.loss, msPerStep: s.steps > 0 ? s.stepMs / s.steps : null, done: s.done };
  s.stepMs = 0;
  s.steps = 0;
  live({ type: 'eval', data: rec });
  live({ type: 'inspection', data: inspect(s, `the same sample at every evaluation; weights of step ${rec.step}`) });
  post({ type: 'status', status: s.status });
}

/** Lets the worker's queued messages run (a zero-delay task: no timer clamping). */
const channel = new MessageChannel();
let wake: (() => void) | null = null;
channel.port1.onmessage = () => {
  const w = wake;
  wake = null;
  w?.();
};
const yieldToMessages = (): Promise<void> => new Promise((res) => {
  wake = res;
  channel.port2.postMessage(0);
});

async function train(s: Session): Promise<void> {
  if (looping) return; // the running loop picks the session up
  looping = true;
  s.runningSince = performance.now();
  try {
    // gradient workers start only while this thread is free: before the first step
    if (s.config.train.threads > 1) await s.trainer.startThreads();
    while (session === s && !s.paused && !s.done) {
      const end = performance.now() + SLICE_MS;
      while (performance.now() < end && !s.done) {
        const t = performance.now();
        const r = s.trainer.trainStep();
        s.stepMs += performance.now() - t;
        s.steps++;
        if (s.train.add(s.trainer.step, r.loss) === 'reset') s.reset = true;
        const scheduled = s.trainer.step % s.config.train.evalEvery === 0;
        if (scheduled || s.trainer.step >= s.config.train.steps) {
          flush(s);
          evaluate(s, scheduled);
          break;
        }
      }
      // the first point at once, then at the dashboard's pace
      if (s.sent === 0 || s.done || performance.now() - s.lastFlush >= FLUSH_MS) flush(s);
      await yieldToMessages();
    }
  } catch (err) {
    // a non-finite run (NonFiniteError) or a model too large for memory: said once, training stops
    s.done = true;
    post({ type: 'message', text: `training stopped: ${firstLine(err)}`, error: true });
    flush(s);
  } finally {
    if (s.runningSince !== null) s.elapsedBefore = elapsed(s);
    s.runningSince = null;
    looping = false;
  }
  // a session started while this one's slice ran
  if (session !== null && session !== s && !session.paused && !session.done) void train(session);
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0]!;
}

/** A dropped or chosen file: the model it holds replaces the current one only if every check passes. */
function load(bytes: Uint8Array, name: string): void {
  let next: Session;
  let m: { loss: number; bitErrorsPerSeq: number };
  try {
    const w = decodeWeightsFile(bytes, name);
    next = makeSession(name, w.config, { tensors: w.tensors, source: name, step: Number.isFinite(w.step) ? w.step : 0 });
  } catch (err) {
    post({ type: 'message', text: firstLine(err), error: true });
    return;
  }
  try {
    m = next.trainer.evaluate(next.config.train.evalBatches);
  } catch (err) {
    // e.g. a model too large for this page's memory: the current one stays
    next.trainer.dispose();
    releaseModel(next.model);
    post({ type: 'message', text: `${name}: ${firstLine(err)}`, error: true });
    return;
  }
  next.done = true;
  next.status = { step: next.trainer.step, bitErrorsPerSeq: m.bitErrorsPerSeq, loss: m.loss, msPerStep: null, done: true };
  replace(next);
  const inspection = inspect(next, `sample ${next.config.seed}; ${name} (step ${next.trainer.step})`);
  live({ type: 'inspection', data: inspection });
  post({ type: 'loaded', name, config: next.config, step: next.trainer.step, inspection, bitErrorsPerSeq: m.bitErrorsPerSeq });
}

scope.onmessage = (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  const s = session;
  switch (msg.type) {
    case 'start': {
      let next: Session;
      try {
        next = makeSession(msg.name, msg.config);
      } catch (err) {
        post({ type: 'message', text: firstLine(err), error: true });
        return;
      }
      next.paused = msg.paused;
      replace(next);
      if (!next.paused) void train(next);
      return;
    }
    case 'pause':
      if (s !== null && !s.done) {
        s.paused = true;
        flush(s);
      }
      return;
    case 'resume':
      if (s !== null && !s.done) {
        s.paused = false;
        void train(s);
      }
      return;
    case 'download': {
      if (s === null) return;
      const bytes = encodeWeightsFile(s.model.params, s.config, s.trainer.step);
      post({ type: 'weights', bytes, name: `${s.name.replace(/\.safetensors$/, '')}-step${s.trainer.step}.safetensors` }, [bytes.buffer]);
      return;
    }
    case 'load':
      load(msg.bytes, msg.name);
      return;
  }
};

async function boot(): Promise<void> {
  const here = new URL(scope.location.href);
  await fetchKernels(new URL('./', here), here.searchParams.get('fma') ?? undefined);
  setGradientWorkerUrl(new URL('./grad-worker.js', here));
  post({ type: 'ready', kernels: kernelsName() });
}

void boot();
