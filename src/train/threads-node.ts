/**
 * @file Gradient threads in Node: worker_threads running grad-worker.js, each with a
 * MessagePort for new data buffers and errors. Chosen by the package's `#gradient-threads`
 * import (package.json `imports`); a browser gets threads-web.ts instead.
 */
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { DataMessage, ErrorReply, GradientThread, WorkerInit } from './parallel-protocol.js';

/** Threads that can run at once. */
export function cores(): number {
  return availableParallelism();
}

/** Null: gradient threads can start here. */
export function threadsUnavailable(): string | null {
  return null;
}

/**
 * Before the first worker: workers made from here on compile optimised code on their own thread
 * rather than on a background one. With as many busy threads as cores, background compiles
 * preempted a gradient thread now and then, and two threads were slower than one on a 5 ms step
 * (dnc-repeat-copy: median 4.6 ms with background compiles, 3.1 ms without). An isolate reads
 * this flag when it starts, so the running one is unaffected.
 */
export function beforeSpawning(): void {
  setFlagsFromString('--no-concurrent-recompilation');
}

export function spawnGradientThread(init: WorkerInit): GradientThread {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL('./grad-worker.js', import.meta.url), { workerData: { ...init, port: port2 }, transferList: [port2] });
  worker.unref(); // a blocked worker never keeps the process alive
  return {
    post: (msg: DataMessage) => port1.postMessage(msg),
    takeError: () => (receiveMessageOnPort(port1)?.message as ErrorReply | undefined)?.error,
    terminate: () => {
      const stopped = worker.terminate();
      port1.close();
      return stopped;
    },
    // a Node worker starts on its own thread: the trainer's first slice waits for it
    started: Promise.resolve(),
  };
}
