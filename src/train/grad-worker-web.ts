/**
 * @file A gradient worker in a browser (a module Web Worker started by threads-web.ts): takes
 * the trainer's kernels and buffers from its first message, then serves slices as Node's
 * grad-worker.ts does (waiting on the state word with Atomics.wait); a new data buffer comes
 * by message, which this thread receives only once it returns to its event loop, so it
 * awaits one there when the state word says the trainer sent it.
 */
import { installKernels } from '../kernels/files-web.js';
import { failWith, GradReplica } from './grad-replica.js';
import { controlViews, SPIN_MS, State, waitWhile, type DataMessage, type ErrorReply } from './parallel-protocol.js';
import type { WebWorkerStart } from './threads-web.js';

const scope = self as unknown as { postMessage(m: ErrorReply | { ready: true }): void; onmessage: ((ev: MessageEvent<WebWorkerStart | DataMessage>) => void) | null };

/** data buffers the trainer sent, newest last, and the wait for one */
const buffers: SharedArrayBuffer[] = [];
let arrived: (() => void) | null = null;

scope.onmessage = (ev) => {
  const m = ev.data;
  if ('init' in m) {
    void serve(m);
    return;
  }
  buffers.push(m.data);
  arrived?.();
};

async function serve(m: WebWorkerStart): Promise<void> {
  const { ints: control } = controlViews(m.init.control);
  const post = (message: string): void => scope.postMessage({ error: message });
  let replica: GradReplica;
  try {
    installKernels(m.modules, m.fma);
    replica = new GradReplica(m.init);
  } catch (err) {
    failWith(control, post, `gradient worker failed to start: ${(err as Error).message}`);
    return;
  }
  scope.postMessage({ ready: true });
  for (;;) {
    const state = Atomics.load(control, 0);
    if (state === State.Quit) return;
    if (state !== State.Go) {
      waitWhile(control, state, m.init.spin ? SPIN_MS : 0, Infinity);
      continue;
    }
    if (replica.needsData()) {
      // the trainer posted a larger buffer before it set Go: wait for it, take the newest
      while (buffers.length === 0) await new Promise<void>((res) => (arrived = res));
      replica.setData(buffers[buffers.length - 1]!);
      buffers.length = 0;
    }
    replica.serve(post);
  }
}
