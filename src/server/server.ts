/**
 * @file The dashboard's HTTP server (node:http, GET only). It serves:
 *   /                       the page (dist/web/index.html)
 *   /<file>                 only the files the build put in dist/web/, from a list made at start
 *   /api/info               ServerInfo
 *   /api/live/events        the live run's event stream (live mode)
 *   /api/runs               RunSummary[]
 *   /api/runs/NAME/metrics  MetricRecord[]   /config  config.json   /inspect  Inspection
 *   /api/runs/NAME/generalisation  the last GeneralisationRecord of `engram test --lengths`, or null
 * No path from a request is ever joined onto the file system: files and runs are looked up
 * by exact name in listings. Bound to 127.0.0.1 it also refuses foreign Host headers, so a
 * web page elsewhere cannot reach it through DNS rebinding.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API, type ServerInfo } from './protocol.js';
import type { LiveHub } from './live.js';
import { isRunName, listRunDirs, readConfig, readGeneralisation, readMetrics, summariseDir } from './runs.js';
import { inspectRun } from './inspect-run.js';
import { listSweepDirs, readSweepListing, sweepCurves } from './sweeps.js';

/** Where the build puts the page (dist/web/, beside dist/src/). */
/** The longest sample the inspector runs, in the task's length unit. */
export const MAX_INSPECT_LENGTH = 256;

export const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

export const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
};

const PAGE_CSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

export interface DashboardOptions {
  readonly host: string;
  /** 0: any free port */
  readonly port: number;
  readonly title: string;
  /** a live training run (train --dashboard) */
  readonly live?: { readonly hub: LiveHub; readonly name: string; readonly runDir: string };
  /** a folder of run directories (engram dashboard --runs) */
  readonly runsDir?: string;
  readonly webDir?: string;
}

