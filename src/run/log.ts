/**
 * @file What a training run prints: lines to stdout and, with times, to `train.log`; on a
 * terminal a progress bar redrawn in place, elsewhere plain lines only.
 */
import { appendFileSync } from 'node:fs';

export class RunLog {
  private barShown = false;
  private lastDraw = 0;
  readonly tty: boolean;

  constructor(private readonly logFile: string | null, tty = process.stdout.isTTY === true) {
    this.tty = tty;
  }

  line(text: string): void {
    this.clearBar();
    process.stdout.write(`${text}\n`);
    if (this.logFile) {
      try {
        appendFileSync(this.logFile, `[${new Date().toISOString()}] ${text}\n`);
      } catch {
        // the log is a convenience: a failure to append never stops training
      }
    }
  }

  /** True when progress() would draw now: a caller builds the bar's text only then (not each training step). */
  progressDue(step: number, total: number): boolean {
    return this.tty && (step === total || Date.now() - this.lastDraw >= 100);
  }

  /** Redraws the progress bar (terminal only, at most 10 times a second). */
  progress(step: number, total: number, text: string): void {
    if (!this.progressDue(step, total)) return;
    this.lastDraw = Date.now();
    const width = 24;
    const filled = Math.round((width * step) / total);
    process.stdout.write(`\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${step}/${total} ${text}`);
    this.barShown = true;
  }

  clearBar(): void {
    if (this.barShown) {
      process.stdout.write('\r\x1b[K');
      this.barShown = false;
    }
  }
}

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  const s = Math.round(sec);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}
