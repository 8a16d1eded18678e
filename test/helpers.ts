import { spawnSync } from 'node:child_process';
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

/** Debian's Chromium, headless, with the flags these machines need (playwright-core never downloads one). */
export async function launchChromium(): Promise<import('playwright-core').Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}
