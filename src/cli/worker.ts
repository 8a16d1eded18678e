/**
 * @file `engram worker`: takes sweep runs from a BullMQ queue in Redis (queue/worker.ts) until
 * stopped with Ctrl-C.
 */
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { intFlag, parseFlags } from './args.js';
import { UserError } from './errors.js';
import { parseQueueUrl } from '../queue/queue-url.js';

export const WORKER_HELP = `usage: engram worker --queue redis://HOST:PORT [--parallel N] [--work-dir DIR]

  --queue URL       the Redis that \`engram sweep --queue URL\` put its runs on (redis:// or
                    rediss://, a password in the URL works)
  --parallel N      runs at once, each on one thread (default: one per core)
  --work-dir DIR    where runs train before their results are shipped back (default: a new
                    folder in the system's temp folder); nothing else is written here
  Ctrl-C stops the runs; their jobs go back to the queue, and another worker resumes them from
  the last checkpoint shipped.`;

export async function workerCommand(argv: string[]): Promise<number> {
  const f = parseFlags('worker', argv, {
    queue: { type: 'string' }, parallel: { type: 'string' }, 'work-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (f.help) {
    console.log(WORKER_HELP);
    return 0;
  }
  if (typeof f.queue !== 'string') throw new UserError('engram worker needs --queue redis://HOST:PORT');
  const queue = parseQueueUrl(f.queue);
  const parallel = intFlag('parallel', f.parallel, 1, 256) ?? availableParallelism();
  const workDir = typeof f['work-dir'] === 'string' ? f['work-dir'] : mkdtempSync(join(tmpdir(), 'engram-worker-'));
  const { QueueWorker } = await import('../queue/worker.js'); // bullmq only for the commands that use it
  const log = (line: string): void => console.log(`[${new Date().toISOString()}] ${line}`);
  const worker = await QueueWorker.start({ queue, parallel, workDir, log });
  log(`worker: taking runs from ${queue.shown}, ${parallel} at once, in ${workDir}`);
  await new Promise<void>((res) => {
    process.once('SIGINT', () => res());
    process.once('SIGTERM', () => res());
  });
  log('stopping: the runs ship their last evaluation, and their jobs go back to the queue');
  await worker.stop();
  process.exit(130);
}
