import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlayground } from './playground.js';
import type { Dashboard } from './server.js';

const tmp = mkdtempSync(join(tmpdir(), 'engram-playground-'));
const dir = join(tmp, 'playground');
mkdirSync(dir);
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>playground</title>');
writeFileSync(join(dir, 'page.js'), 'void 0;');
writeFileSync(join(dir, 'kernels.wasm'), new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
writeFileSync(join(tmp, 'secret.txt'), 'SECRET');

const servers: Dashboard[] = [];
after(async () => {
  for (const s of servers) await s.close();
  rmSync(tmp, { recursive: true, force: true });
});

function get(port: number, path: string, opts: { method?: string; host?: string } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.host ? { Host: opts.host } : {} }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the playground server: its files with the isolation headers and their types, nothing else', async () => {
  const s = await startPlayground({ host: '127.0.0.1', port: 0, dir });
  servers.push(s);
  assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  for (const [path, type] of [['/', 'text/html; charset=utf-8'], ['/page.js', 'text/javascript; charset=utf-8'], ['/kernels.wasm', 'application/wasm']] as const) {
    const r = await get(s.port, path);
    assert.equal(r.status, 200, path);
    assert.equal(r.headers['content-type'], type);
    assert.equal(r.headers['cross-origin-opener-policy'], 'same-origin');
    assert.equal(r.headers['cross-origin-embedder-policy'], 'require-corp');
  }
  // the page may compile WebAssembly and start its own workers, and nothing from elsewhere
  assert.match(String((await get(s.port, '/')).headers['content-security-policy']), /script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'/);
  assert.equal((await get(s.port, '/page.js?x=1')).status, 200, 'a query is not part of the path');
  for (const path of ['/secret.txt', '/../secret.txt', '/%2e%2e/secret.txt', '/api/info', '/nope.js']) {
    const r = await get(s.port, path);
    assert.equal(r.status, 404, path);
    assert.ok(!r.body.includes('SECRET'));
  }
  assert.equal((await get(s.port, '/', { method: 'POST' })).status, 405);
  assert.equal((await get(s.port, '/', { host: 'evil.example:80' })).status, 403, 'a foreign Host (DNS rebinding) is refused');
  assert.equal((await get(s.port, '/', { host: `localhost:${s.port}` })).status, 200);
});

test('the playground server says when the playground is not built', async () => {
  const s = await startPlayground({ host: '127.0.0.1', port: 0, dir: join(tmp, 'missing') });
  servers.push(s);
  const r = await get(s.port, '/');
  assert.equal(r.status, 503);
  assert.equal(r.body, 'the playground is not built; run npm run build\n');
});