export interface Dashboard {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

/**
 * Listens with `handle` on host:port (0: any free port) and returns the server with its URL and
 * a close() that also ends open connections (event streams never end on their own).
 */
export async function serveOn(handle: (req: IncomingMessage, res: ServerResponse) => void, port: number, host: string): Promise<Dashboard> {
  const server = createServer(handle);
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${bound}/`,
    port: bound,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The loopback names a browser may send in Host when the server is bound to loopback. */
export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function hostName(header: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d+)?$/.exec(header.trim());
  return (m?.[1] ?? '').toLowerCase();
}

/** The files of the built page, by URL path: the only files this server ever reads for a request. */
export function pageFiles(webDir: string): Map<string, { path: string; type: string }> {
  const files = new Map<string, { path: string; type: string }>();
  let names: string[] = [];
  try {
    names = readdirSync(webDir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
  } catch {
    // not built: every page request gets the 503 below
  }
  for (const name of names) {
    const type = TYPES[extname(name)];
    if (type) files.set(`/${name}`, { path: join(webDir, name), type });
  }
  const index = files.get('/index.html');
  if (index) files.set('/', index);
  return files;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const files = pageFiles(opts.webDir ?? WEB_DIR);
  const loopbackOnly = isLoopback(opts.host);
  const info: ServerInfo = { mode: opts.live ? 'live' : 'runs', title: opts.title };

  /** The runs this server knows, by name; listed afresh per request (runs appear while it serves). */
  const runs = (): Map<string, string> => {
    const m = opts.runsDir !== undefined ? listRunDirs(opts.runsDir) : new Map<string, string>();
    if (opts.live) m.set(opts.live.name, opts.live.runDir);
    return m;
  };

  /** The sweeps this server knows, by name; listed afresh per request. */
  const sweeps = (): Map<string, string> => (opts.runsDir !== undefined ? listSweepDirs(opts.runsDir) : new Map<string, string>());

  const handleSweep = (res: ServerResponse, rawName: string, query: URLSearchParams): void => {
    let name: string;
    try {
      name = decodeURIComponent(rawName);
    } catch {
      throw new HttpError(400, 'bad sweep name');
    }
    const dir = isRunName(name) ? sweeps().get(name) : undefined;
    if (dir === undefined) throw new HttpError(404, 'no such sweep');
    const x = query.get('x') ?? 'step';
    if (x !== 'step' && x !== 'time') throw new HttpError(400, 'x must be step or time');
    return sendJson(res, 200, sweepCurves(dir, x));
  };

  const handleRun = (res: ServerResponse, rawName: string, what: string, query: URLSearchParams): void => {
    let name: string;
    try {
      name = decodeURIComponent(rawName);
    } catch {
      throw new HttpError(400, 'bad run name');
    }
    if (!isRunName(name)) throw new HttpError(404, 'no such run');
    const dir = runs().get(name);
    if (dir === undefined) throw new HttpError(404, 'no such run');
    switch (what) {
      case 'metrics':
        return sendJson(res, 200, readMetrics(dir));
      case 'generalisation':
        return sendJson(res, 200, readGeneralisation(dir));
      case 'config': {
        const c = readConfig(dir);
        if (!c) throw new HttpError(404, 'config.json unreadable');
        return sendJson(res, 200, c);
      }
      case 'inspect': {
        const seed = boundedInt(query.get('seed'), 0, 0x7fffffff, 'seed');
        // up to the lengths a generalisation test runs (copy at 120 words is 242 time steps)
        const length = query.has('length') ? boundedInt(query.get('length'), 1, MAX_INSPECT_LENGTH, 'length') : undefined;
        let inspection;
        try {
          inspection = inspectRun(dir, seed, length);
        } catch (err) {
          throw new HttpError(409, err instanceof Error ? err.message.split('\n')[0]! : 'cannot inspect this run');
        }
        return sendJson(res, 200, inspection);
      }
      default:
        throw new HttpError(404, 'not found');
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (loopbackOnly && !isLoopback(hostName(req.headers.host ?? ''))) {
      res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' }).end('forbidden host\n');
      return;
    }
    try {
      // inside the try: a request line such as `GET http://[ HTTP/1.1` makes URL throw
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://dashboard.invalid');
      } catch {
        throw new HttpError(400, 'bad request target');
      }
      const path = url.pathname;
      if (path === API.info) return sendJson(res, 200, info);
      if (path === API.events) {
        if (!opts.live) throw new HttpError(404, 'no live run here');
        opts.live.hub.attach(res);
        return;
      }
      if (path === API.runs) return sendJson(res, 200, [...runs()].map(([name, dir]) => summariseDir(name, dir, opts.live?.name === name && opts.live.hub.isTraining)));
      if (path === API.sweeps) return sendJson(res, 200, [...sweeps()].flatMap(([name, dir]) => readSweepListing(name, dir) ?? []));
      const sw = /^\/api\/sweeps\/([^/]+)\/curves$/.exec(path);
      if (sw) return handleSweep(res, sw[1]!, url.searchParams);
      const m = /^\/api\/runs\/([^/]+)\/([a-z]+)$/.exec(path);
      if (m) return handleRun(res, m[1]!, m[2]!, url.searchParams);
      if (path.startsWith('/api/')) throw new HttpError(404, 'not found');
      const file = files.get(path);
      if (!file) {
        if (files.size === 0) throw new HttpError(503, 'the dashboard page is not built; run npm run build');
        throw new HttpError(404, 'not found');
      }
      const body = readFileSync(file.path);
      res.writeHead(200, {
        'Content-Type': file.type,
        'Content-Length': body.length,
        'Cache-Control': 'no-cache',
        'X-Content-Type-Options': 'nosniff',
        ...(file.type.startsWith('text/html') ? { 'Content-Security-Policy': PAGE_CSP, 'Referrer-Policy': 'no-referrer' } : {}),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      if (err instanceof HttpError) return sendJson(res, err.status, { error: err.message });
      sendJson(res, 500, { error: err instanceof Error ? err.message.split('\n')[0] : 'internal error' });
    }
  };

  return serveOn(handle, opts.port, opts.host);
}

function boundedInt(v: string | null, min: number, max: number, name: string): number {
  if (v === null || v === '') return min;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new HttpError(400, `${name} must be an integer in ${min}..${max}`);
  return n;
}
