/**
 * @file Training speed, one way for every display: steps per second over the last few seconds
 * of training. The terminal's progress and evaluation lines and the live page's "steps / s"
 * card show this same number (the page is handed it with each step), so they agree.
 */

/** How far back the rate looks, in milliseconds of training. */
export const RATE_WINDOW_MS = 5000;
/** Samples kept at most this often (a step can take microseconds); the newest always moves. */
const SAMPLE_MS = 50;

export class StepRate {
  /** (time ms, step) samples, oldest first, spanning about the window */
  private readonly samples: [number, number][] = [];

  constructor(private readonly now: () => number = () => performance.now(), private readonly windowMs = RATE_WINDOW_MS) {}

  /** `step` has just been reached. */
  mark(step: number): void {
    const t = this.now(), n = this.samples.length;
    // the newest sample is always the latest step and its time; the others stay SAMPLE_MS apart
    if (n >= 2 && t - this.samples[n - 2]![0] < SAMPLE_MS) this.samples[n - 1] = [t, step];
    else this.samples.push([t, step]);
    while (this.samples.length > 2 && t - this.samples[1]![0] >= this.windowMs) this.samples.shift();
  }

  /** Leaves `ms` of time that was not training (an evaluation, a checkpoint) out of the rate. */
  exclude(ms: number): void {
    for (const s of this.samples) s[0] += ms;
  }

  /** Steps per second over the window; 0 until two samples are apart. */
  perSec(): number {
    const n = this.samples.length;
    if (n < 2) return 0;
    const [t0, s0] = this.samples[0]!, [t1, s1] = this.samples[n - 1]!;
    return t1 > t0 ? ((s1 - s0) * 1000) / (t1 - t0) : 0;
  }
}
