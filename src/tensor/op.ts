/**
 * @file One way to define an op. A mechanism gives its forward and backward passes over flat
 * buffers (llm.c style: inputs, outputs and saved buffers in, nothing else), plus, optionally,
 * a kernel that computes the same on float32; `op` does the rest, the same way for every op:
 *
 * - runs the kernel when it takes the call (every input float32, `kernel.accepts()`, and the
 *   kernel reports that it ran), else the forward pass given here, its twin;
 * - makes the outputs and the saved buffers (from the step's BufferPool when one is active);
 * - records the backward pass on the tape when an input needs a gradient: it runs the kernel's
 *   backward pass when the forward pass ran on the kernel, else the backward pass given here;
 * - registers the twin's passes with `replayJs`, so a recorded step replays them (a kernel's
 *   calls are recorded by the kernel heap itself).
 *
 * The gradients it hands to a backward pass are the inputs' own buffers, zeroed on first use,
 * and a backward pass adds into them; null for an input whose gradient is not wanted (it needs
 * none, or the op stops it: `OpDef.grads`).
 */
import { dtypeOf, replayJs, sizeOf, Tensor, type Buf, type DType } from './tensor.js';
import { alloc, allocOverwritten } from './pool.js';
import { tapeFor } from './tape.js';

type F = Float32Array;

/** A kernel serving an op on float32 buffers; each pass returns false when the kernels are off. */
export interface OpKernel<S> {
  /** Checked before any buffer is made: false runs the twin (a shape it cannot take, kernels off …). */
  accepts?(): boolean;
  /** Writes every output in full (and the saved buffers it uses). */
  forward(x: readonly F[], y: readonly F[], saved: S): boolean;
  /** Adds each input's gradient into gx[i] (null: not wanted); an absent output gradient (null) reads as zeros. */
  backward(x: readonly F[], y: readonly F[], saved: S, gy: readonly (F | null)[], gx: readonly (F | null)[], fresh: boolean): boolean;
  /**
   * The backward pass can write, rather than add to, the gradient of input 0 when the op is
   * the first to give it one (it is then made without zeroing, and `fresh` is true): a memory's
   * gradient usually starts at the write that made the next memory.
   */
  readonly writesFreshGradient?: boolean;
}

export interface OpDef<S> {
  /** the tensors the op reads, in the order its passes take their buffers */
  readonly inputs: readonly Tensor[];
  /** the shape of each output */
  readonly outputs: readonly (readonly number[])[];
  /** per input, false where the op stops its gradient (default: every input gets one) */
  readonly grads?: readonly boolean[];
  /**
   * Makes the buffers the backward pass reads besides inputs and outputs (allocOverwritten, so
   * the pool's), once per call. @param onKernel true when the kernel will run the call
   */
  save?(dtype: DType, onKernel: boolean): S;
  /** The twin: writes every element of every output (and of the saved buffers it uses). */
  forward?(x: readonly Buf[], y: readonly Buf[], saved: S): void;
  /** The twin's backward: adds into gx[i] (null: not wanted); gy[k] null where output k has no gradient. */
  backward?(x: readonly Buf[], y: readonly Buf[], saved: S, gy: readonly (Buf | null)[], gx: readonly (Buf | null)[]): void;
  /** Instead of forward and backward where the kernel does not run: the op built from other ops. */
  composite?(): Tensor[];
  readonly kernel?: OpKernel<S>;
}

/** Runs the op `def` defines (see the file comment) and returns its outputs. */
export function op<S = undefined>(def: OpDef<S>): Tensor[] {
  const { inputs, kernel } = def;
  const dtype = dtypeOf(inputs[0]!.data);
  const f32 = kernel !== undefined && inputs.every((t) => t.data instanceof Float32Array) && (kernel.accepts?.() ?? true);
  if (!f32 && def.forward === undefined && def.composite !== undefined) return def.composite();
  const saved = def.save ? def.save(dtype, f32) : (undefined as S);
  const y = def.outputs.map((shape) => allocOverwritten(dtype, sizeOf(shape)));
  const x = inputs.map((t) => t.data);
  let onKernel = f32 && kernel!.forward(x as F[], y as F[], saved);
  if (!onKernel) {
    if (def.composite !== undefined && def.forward === undefined) return def.composite();
    const forward = def.forward!;
    // a pass's arguments are fixed here, so the same closure runs again in a replay
    const run = (): void => forward(x, y, saved);
    run();
    replayJs(run);
  }
  const grads = def.grads;
  const tape = tapeFor(...(grads === undefined ? inputs : inputs.filter((_, i) => grads[i] !== false)));
  const out = def.outputs.map((shape, k) => new Tensor(y[k]!, shape, tape !== null));
  if (tape === null) return out;
  tape.push(() => {
    const gy = out.map((t) => t.grad);
    if (gy.every((g) => g === null)) return;
    const wanted = (t: Tensor, i: number): boolean => t.requiresGrad && grads?.[i] !== false;
    if (onKernel) {
      const first = inputs[0]!;
      const fresh = kernel!.writesFreshGradient === true && wanted(first, 0) && first.grad === null;
      if (fresh) first.grad = allocOverwritten(dtype, first.size);
      const gx = inputs.map((t, i) => (wanted(t, i) ? t.g() : null));
      let ran: boolean;
      try {
        ran = kernel!.backward(x as F[], y as F[], saved, gy as (F | null)[], gx as (F | null)[], fresh);
      } catch (err) {
        if (fresh) first.grad = null; // never written: no gradient rather than garbage
        throw err;
      }
      if (ran) return;
      if (fresh) first.grad!.fill(0); // the twin adds into it
      onKernel = false;
    }
    const backward = def.backward;
    if (backward === undefined) throw new Error('op: a composite op ran its forward pass on the kernel, so its backward pass needs the kernel too');
    const gx = inputs.map((t, i) => (wanted(t, i) ? t.g() : null));
    const run = (): void => backward(x, y, saved, gy, gx);
    run();
    replayJs(run);
  });
  return out;
}

/** `op` for an op with one output. */
export function op1<S = undefined>(def: OpDef<S>): Tensor {
  return op(def)[0]!;
}

/** A zeroed buffer of n elements like `b` (from the active pool): scratch for a twin's pass. */
export function scratchLike(b: Buf, n: number): Buf {
  return alloc(dtypeOf(b), n);
}
