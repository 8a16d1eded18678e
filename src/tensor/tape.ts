/**
 * @file The tape: each op records its backward pass while a tape is active (withTape), and
 * `Tape.backward` runs them in reverse; work an op defers to the end of the backward pass under
 * way (atBackwardEnd) runs after the last of them.
 */
import { replayJs, type Tensor } from './tensor.js';

/** The work ops deferred to the end of the backward pass under way (null: none is). */
let backwardEnd: (() => void)[] | null = null;

/**
 * The backward pass under way, as a token for the work an op defers to its end (a key for what
 * the op gathers meanwhile), or null when none is.
 */
export function backwardScope(): object | null {
  return backwardEnd;
}

/**
 * Runs `fn` once every step of the backward pass under way has run (an op's backward step may
 * leave part of its work there, e.g. a weight gradient summed over all time steps at once: see
 * nn/linear.ts). @returns false when no backward pass is under way (do the work now)
 */
export function atBackwardEnd(fn: () => void): boolean {
  if (backwardEnd === null) return false;
  backwardEnd.push(fn);
  return true;
}

/** Records backward closures in op order; `backward` runs them in reverse. */
export class Tape {
  private readonly steps: (() => void)[] = [];

  push(backward: () => void): void {
    this.steps.push(backward);
  }

  get length(): number {
    return this.steps.length;
  }

  /** Seeds d(loss)/d(loss) = 1 and propagates to every tensor that requires a gradient. */
  backward(loss: Tensor): void {
    if (loss.size !== 1) throw new Error(`backward: loss must be a scalar, got shape [${loss.shape.join(', ')}]`);
    const g = loss.g();
    const seed = (): void => void (g[0] = 1);
    seed();
    replayJs(seed);
    const prev = backwardEnd, end: (() => void)[] = [];
    backwardEnd = end;
    try {
      for (let i = this.steps.length - 1; i >= 0; i--) this.steps[i]!();
      backwardEnd = prev;
      for (const fn of end) fn();
    } finally {
      // (after an error the gradients are incomplete anyway: the error goes on up)
      backwardEnd = prev;
      this.steps.length = 0;
    }
  }
}

let active: Tape | null = null;

/** Runs `fn` with `tape` recording every op whose inputs require gradients. */
export function withTape<T>(tape: Tape, fn: () => T): T {
  const prev = active;
  active = tape;
  try {
    return fn();
  } finally {
    active = prev;
  }
}

/** The tape recording now, if any (tapeFor: only when an input needs a gradient). */
export function activeTape(): Tape | null {
  return active;
}

/** The recording tape if any input requires a gradient, else null (the op then records nothing). */
export function tapeFor(...inputs: Tensor[]): Tape | null {
  if (active === null) return null;
  for (const t of inputs) if (t.requiresGrad) return active;
  return null;
}
