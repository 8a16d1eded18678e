import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test/). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'engram.js');

/** The folders tempDir made in this process: removed when it exits (ENGRAM_KEEP_TEMP=1 keeps them). */
const made: string[] = [];
process.on('exit', () => {
  if (process.env.ENGRAM_KEEP_TEMP === '1') return;
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A new folder in the system temp dir, removed with everything in it when the test file's process exits. */
export function tempDir(prefix = 'engram-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function engram(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? ROOT, encoding: 'utf8', timeout: opts.timeoutMs ?? 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Collects what goes wrong in `page` into `errors` (returned): its uncaught exceptions and, with
 * `console`, its console errors ('errors') or errors and warnings ('warnings'), but those whose
 * text includes `allow` (an expected message: the event stream a test's server closes, say).
 */
export function collectErrors(page: import('playwright-core').Page, errors: string[] = [], opts: { console?: 'errors' | 'warnings'; allow?: string } = {}): string[] {
  page.on('pageerror', (e) => errors.push(String(e)));
  const kinds = opts.console === 'warnings' ? ['error', 'warning'] : opts.console === 'errors' ? ['error'] : [];
  if (kinds.length > 0) {
    page.on('console', (m) => {
      if (kinds.includes(m.type()) && !(opts.allow !== undefined && m.text().includes(opts.allow))) errors.push(m.text());
    });
  }
  return errors;
}

/** Debian's Chromium, headless, with the flags these machines need (playwright-core never downloads one). */
export async function launchChromium(): Promise<import('playwright-core').Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/**
 * Starts `engram ARGS` and resolves once it prints `LABEL: http://127.0.0.1:PORT/` (the dashboard's
 * or the playground's URL), with the process, that URL and everything it printed so far.
 */
export function serveCommand(args: string[], label: 'dashboard' | 'playground'): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const printed = new RegExp(`${label}: (http://127\\.0\\.0\\.1:\\d+/)`);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${label} URL within 20 s:\n${out}`)), 20_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = printed.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, output: () => out });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`exited ${code} before serving:\n${out}`)));
  });
}
