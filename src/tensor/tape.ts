/**
 * @file The tape: each op records its backward pass on the tape of its inputs' context
 * (OpContext.tape), and `Tape.backward` runs them in reverse; work an op defers to the end of
 * the backward pass under way (atBackwardEnd) runs after the last of them.
 */
import { OpContext } from './context.js';
import type { Tensor } from './tensor.js';

/**
 * Products gyᵀ·x added into one buffer (a weight's gradient), left for the end of a backward
 * pass (nn/linear.ts deferWeightGrad): per product, the kernel-heap offsets of its x and gy and
 * its rows, in the order they came.
 */
export interface DeferredProducts {
  readonly I: number;
  readonly O: number;
  readonly items: number[];
}

/** A backward pass under way: the work its ops leave for its end, and what they gather for it meanwhile. */
export class BackwardPass {
  readonly end: (() => void)[] = [];
  /** the weight-gradient products deferred to the end, by the offset of the gradient they add into */
  readonly products = new Map<number, DeferredProducts>();
}

/** Records backward closures in op order; `backward` runs them in reverse. */
export class Tape {
  private readonly steps: (() => void)[] = [];
  /** The backward pass under way (null: none is). */
  private pass: BackwardPass | null = null;

  /**
   * @param defers false: ops do at once the work they would leave for the end of a backward pass
   * (backwardPass() is then null and atBackwardEnd false); the results are the same bits (for
   * tests that compare the two)
   */
  constructor(readonly defers = true) {}

  push(backward: () => void): void {
    this.steps.push(backward);
  }

  get length(): number {
    return this.steps.length;
  }

  /** The backward pass under way, where an op may leave work for its end; null when none is (or the tape defers nothing). */
  backwardPass(): BackwardPass | null {
    return this.defers ? this.pass : null;
  }

  /**
   * Runs `fn` once every step of the backward pass under way has run (an op's backward step may
   * leave part of its work there, e.g. a weight gradient summed over all time steps at once: see
   * nn/linear.ts). @returns false when no backward pass is under way, or the tape defers nothing (do the work now)
   */
  atBackwardEnd(fn: () => void): boolean {
    const pass = this.backwardPass();
    if (pass === null) return false;
    pass.end.push(fn);
    return true;
  }

  /**
   * Seeds d(loss)/d(loss) = 1 and propagates to every tensor that requires a gradient.
   * The seed is written in the loss's context (a recorded step's replay writes it again).
   */
  backward(loss: Tensor): void {
    if (loss.size !== 1) throw new Error(`backward: loss must be a scalar, got shape [${loss.shape.join(', ')}]`);
    const g = loss.g();
    const seed = (): void => void (g[0] = 1);
    seed();
    loss.ctx.replayJs(seed);
    const prev = this.pass, pass = new BackwardPass();
    this.pass = pass;
    try {
      for (let i = this.steps.length - 1; i >= 0; i--) this.steps[i]!();
      this.pass = prev;
      for (const fn of pass.end) fn();
    } finally {
      // (after an error the gradients are incomplete anyway: the error goes on up)
      this.pass = prev;
      this.steps.length = 0;
    }
  }
}

/**
 * Runs `fn` with the leaves `inputs` (tensors made outside a step, e.g. a test's parameters) in a
 * new context whose tape is `tape`, so the ops on them record their backward passes there; their
 * contexts are given back after. `fn` is given that context, for what it makes from nothing (a
 * model's forward pass: MemoryModel.forward). For gradient checks and tests.
 */
export function onTape<T>(tape: Tape, inputs: readonly Tensor[], fn: (ctx: OpContext) => T): T {
  const ctx = new OpContext(null, tape, null);
  const prev = inputs.map((t) => t.ctx);
  for (const t of inputs) t.ctx = ctx;
  try {
    return fn(ctx);
  } finally {
    inputs.forEach((t, i) => (t.ctx = prev[i]!));
  }
}
