/**
 * @file One way to define an op. A mechanism gives its forward and backward passes over flat
 * buffers (llm.c style: inputs, outputs and saved buffers in, nothing else), plus, optionally,
 * a kernel that computes the same on float32; `op` does the rest, the same way for every op:
 *
 * - runs the kernel when it takes the call (every input float32, `kernel.accepts()`, and the
 *   kernel reports that it ran), else the forward pass given here, its twin;
 * - takes its context from its inputs (context.ts: the one an input carries, plain when none
 *   does) and hands it to every pass;
 * - makes the outputs and the saved buffers (from the context's BufferPool, if any);
 * - records the backward pass on the context's tape when an input needs a gradient: it runs the
 *   kernel's backward pass when the forward pass ran on the kernel, else the backward pass given here;
 * - registers the twin's passes with the context's recorder (OpContext.replayJs), so a recorded
 *   step replays them (a kernel's calls are recorded by the kernel heap itself).
 *
 * The gradients it hands to a backward pass are the inputs' own buffers, zeroed on first use,
 * and a backward pass adds into them; null for an input whose gradient is not wanted (it needs
 * none, or the op stops it: `OpDef.grads`).
 */
import { dtypeOf, sizeOf, Tensor, type Buf, type DType } from './tensor.js';
import { OpContext } from './context.js';
import type { Tape } from './tape.js';

type F = Float32Array;

/** A kernel serving an op on float32 buffers, on its context's heap (OpContext.heap); each pass returns false when the context has none. */
export interface OpKernel<S> {
  /** Checked before any buffer is made: false runs the twin (a shape it cannot take, a context without a kernel heap …). */
  accepts?(ctx: OpContext): boolean;
  /** Writes every output in full (and the saved buffers it uses). */
  forward(x: readonly F[], y: readonly F[], saved: S, ctx: OpContext): boolean;
  /** Adds each input's gradient into gx[i] (null: not wanted); an absent output gradient (null) reads as zeros. */
  backward(x: readonly F[], y: readonly F[], saved: S, gy: readonly (F | null)[], gx: readonly (F | null)[], fresh: boolean, ctx: OpContext): boolean;
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
   * Makes the buffers the backward pass reads besides inputs and outputs (ctx.allocOverwritten,
   * so the step's pool's), once per call. @param onKernel true when the kernel will run the call
   */
  save?(dtype: DType, onKernel: boolean, ctx: OpContext): S;
  /** The twin: writes every element of every output (and of the saved buffers it uses). */
  forward?(x: readonly Buf[], y: readonly Buf[], saved: S, ctx: OpContext): void;
  /** The twin's backward: adds into gx[i] (null: not wanted); gy[k] null where output k has no gradient. */
  backward?(x: readonly Buf[], y: readonly Buf[], saved: S, gy: readonly (Buf | null)[], gx: readonly (Buf | null)[], ctx: OpContext): void;
  /** Instead of forward and backward where the kernel does not run: the op built from other ops. */
  composite?(): Tensor[];
  readonly kernel?: OpKernel<S>;
}

