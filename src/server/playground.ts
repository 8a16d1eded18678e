/**
 * @file The playground's server (`engram playground`): the static files of dist/playground/
 * and nothing else, with the headers that make the page cross-origin isolated
 * (Cross-Origin-Opener-Policy and -Embedder-Policy), so its workers can share memory.
 * Like the dashboard's server it answers only GET and HEAD, reads only the build's files, and
 * on loopback refuses foreign Host headers (no DNS rebinding).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hostName, isLoopback, pageFiles, serveOn, type Dashboard } from './server.js';

/** Where the build puts the playground (dist/playground/, beside dist/src/). */
export const PLAYGROUND_DIR = fileURLToPath(new URL('../../playground/', import.meta.url));

/** Every response: cross-origin isolation, and the page may run WebAssembly and its own workers only. */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; img-src 'self' data: blob:; " +
  "style-src 'self' 'unsafe-inline'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

export async function startPlayground(opts: { host: string; port: number; dir?: string }): Promise<Dashboard> {
  const files = pageFiles(opts.dir ?? PLAYGROUND_DIR);
  const loopbackOnly = isLoopback(opts.host);
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const text = (status: number, body: string): void => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...ISOLATION_HEADERS }).end(`${body}\n`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (loopbackOnly && !isLoopback(hostName(req.headers.host ?? ''))) return text(403, 'forbidden host');
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://playground.invalid').pathname;
    } catch {
      return text(400, 'bad request target');
    }
    const file = files.get(path);
    if (!file) return files.size === 0 ? text(503, 'the playground is not built; run npm run build') : text(404, 'not found');
    let body: Buffer;
    try {
      body = readFileSync(file.path);
    } catch {
      return text(404, 'not found');
    }
    res.writeHead(200, {
      'Content-Type': file.type,
      'Content-Length': body.length,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      ...ISOLATION_HEADERS,
      ...(file.type.startsWith('text/html') ? { 'Content-Security-Policy': CSP, 'Referrer-Policy': 'no-referrer' } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  return serveOn(handle, opts.port, opts.host);
}
