/**
 * @file Redis connections for sweeps on a queue: the URL as given (redis:// or rediss://, a
 * user and password allowed) and the same URL as shown, without the password, which is the
 * only form ever printed or written to a sweep directory.
 *
 * Clients retry for ever (a Redis restart is waited out, not an error); only the first
 * contact, checkReachable, gives up quickly with a one-line error.
 */
import { Redis } from 'ioredis';
import { UserError } from '../run/user-error.js';

/** The BullMQ queue every sweep's runs go on (jobs name their sweep); `engram worker` takes from it. */
export const QUEUE_NAME = 'engram-runs';
/** The prefix of the keys the results come back in. */
export const KEY_PREFIX = 'engram';

export interface QueueUrl {
  /** the URL as given, password included: only ever passed to the Redis client */
  readonly url: string;
  /** the URL without its password, for messages and sweep.json */
  readonly shown: string;
}

export function parseQueueUrl(s: string): QueueUrl {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new UserError(`--queue must be a URL like redis://HOST:PORT or rediss://HOST:PORT, got "${redactText(s)}"`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new UserError(`--queue must be a redis:// or rediss:// URL, got "${u.protocol}//${u.host}"`);
  }
  if (u.hostname === '') throw new UserError('--queue: the URL names no host (redis://HOST:PORT)');
  if (u.pathname !== '' && u.pathname !== '/' && !/^\/\d+$/.test(u.pathname)) {
    throw new UserError(`--queue: the URL's path must be a database number (redis://HOST:PORT/0), got "${u.pathname}"`);
  }
  return { url: s, shown: showUrl(u) };
}

function showUrl(u: URL): string {
  const user = u.username !== '' ? `${u.username}@` : '';
  const db = /^\/\d+$/.test(u.pathname) ? u.pathname : '';
  return `${u.protocol}//${user}${u.host}${db}`;
}

/** Text that may hold a URL with a password, with every `:password@` taken out. */
export function redactText(s: string): string {
  return s.replace(/\/\/([^/@:\s]*):[^@/\s]*@/g, '//$1@');
}

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
  const client = new Redis(q.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs, enableOfflineQueue: false });
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