/** Runs the op `def` defines (see the file comment) and returns its outputs. */
export function op<S = undefined>(def: OpDef<S>): Tensor[] {
  // plain loops, no closures unless a replay records: this runs for every op of every time step
  const { inputs, kernel, grads } = def;
  const nIn = inputs.length;
  const ctx = contextOf(inputs);
  const dtype = dtypeOf(inputs[0]!.data);
  let f32 = kernel !== undefined;
  for (let i = 0; f32 && i < nIn; i++) f32 = inputs[i]!.data instanceof Float32Array;
  if (f32 && kernel!.accepts !== undefined) f32 = kernel!.accepts(ctx);
  if (!f32 && def.forward === undefined && def.composite !== undefined) return def.composite();
  const saved = def.save ? def.save(dtype, f32, ctx) : (undefined as S);
  const shapes = def.outputs, nOut = shapes.length;
  const y: Buf[] = new Array<Buf>(nOut);
  for (let k = 0; k < nOut; k++) y[k] = ctx.allocOverwritten(dtype, sizeOf(shapes[k]!));
  const x: Buf[] = new Array<Buf>(nIn);
  for (let i = 0; i < nIn; i++) x[i] = inputs[i]!.data;
  let onKernel = f32 && kernel!.forward(x as F[], y as F[], saved, ctx);
  if (!onKernel) {
    if (def.composite !== undefined && def.forward === undefined) return def.composite();
    const forward = def.forward!;
    forward(x, y, saved, ctx);
    // a pass's arguments are fixed here, so the same call runs again in a replay
    if (ctx.recorder !== null) ctx.replayJs(() => forward(x, y, saved, ctx));
  }
  const tape = tapeOf(ctx, inputs, grads);
  const out: Tensor[] = new Array<Tensor>(nOut);
  for (let k = 0; k < nOut; k++) out[k] = new Tensor(y[k]!, shapes[k]!, tape !== null, ctx);
  if (tape === null) return out;
  tape.push(() => {
    const gy: (Buf | null)[] = new Array<Buf | null>(nOut);
    let any = false;
    for (let k = 0; k < nOut; k++) any = (gy[k] = out[k]!.grad) !== null || any;
    if (!any) return;
    if (onKernel) {
      const first = inputs[0]!;
      const fresh = kernel!.writesFreshGradient === true && first.requiresGrad && grads?.[0] !== false && first.grad === null;
      if (fresh) first.grad = ctx.allocOverwritten(dtype, first.size);
      const gx = gradients(inputs, grads);
      let ran: boolean;
      try {
        ran = kernel!.backward(x as F[], y as F[], saved, gy as (F | null)[], gx as (F | null)[], fresh, ctx);
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
    const gx = gradients(inputs, grads);
    backward(x, y, saved, gy, gx, ctx);
    if (ctx.recorder !== null) ctx.replayJs(() => backward(x, y, saved, gy, gx, ctx));
  });
  return out;
}

/**
 * The context an op on `inputs` runs in: the one its inputs carry (parameters and other tensors
 * made outside a step carry the plain one, which gives way to any other).
 * @throws when two inputs carry different contexts (tensors of two steps)
 */
export function contextOf(inputs: readonly Tensor[]): OpContext {
  const plain = OpContext.plain;
  let ctx = plain;
  for (let i = 0; i < inputs.length; i++) {
    const c = inputs[i]!.ctx;
    if (c === ctx || c === plain) continue;
    if (ctx !== plain) throw new Error('op: its inputs come from two different step contexts (tensors of one step used in another)');
    ctx = c;
  }
  return ctx;
}

/** The context's tape when an input whose gradient the op gives needs one, else null. */
function tapeOf(ctx: OpContext, inputs: readonly Tensor[], grads: readonly boolean[] | undefined): Tape | null {
  const tape = ctx.tape;
  if (tape === null) return null;
  for (let i = 0; i < inputs.length; i++) if (inputs[i]!.requiresGrad && grads?.[i] !== false) return tape;
  return null;
}

/** Each input's gradient buffer (made, zeroed, on first use), or null where none is wanted. */
function gradients(inputs: readonly Tensor[], grads: readonly boolean[] | undefined): (Buf | null)[] {
  const gx: (Buf | null)[] = new Array<Buf | null>(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i]!;
    gx[i] = t.requiresGrad && grads?.[i] !== false ? t.g() : null;
  }
  return gx;
}

/** `op` for an op with one output. */
export function op1<S = undefined>(def: OpDef<S>): Tensor {
  return op(def)[0]!;
}

/** A zeroed buffer of n elements like `b` (from the context's pool): scratch for a twin's pass. */
export function scratchLike(ctx: OpContext, b: Buf, n: number): Buf {
  return ctx.alloc(dtypeOf(b), n);
}
