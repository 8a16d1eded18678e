/**
 * @file The messages between a sweep (or a queue worker) and the process that runs one of its
 * runs (run-child.ts), over the IPC channel of child_process.fork with structured cloning.
 */
import type { Config } from '../config/schema.js';
import type { EvalRecord } from '../train/trainer.js';
import type { RunFaults } from './faults.js';

/** What to run: sent once, as the child's first message. */
export interface ChildRequest {
  readonly runDir: string;
  readonly config: Config;
  readonly resume: boolean;
  readonly faults?: RunFaults;
  /** send the run's checkpoint files and new log lines with every evaluation (a queue worker ships them) */
  readonly ship: boolean;
}

/**
 * A run's checkpoint files by name (`last.safetensors`, ...), and its log lines since the last
 * shipment. A best file that is byte for byte its last twin (a new best) is the same object.
 */
export interface Shipment {
  readonly files: Readonly<Record<string, Uint8Array>>;
  readonly log: readonly string[];
}

export type ChildMessage =
  | { readonly type: 'eval'; readonly record: EvalRecord; readonly total: number; readonly shipment?: Shipment }
  | { readonly type: 'done'; readonly step: number; readonly reachedStep: number | null; readonly interrupted: boolean; readonly log: readonly string[] }
  | { readonly type: 'error'; readonly message: string; readonly log: readonly string[] };

/** The checkpoint files a shipment carries (see checkpoint/checkpoint.ts's weightsPath and statePath). */
export const SHIPPED_FILES = ['last.safetensors', 'last.state.safetensors', 'best.safetensors', 'best.state.safetensors'] as const;

/** Each best file and its last twin: the same bytes when an evaluation was a new best. */
export const SAME_PAIR = [['best.safetensors', 'last.safetensors'], ['best.state.safetensors', 'last.state.safetensors']] as const;
