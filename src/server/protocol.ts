/**
 * @file The dashboard's wire format: the one file that the server (src/server/) and the page
 * (web/) share. It imports nothing, so the page's bundle pulls in no Node code.
 *
 * Arrays of numbers travel as `Series`: a shape and row-major data, time first. Legend
 * (docs/model.md): T time, X input, Y output, N memory slots, W word, S shift offsets, Wh write heads.
 */

export const API = {
  /** GET → ServerInfo */
  info: '/api/info',
  /** GET → Server-Sent Events, each `data:` one LiveEvent (live mode only) */
  events: '/api/live/events',
  /** GET → RunSummary[] */
  runs: '/api/runs',
  /** GET → SweepListing[] */
  sweeps: '/api/sweeps',
} as const;

/** GET /api/sweeps/NAME/curves?x=step|time → SweepCurves[] (one per combination) */
export function sweepPath(name: string, what: 'curves', x: 'step' | 'time'): string {
  return `${API.sweeps}/${encodeURIComponent(name)}/${what}?x=${x}`;
}

/** GET /api/runs/NAME/metrics → MetricRecord[]; /config → the run's config.json; /inspect → Inspection */
export function runPath(name: string, what: 'metrics' | 'config' | 'inspect' | 'generalisation'): string {
  return `${API.runs}/${encodeURIComponent(name)}/${what}`;
}

export interface ServerInfo {
  /** live: one training run in this process; runs: the run directories found in a folder */
  readonly mode: 'live' | 'runs';
  readonly title: string;
}

/** One evaluation, one line of metrics.jsonl. */
export interface MetricRecord {
  readonly step: number;
  readonly loss: number;
  readonly bitsPerSeq: number;
  readonly bitErrorsPerSeq: number;
  /** mean training loss since the previous evaluation (NaN → null in JSON) */
  readonly trainLoss: number | null;
  readonly elapsedSec: number;
  readonly skippedSteps?: number;
  /** the task's ranges this evaluation drew from, e.g. "1..7 words" (a growing curriculum widens them; absent in older runs) */
  readonly range?: string;
  /** the curriculum level (absent in older runs) */
  readonly level?: number;
  /** tasks with a best possible predictor: its bits per sequence */
  readonly optimalBitsPerSeq?: number;
}

export interface RunSummary {
  /** the run directory's own name; untrusted, shown as text only */
  readonly name: string;
  readonly model: string;
  readonly task: string;
  /** e.g. "LSTM 64, 1+1 heads, 32 × 12 memory, adam 0.001" */
  readonly description: string;
  /** the step the config trains to */
  readonly totalSteps: number;
  readonly last: MetricRecord | null;
  readonly evaluations: number;
  readonly hasCheckpoint: boolean;
  readonly live: boolean;
  /**
   * When the run last changed (ms since 1970): the newest of its config.json, metrics.jsonl
   * and generalisation.jsonl, so its last evaluation or test; null when not known
   */
  readonly updated: number | null;
}

