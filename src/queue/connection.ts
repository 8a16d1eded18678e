/**
 * @file Redis connections for sweeps on a queue (the URL: queue-url.ts).
 *
 * Clients retry for ever (a Redis restart is waited out, not an error); only the first
 * contact, checkReachable, gives up quickly with a one-line error.
 */
import { Redis } from 'ioredis';
import { UserError } from '../run/user-error.js';
import { redactText, type QueueUrl } from './queue-url.js';

/** The BullMQ queue every sweep's runs go on (jobs name their sweep); `engram worker` takes from it. */
export const QUEUE_NAME = 'engram-runs';
/** The prefix of the keys the results come back in. */
export const KEY_PREFIX = 'engram';

/** A client that waits out any outage (BullMQ's workers need maxRetriesPerRequest: null). */
export function redisClient(q: QueueUrl): Redis {
  const client = new Redis(q.url, {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(100 * times, 2000),
  });
  // connection errors are retried; the client would otherwise print each one with its stack
  client.on('error', () => {});
  return client;
}

/** Contacts Redis once; a one-line error naming the URL (never the password) if it cannot. */
export async function checkReachable(q: QueueUrl, timeoutMs = 5000): Promise<void> {
  // disconnectTimeout: the client would otherwise keep the process alive 2 s after a failed first contact
  const client = new Redis(q.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs, enableOfflineQueue: false, disconnectTimeout: 10 });
  let lastError: Error | null = null;
  client.on('error', (err: Error) => {
    lastError = err;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    const cause = redactText(((lastError ?? err) as Error).message.split('\n')[0]!);
    throw new UserError(`cannot reach Redis at ${q.shown}: ${cause}`);
  } finally {
    client.disconnect();
  }
}
