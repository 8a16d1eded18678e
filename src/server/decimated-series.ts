/**
 * @file The training-loss curve as the live views keep it (the dashboard's server and the
 * playground's worker): bounded, neighbours averaged as it grows, sent at most every FLUSH_MS.
 */
import type { TrainSeries } from './protocol.js';

/** Progress and new loss points go out at most this often. */
export const FLUSH_MS = 250;
/** Points kept of the training-loss curve; past it, neighbours are averaged and the stride doubles. */
export const MAX_TRAIN_POINTS = 2000;
/** A loss curve of bounded length: each point is the mean of `stride` consecutive steps. */
export class DecimatedSeries {
  readonly steps: number[] = [];
  readonly values: number[] = [];
  stride = 1;
  private sum = 0;
  private count = 0;

  constructor(readonly maxPoints = MAX_TRAIN_POINTS) {}

  /** @returns 'append' if a point was added, 'reset' if the points were halved, null otherwise */
  add(step: number, value: number): 'append' | 'reset' | null {
    if (!Number.isFinite(value)) return null; // a skipped step: nothing to plot
    this.sum += value;
    this.count++;
    if (this.count < this.stride) return null;
    this.steps.push(step);
    this.values.push(this.sum / this.count);
    this.sum = 0;
    this.count = 0;
    if (this.steps.length <= this.maxPoints) return 'append';
    // an odd last point goes back into the running sum, so every point spans exactly `stride` steps
    if (this.steps.length % 2 === 1) {
      this.steps.pop();
      this.count = this.stride;
      this.sum = this.values.pop()! * this.stride;
    }
    const half = this.steps.length / 2;
    for (let i = 0; i < half; i++) {
      this.steps[i] = this.steps[2 * i + 1]!;
      this.values[i] = (this.values[2 * i]! + this.values[2 * i + 1]!) / 2;
    }
    this.steps.length = half;
    this.values.length = half;
    this.stride *= 2;
    return 'reset';
  }

  toJSON(): TrainSeries {
    return { steps: this.steps, loss: this.values, stride: this.stride };
  }
}