export interface Series {
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

/** NTM head parameters per step (NTM paper §3.3). */
export interface NtmHeadSignals {
  /** "write 0", "read 0" */
  readonly head: string;
  /** interpolation gate g [T] */
  readonly gate: Series;
  /** shift weighting s [T, S], offsets −range..+range */
  readonly shift: Series;
  /** sharpening γ [T] */
  readonly gamma: Series;
  /** key strength β [T] */
  readonly beta: Series;
}

/** DNC memory management per step (DNC paper, Methods). */
export interface DncSignals {
  /** usage u_t [T, N] */
  readonly usage: Series;
  readonly writeHeads: readonly {
    readonly head: string;
    /** allocation weighting a_t [T, N] */
    readonly allocation: Series;
    /** allocation gate g^a [T] */
    readonly allocGate: Series;
    /** write gate g^w [T] */
    readonly writeGate: Series;
  }[];
  readonly readHeads: readonly {
    readonly head: string;
    /** free gate f [T] */
    readonly free: Series;
    /** read modes π [T, 2·Wh + 1] */
    readonly modes: Series;
  }[];
  /** names of the read modes, in π's order */
  readonly modeNames: readonly string[];
  /** temporal link matrix L_t [T, Wh, N, N]; null when too large to send */
  readonly link: Series | null;
}

/** One sample run through the model, every step's memory and heads (batch element 0). */
export interface Inspection {
  /** e.g. "evaluation sample, weights of step 500" */
  readonly title: string;
  /** the LSTM baseline has no memory or heads: N = W = 0, no weightings, ntm and dnc null */
  readonly model: 'ntm' | 'dnc' | 'lstm';
  /** training step of the weights, when known */
  readonly step: number | null;
  readonly T: number;
  readonly N: number;
  readonly W: number;
  readonly X: number;
  readonly Y: number;
  readonly words: number;
  /** what `words` counts: words, items, bits … (absent: words) */
  readonly lengthName?: string;
  /** x [T, X] */
  readonly input: Series;
  /** y [T, Y] */
  readonly target: Series;
  /** 1 where the output is scored [T] */
  readonly mask: Series;
  /** σ(logits) [T, Y] */
  readonly output: Series;
  /** w^w per write head [T, N] */
  readonly writeWeights: readonly Series[];
  /** w^r per read head [T, N] */
  readonly readWeights: readonly Series[];
  /** M_t after each step's write [T, N, W] */
  readonly memory: Series;
  readonly ntm: { readonly heads: readonly NtmHeadSignals[] } | null;
  readonly dnc: DncSignals | null;
}

export interface Progress {
  readonly step: number;
  readonly total: number;
  readonly stepsPerSec: number;
  readonly elapsedSec: number;
  /** seconds left at the current rate; null before the rate is known */
  readonly etaSec: number | null;
  /** paused: the playground's pause button */
  readonly state: 'training' | 'done' | 'stopped' | 'paused';
}

/** Training loss against steps, averaged over `stride` steps per point (bounded length). */
export interface TrainSeries {
  readonly steps: readonly number[];
  readonly loss: readonly number[];
  readonly stride: number;
}

export interface LiveSnapshot {
  readonly run: RunSummary;
  readonly evals: readonly MetricRecord[];
  readonly train: TrainSeries;
  readonly progress: Progress;
  readonly inspection: Inspection | null;
}

/** What the live channel sends; `train` appends points, `trainSeries` replaces them all. */
export type LiveEvent =
  | { readonly type: 'snapshot'; readonly data: LiveSnapshot }
  | { readonly type: 'progress'; readonly data: Progress }
  | { readonly type: 'train'; readonly data: { readonly steps: readonly number[]; readonly loss: readonly number[] } }
  | { readonly type: 'trainSeries'; readonly data: TrainSeries }
  | { readonly type: 'eval'; readonly data: MetricRecord }
  | { readonly type: 'inspection'; readonly data: Inspection };

/** One row of `engram test --lengths`: the length (and repeats) every sample had, and the metrics. */
export interface GeneralisationRow {
  readonly length?: number;
  readonly repeats?: number;
  readonly loss: number;
  readonly bitsPerSeq: number;
  readonly bitErrorsPerSeq: number;
  /** the share of scored output bits that were wrong */
  readonly bitErrorRate: number;
  readonly optimalBitsPerSeq?: number;
}

/** One `engram test --lengths` of a run: a line of its generalisation.jsonl. */
export interface GeneralisationRecord {
  readonly time: string;
  /** the training step of the tested weights */
  readonly step: number;
  readonly checkpoint: string;
  readonly seed: number;
  readonly batches: number;
  /** what a length counts: words, items, bits … */
  readonly lengthName: string;
  readonly rows: readonly GeneralisationRow[];
}

/** What `engram test --report` embeds in its HTML file (element #engram-data). */
export interface ReportData {
  readonly title: string;
  readonly run: RunSummary | null;
  readonly evals: readonly MetricRecord[];
  readonly test: {
    readonly checkpoint: string;
    readonly loss: number;
    readonly bitsPerSeq: number;
    readonly bitErrorsPerSeq: number;
    readonly batches: number;
    readonly length: number | null;
  };
  /** the test's rows when it had several lengths or repeats, else the run's last recorded ones, if any */
  readonly generalisation?: GeneralisationRecord | null;
  readonly inspection: Inspection;
}

/** The id of the element that holds a report's ReportData as JSON. */
export const REPORT_DATA_ID = 'engram-data';

/** The median, p10 and p90 of the seeds that learned (null: none did). */
export interface SweepSpread {
  readonly median: number | null;
  readonly p10: number | null;
  readonly p90: number | null;
}

/** One combination of a sweep's grid: a row of its summary table (sweep.json's `summary`). */
export interface SweepComboSummary {
  readonly combo: string;
  readonly seeds: number;
  readonly finished: number;
  readonly failed: number;
  readonly learned: number;
  /** bit errors per sequence below which a run counts as learned */
  readonly threshold: number;
  /** steps and training seconds to learn, over the seeds that learned */
  readonly steps: SweepSpread;
  readonly seconds: SweepSpread;
}

/** A sweep directory (`engram sweep`) as the dashboard lists it. */
export interface SweepListing {
  /** the sweep directory's own name; untrusted, shown as text only */
  readonly name: string;
  /** preset, seeds, grid and settings, e.g. "ntm-copy-fast, seeds 1-20, grid optimizer.lr=0.01,0.02" */
  readonly description: string;
  readonly complete: boolean;
  readonly runs: number;
  readonly finished: number;
  readonly summary: readonly SweepComboSummary[];
}

/** A metric over the seeds of one combination: the median at each evaluation and a band from the lowest to the highest. */
export interface SeedBand {
  readonly x: readonly number[];
  readonly y: readonly (number | null)[];
  readonly band: readonly (readonly [number, number] | null)[];
}

export interface SweepCurves {
  readonly combo: string;
  /** the seeds with at least one evaluation */
  readonly seeds: number;
  readonly loss: SeedBand;
  readonly bitsPerSeq: SeedBand;
  readonly bitErrorsPerSeq: SeedBand;
  readonly trainLoss: SeedBand;
}
