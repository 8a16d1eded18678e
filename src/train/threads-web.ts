/**
 * @file Gradient threads in a browser: Web Workers running the build's grad-worker script
 * (grad-worker-web.ts), given the page's compiled kernels and the trainer's shared memory.
 * They need a cross-origin isolated page (COOP/COEP headers: shared memory crosses to a worker
 * only there), and a trainer in a worker (the trainer thread waits with Atomics.wait). A worker
 * starts only while its creator's thread is free: `await trainer.startThreads()` before the
 * first step. Chosen by the package's `#gradient-threads` import under the `browser`
 * condition; Node uses worker_threads (threads-node.ts).
 */
import { fmaSetting, kernelModule } from '../kernels/files-web.js';
import { controlViews, State, type DataMessage, type ErrorReply, type GradientThread, type WorkerInit } from './parallel-protocol.js';

let workerUrl: string | URL | null = null;

/** Where the gradient worker script is (the playground: grad-worker.js beside its own scripts). */
export function setGradientWorkerUrl(url: string | URL): void {
  workerUrl = url;
}

export function cores(): number {
  return typeof navigator === 'undefined' ? 1 : navigator.hardwareConcurrency || 1;
}

/** Why gradient threads cannot start here, or null when they can. */
export function threadsUnavailable(): string | null {
  if (globalThis.crossOriginIsolated !== true) return 'gradient threads need a cross-origin isolated page (served with COOP/COEP headers, as engram playground serves it)';
  if (typeof Worker === 'undefined') return 'this thread cannot start Web Workers';
  if (workerUrl === null) return 'no gradient worker script was given (setGradientWorkerUrl)';
  return null;
}

export function beforeSpawning(): void {}

/** What the trainer posts a new worker first. */
export interface WebWorkerStart {
  readonly init: WorkerInit;
  readonly modules: { readonly fma: WebAssembly.Module | null; readonly simd: WebAssembly.Module | null };
  readonly fma: string | undefined;
}

export function spawnGradientThread(init: WorkerInit): GradientThread {
  const worker = new Worker(workerUrl!, { type: 'module' });
  let error: string | undefined;
  let started!: () => void;
  const ready = new Promise<void>((res) => (started = res));
  worker.onmessage = (ev: MessageEvent<ErrorReply | { ready: true }>) => {
    if ('error' in ev.data) error = ev.data.error;
    started(); // ready, or failed (its state word says Failed)
  };
  worker.onerror = (ev) => {
    ev.preventDefault();
    error = `gradient worker failed to start: ${ev.message || 'its script did not load'}`;
    // it never ran: its state word is still Idle, and the trainer's next slice must not wait for it
    const { ints } = controlViews(init.control);
    Atomics.store(ints, 0, State.Failed);
    started();
  };
  const start: WebWorkerStart = { init, modules: { fma: kernelModule('fma'), simd: kernelModule('simd') }, fma: fmaSetting() };
  worker.postMessage(start);
  return {
    post: (msg: DataMessage) => worker.postMessage(msg),
    takeError: () => {
      const e = error;
      error = undefined;
      return e;
    },
    terminate: () => {
      worker.terminate();
      return Promise.resolve();
    },
    started: ready,
  };
}
