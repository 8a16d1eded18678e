/**
 * @file Gradient threads in a browser: not started yet in this build; a trainer there runs
 * on one thread. Chosen by the package's `#gradient-threads` import under the `browser`
 * condition; Node uses worker_threads (threads-node.ts).
 */
import type { GradientThread, WorkerInit } from './parallel-protocol.js';

export function cores(): number {
  return typeof navigator === 'undefined' ? 1 : navigator.hardwareConcurrency || 1;
}

/** Why gradient threads cannot start here, or null when they can. */
export function threadsUnavailable(): string | null {
  return 'gradient threads do not run in a browser yet';
}

export function beforeSpawning(): void {}

export function spawnGradientThread(init: WorkerInit): GradientThread {
  void init;
  throw new Error(threadsUnavailable()!);
}
