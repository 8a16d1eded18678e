import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { BIN, ROOT, tempDir } from './helpers.js';

/** Whether Debian's redis-server (or any on PATH) is installed: .ci/run installs it. */
export const HAVE_REDIS = spawnSync('redis-server', ['--version']).status === 0;

export async function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A real redis-server on a free port, with a password and an append-only file (it keeps its data over a restart). */
export class TestRedis {
  private proc: ChildProcess | null = null;
  readonly dir = tempDir('engram-redis-');
  constructor(readonly port: number, readonly password: string) {}

  get url(): string {
    return `redis://:${this.password}@127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--requirepass', this.password,
      '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--dir', this.dir], { stdio: 'ignore' });
    await until('redis-server to answer', () => spawnSync('redis-cli', ['-p', String(this.port), '-a', this.password, '--no-auth-warning', 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG', 10_000);
  }

  /** Stops it as a restart would (SIGTERM: it flushes its append-only file). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (p === null || p.exitCode !== null) return;
    await new Promise<void>((res) => {
      p.once('exit', () => res());
      p.kill('SIGTERM');
    });
    this.proc = null;
  }
}

/** An `engram worker` process; its output is kept. */
export class TestWorker {
  readonly proc: ChildProcess;
  out = '';
  constructor(url: string, parallel = 1) {
    this.proc = spawn(process.execPath, [BIN, 'worker', '--queue', url, '--parallel', String(parallel), '--work-dir', tempDir('engram-work-')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.out += d.toString()));
  }

  kill9(): void {
    this.proc.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    await new Promise<void>((res) => {
      this.proc.once('exit', () => res());
      this.proc.kill('SIGTERM');
    });
  }
}

export interface Spawned {
  readonly proc: ChildProcess;
  readonly done: Promise<{ status: number | null; stdout: string; stderr: string }>;
}

/** `engram ARGS` as a process of its own, not waited for. */
export function spawnEngram(args: string[]): Spawned {
  return spawnEngramEnv(args, {});
}

/** spawnEngram with more environment variables. */
export function spawnEngramEnv(args: string[], env: Record<string, string>): Spawned {
  const proc = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '', stderr = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ status: number | null; stdout: string; stderr: string }>((res) => proc.on('close', (status) => res({ status, stdout, stderr })));
  return { proc, done };
}

/** The number of evaluations in a run directory's metrics.jsonl so far. */
export function evaluations(runDir: string): number {
  const p = join(runDir, 'metrics.jsonl');
  return existsSync(p) ? readFileSync(p, 'utf8').split('\n').filter((l) => l !== '').length : 0;
}
