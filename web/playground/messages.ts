/**
 * @file What the playground page and its training worker say to each other (page.ts and
 * worker.ts). The worker's view of training goes out as the dashboard's own LiveEvents, so
 * the page draws it with the dashboard's live view.
 */
import type { Config } from '../../src/config/schema.js';
import type { Inspection, LiveEvent } from '../../src/server/protocol.js';

/** The latest evaluation, as `window.engram.status()` returns it (null fields before the first). */
export interface PlaygroundStatus {
  readonly step: number;
  readonly bitErrorsPerSeq: number | null;
  readonly loss: number | null;
  /** mean training-step time since the previous evaluation (evaluations not counted) */
  readonly msPerStep: number | null;
  /** training stopped: the steps ran out or bit errors fell below train.untilBitErrors */
  readonly done: boolean;
}

export type ToWorker =
  /** a new model from `config` (its seed), trained from step 0 unless `paused` */
  | { readonly type: 'start'; readonly config: Config; readonly name: string; readonly paused: boolean }
  | { readonly type: 'pause' }
  | { readonly type: 'resume' }
  /** the weights now, as a weights file */
  | { readonly type: 'download' }
  /** a dropped or chosen file: replaces the model if it is an engram weights file */
  | { readonly type: 'load'; readonly bytes: Uint8Array; readonly name: string };

export type FromWorker =
  /** the kernels are loaded: their name (wasm+fma, wasm or ts) */
  | { readonly type: 'ready'; readonly kernels: string }
  | { readonly type: 'live'; readonly event: LiveEvent }
  | { readonly type: 'status'; readonly status: PlaygroundStatus }
  | { readonly type: 'weights'; readonly bytes: Uint8Array; readonly name: string }
  /** a file was loaded: the model it holds and its config, now the current one */
  | { readonly type: 'loaded'; readonly name: string; readonly config: Config; readonly step: number; readonly inspection: Inspection; readonly bitErrorsPerSeq: number }
  /** one line for the page's message bar */
  | { readonly type: 'message'; readonly text: string; readonly error: boolean };
