/**
 * @file Shared by the tests: closeness of buffers, gradient-check results, and a gradient taken on a tape.
 */
import assert from 'node:assert/strict';
import { gradcheck, type GradcheckOptions } from './gradcheck.js';
import { weightedSum } from './ops.js';
import { type Tensor } from './tensor.js';
import type { OpContext } from './context.js';
import { onTape, Tape } from './tape.js';

/** Fails with the first element where |a − e| > atol + rtol·|e| (or either is not finite). */
export function assertAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-6, rtol = 1e-5, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      assert.fail(`${what}: element ${i} is ${a}, expected ${e} (atol ${atol}, rtol ${rtol})`);
    }
  }
}

/** Runs `gradcheck` and fails with the worst element when any gradient disagrees. */
export function assertGradcheck(f: (ctx: OpContext) => Tensor, inputs: readonly Tensor[], opts: GradcheckOptions = {}): void {
  const r = gradcheck(f, inputs, opts);
  assert.ok(r.checked > 0, 'gradcheck checked no element');
  assert.ok(r.ok, `gradient mismatch (max abs error ${r.maxAbsErr}): ${r.worst}`);
}

export function assertFinite(values: ArrayLike<number>, what = 'values'): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) assert.fail(`${what}: element ${i} is ${values[i]}`);
  }
}

/** Runs `f` on a tape and returns d(Σ c·f(x))/dx. */
export function gradOf(f: (x: Tensor) => Tensor, x: Tensor, c: ArrayLike<number>): Float64Array {
  x.grad = null;
  const tape = new Tape();
  const loss = onTape(tape, [x], () => weightedSum(f(x), c));
  tape.backward(loss);
  return Float64Array.from(x.grad ?? new Float64Array(x.size));
}
