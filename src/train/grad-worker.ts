/**
 * @file A gradient worker thread in Node (worker_threads): a GradReplica (grad-replica.ts)
 * driven by train/parallel.ts through Atomics on the control block's state word; new data
 * buffers and its errors go through its MessagePort.
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { failWith, GradReplica } from './grad-replica.js';
import { controlViews, SPIN_MS, State, waitWhile, type DataMessage, type ErrorReply, type WorkerInit } from './parallel-protocol.js';

const init = workerData as WorkerInit & { port: MessagePort };
const { ints: control } = controlViews(init.control);

function post(message: string): void {
  const reply: ErrorReply = { error: message };
  init.port.postMessage(reply);
}

try {
  const replica = new GradReplica(init);
  for (;;) {
    const state = Atomics.load(control, 0);
    if (state === State.Quit) break;
    if (state !== State.Go) {
      // Idle, or Done / Failed until the trainer has read the answer: wait for the next change
      // (spinning only briefly: with more threads than cores it would take the trainer's core)
      waitWhile(control, state, init.spin ? SPIN_MS : 0, Infinity);
      continue;
    }
    if (replica.needsData()) {
      // the trainer sent a larger buffer (before it set Go): take the newest
      let msg: DataMessage | undefined;
      for (let m = receiveMessageOnPort(init.port); m !== undefined; m = receiveMessageOnPort(init.port)) msg = m.message as DataMessage;
      if (msg === undefined) {
        failWith(control, post, 'gradient worker: the new data buffer did not come');
        continue;
      }
      replica.setData(msg.data);
    }
    replica.serve(post);
  }
} catch (err) {
  failWith(control, post, `gradient worker failed to start: ${(err as Error).message}`);
}
