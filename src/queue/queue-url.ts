/**
 * @file A queue's URL as given (redis:// or rediss://, a user and password allowed) and the
 * same URL as shown, without the password: the only form ever printed or written to a sweep
 * directory. (No Redis client here: a local sweep never loads one.)
 */
import { UserError } from '../run/user-error.js';

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
    // not echoed: it may hold a password
    throw new UserError('--queue must be a URL like redis://HOST:PORT or rediss://[USER]:PASSWORD@HOST:PORT; the value given is not a URL');
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
