/**
 * @file Tensor: a flat, row-major buffer with a shape and an optional gradient,
 * and the tape that records each op's backward pass for reverse-mode autodiff.
 *
 * Every op allocates its output with the dtype of its inputs, so the same model code
 * runs in float32 (training) and float64 (finite-difference gradient checks).
 */

export type Buf = Float32Array | Float64Array;
export type DType = 'f32' | 'f64';

/**
 * Work done in JavaScript on a step's buffers (not by a kernel) that a replay of the step must
 * redo (src/train/replay.ts), given the batch of the replayed step and its loss normaliser (the
 * one number a step depends on besides its batch: 0 for a forward pass).
 */
export type ReplayJs = (batch: Batch, normaliser: number) => void;

/**
 * A batch of padded sequences, time-major: every buffer is [T, B, ...]. Defined here, where a
 * replayed step's JavaScript pieces take the step's batch (ReplayJs); tasks make them
 * (tasks/batch.ts re-exports it).
 */
export interface Batch {
  readonly T: number;
  readonly B: number;
  /** input width X and output width Y */
  readonly X: number;
  readonly Y: number;
  /** x [T, B, X] */
  readonly input: Float32Array;
  /** y [T, B, Y] */
  readonly target: Float32Array;
  /** 1 where the output is scored, 0 elsewhere and on padding: [T, B] */
  readonly mask: Float32Array;
  /** the length of each sample [B], in the task's unit (words, items, bits …) */
  readonly lengths: readonly number[];
  /** repeats per sample [B] (1 for tasks without repeats) */
  readonly repeats: readonly number[];
  /**
   * for tasks with a best possible predictor (dynamic-ngrams): its cost in bits, summed over the
   * batch's samples, to set beside the model's (MetricsAccumulator reports it per sequence)
   */
  readonly optimalBits?: number;
}

let jsRecorder: ((fn: ReplayJs, scratch: boolean) => void) | null = null;

/** Sets (or, with null, ends) where replayJs sends what it is given; src/train/replay.ts only. */
export function setJsRecorder(r: ((fn: ReplayJs, scratch: boolean) => void) | null): void {
  jsRecorder = r;
}

/**
 * While a step is being recorded for replay, records `fn`: JavaScript work on the step's buffers
 * that the caller has just done (with this step's batch). Outside a recording it does nothing.
 * @param scratch true when `fn` writes only a kernel call's scratch block (kernels/memory.ts
 * `table`): a replay then skips it when the scratch still holds what it wrote
 */
export function replayJs(fn: ReplayJs, scratch = false): void {
  if (jsRecorder !== null) jsRecorder(fn, scratch);
}

/** A zeroed buffer of `n` elements of the given dtype (from the active BufferPool, if any). */
export function alloc(dtype: DType, n: number): Buf {
  if (activePool !== null) return activePool.take(dtype, n, true);
  return dtype === 'f64' ? new Float64Array(n) : new Float32Array(n);
}

/**
 * Like alloc, but a pooled buffer keeps whatever the last step left in it: only for an output
 * the caller then overwrites entirely (it saves zeroing a large buffer every step).
 */
export function allocOverwritten(dtype: DType, n: number): Buf {
  if (activePool !== null) return activePool.take(dtype, n, false);
  return dtype === 'f64' ? new Float64Array(n) : new Float32Array(n);
}

/** Where a BufferPool gets its float32 buffers (the kernel heap, see src/kernels/heap.ts). */
export interface F32Allocator {
  /** A zeroed buffer of n floats, or null to fall back to an ordinary Float32Array. */
  alloc(n: number): Float32Array | null;
  /** Takes back a buffer this pool no longer hands out (called for every dropped buffer). */
  release(b: Float32Array): void;
  /** Zeroes one of its buffers (when faster than TypedArray.fill). */
  zero(b: Float32Array): void;
}

/**
 * One size's buffers in the order a step takes them: the k-th buffer of this size a step asks
 * for is always bufs[k] (stable assignment, so a recorded step's buffers are the same in every
 * step of its shape: src/train/replay.ts), and lastUse[k] is the last step that took it.
 */
interface SizeList {
  readonly bufs: Buf[];
  readonly lastUse: number[];
  /**
   * when each buffer was made (the pool's count of buffers made till then): buffers are given
   * back from the end of the list and made at its end, so these never decrease along it, and
   * the last of a prefix tells whether any of the prefix was replaced since (BufferPool.holds)
   */
  readonly made: number[];
  /** how many this step has taken */
  next: number;
}

/** How many buffers of each size a step took (BufferPool.usage); opaque outside the pool. */
export type PoolUsage = readonly object[];

/** A step took the first n buffers of `list`, the last of them made at `made`. */
interface Used {
  readonly list: SizeList;
  readonly n: number;
  readonly made: number;
}

/**
 * Reuses the buffers of training steps. Every buffer a step takes goes back to the pool when
 * the next step begins, and a step takes the pool's buffers of the size it asks for (zeroed) in
 * a fixed order before making new ones: once a step of every shape has run, steps make none (the
 * steady state), and the pool holds, per size, as many as the step that took most of them, not one set per sequence
 * length. Buffers idle for `keepSteps` steps go back to the allocator, so memory follows what
 * recent steps needed: a length that comes back after a longer absence makes its extra buffers
 * again. The default, 1,024 steps, outlasts the gaps between a step shape's returns: a task's
 * lengths are drawn from a few, but in length groups a shape is also its rows schedule (one
 * of ~25 on dnc-repeat-copy, some seen once in a few hundred steps; with 64, steps still made
 * 1–3 buffers each on average after 8,000 steps, and their shapes were recorded again). Only for work whose buffers do not outlive it: a buffer is handed out again next step.
 */
export class BufferPool {
  private readonly lists32 = new Map<number, SizeList>();
  private readonly lists64 = new Map<number, SizeList>();
  /** the lists this step has taken from: the first `nTouched` entries (the array keeps its length) */
  private readonly touched: SizeList[] = [];
  private nTouched = 0;
  private steps = 0;
  /** Buffers made (not reused) so far: constant once every shape of step has run (the steady state). */
  fresh = 0;
  /** Buffers given back to the allocator so far. */
  released = 0;
  /** Called once by clear(), before the buffers go: what was recorded on them lets go of its own memory. */
  onClear: (() => void) | null = null;

  /**
   * @param f32 where float32 buffers come from (default: ordinary arrays)
   * @param keepSteps idle buffers unused for this many steps are given back
   */
  constructor(private readonly f32: F32Allocator | null = null, private readonly keepSteps = 1024) {}

  /** Starts a step: every buffer of the last one is idle again. */
  begin(): void {
    this.advance();
    this.trim();
  }

  /** A new step: the last one's buffers are marked used and idle again. */
  private advance(): void {
    this.steps++;
    for (let i = 0; i < this.nTouched; i++) {
      const l = this.touched[i]!;
      // a step takes a prefix of each list, so lastUse never increases along it
      for (let k = 0; k < l.next; k++) l.lastUse[k] = this.steps;
      l.next = 0;
    }
    this.nTouched = 0;
  }

  /** @param zero false: the caller overwrites every element (see allocOverwritten) */
  take(dtype: DType, n: number, zero = true): Buf {
    const lists = dtype === 'f64' ? this.lists64 : this.lists32;
    let l = lists.get(n);
    if (l === undefined) lists.set(n, (l = { bufs: [], lastUse: [], made: [], next: 0 }));
    if (l.next === 0) this.touched[this.nTouched++] = l;
    let b: Buf;
    if (l.next < l.bufs.length) {
      b = l.bufs[l.next]!;
      if (zero) {
        if (this.f32 !== null && b instanceof Float32Array) this.f32.zero(b);
        else b.fill(0);
      }
    } else {
      this.fresh++;
      b = dtype === 'f64' ? new Float64Array(n) : (this.f32?.alloc(n) ?? new Float32Array(n));
      l.bufs.push(b);
      l.lastUse.push(this.steps);
      l.made.push(this.fresh);
    }
    l.next++;
    return b;
  }

  /** Gives every buffer back to the allocator; the pool starts empty again. */
  clear(): void {
    const hook = this.onClear;
    this.onClear = null;
    hook?.();
    for (const lists of [this.lists32, this.lists64]) {
      for (const l of lists.values()) {
        for (const b of l.bufs) this.dropOne(b);
        l.bufs.length = l.lastUse.length = l.made.length = 0; // (what holds() reads of a usage)
      }
      lists.clear();
    }
    this.touched.length = this.nTouched = 0;
  }

  /** Bytes held, idle or in use. */
  get bytes(): number {
    let n = 0;
    for (const lists of [this.lists32, this.lists64]) for (const l of lists.values()) for (const b of l.bufs) n += b.byteLength;
    return n;
  }

  /**
   * What this step has taken so far: how many buffers of each size. A step replayed without
   * taking them (src/train/replay.ts) passes it to `replayed`, so those buffers count as used.
   */
  usage(): PoolUsage {
    const u: Used[] = [];
    for (let i = 0; i < this.nTouched; i++) {
      const list = this.touched[i]!, n = list.next;
      u.push({ list, n, made: list.made[n - 1]! });
    }
    return u;
  }

  /**
   * True while the pool still holds every buffer `usage` counts, where it was then: none of them
   * has been given back (a step recorded on them is still good, whatever else was given back).
   */
  holds(usage: PoolUsage): boolean {
    const u = usage as readonly Used[];
    for (let i = 0; i < u.length; i++) {
      const { list, n, made } = u[i]!;
      if (list.bufs.length < n || list.made[n - 1] !== made) return false;
    }
    return true;
  }

  /**
   * A step that used the buffers `usage` says, without taking them (a replay): it counts as a
   * step of the pool, and those buffers as used in it, as if it had begun and taken them.
   */
  replayed(usage: PoolUsage): void {
    this.advance();
    for (const { list, n } of usage as readonly Used[]) {
      for (let k = 0; k < n && k < list.bufs.length; k++) list.lastUse[k] = this.steps;
    }
    this.trim();
  }

  /** Every buffer the pool holds, idle or in use. */
  *buffers(): IterableIterator<Buf> {
    for (const lists of [this.lists32, this.lists64]) for (const l of lists.values()) yield* l.bufs;
  }

  /** Gives back the buffers no step has taken for the last keepSteps steps (the tail of each list). */
  private trim(): void {
    const last = this.steps - this.keepSteps; // idle since this step or earlier: given back
    this.trimLists(this.lists32, last);
    this.trimLists(this.lists64, last);
  }

  private trimLists(lists: Map<number, SizeList>, last: number): void {
    for (const l of lists.values()) {
      let n = l.bufs.length;
      if (n === 0 || l.lastUse[n - 1]! > last) continue;
      const size = l.bufs[0]!.length;
      while (n > 0 && l.lastUse[n - 1]! <= last) this.dropOne(l.bufs[--n]!);
      l.bufs.length = l.lastUse.length = l.made.length = n;
      if (n === 0) lists.delete(size);
    }
  }

  private dropOne(b: Buf): void {
    this.released++;
    if (this.f32 !== null && b instanceof Float32Array) this.f32.release(b);
  }
}

let activePool: BufferPool | null = null;

/** Runs `fn` as one step of `pool`: every `alloc` in it is served by the pool (see BufferPool). */
export function withPool<T>(pool: BufferPool, fn: () => T): T {
  const prev = activePool;
  pool.begin();
  activePool = pool;
  try {
    return fn();
  } finally {
    activePool = prev;
  }
}

export function dtypeOf(b: Buf): DType {
  return b instanceof Float64Array ? 'f64' : 'f32';
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export class Tensor {
  /** dL/d(this), allocated on first use by a backward pass. */
  grad: Buf | null = null;

  constructor(
    readonly data: Buf,
    readonly shape: readonly number[],
    /** True for parameters and for every op output that depends on one while a tape records. */
    readonly requiresGrad = false,
  ) {
    if (sizeOf(shape) !== data.length) {
      throw new Error(`Tensor: shape [${shape.join(', ')}] needs ${sizeOf(shape)} elements, buffer has ${data.length}`);
    }
  }

  get dtype(): DType {
    return dtypeOf(this.data);
  }

  get size(): number {
    return this.data.length;
  }

  /** The gradient buffer, zero-filled on first call. */
  g(): Buf {
    if (this.grad === null) this.grad = alloc(this.dtype, this.data.length);
    return this.grad;
  }

  static zeros(shape: readonly number[], dtype: DType = 'f32', requiresGrad = false): Tensor {
    return new Tensor(alloc(dtype, sizeOf(shape)), shape, requiresGrad);
  }

  static from(values: ArrayLike<number>, shape: readonly number[], dtype: DType = 'f32', requiresGrad = false): Tensor {
    const data = alloc(dtype, values.length);
    data.set(values);
    return new Tensor(data, shape, requiresGrad);
  }

  static full(shape: readonly number[], value: number, dtype: DType = 'f32'): Tensor {
    const t = Tensor.zeros(shape, dtype);
    const fill = (): void => void t.data.fill(value);
    fill();
    replayJs(fill);
    return t;
  }
}

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

/** The recording tape if any input requires a gradient, else null (the op then records nothing). */
export function tapeFor(...inputs: Tensor[]): Tape | null {
  if (active === null) return null;
  for (const t of inputs) if (t.requiresGrad) return active;
  return null;
}

/** Throws a shape error naming the op and both shapes. */
export function expectShape(op: string, what: string, t: Tensor, shape: readonly number[]): void {
  const ok = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
  if (!ok) throw new Error(`${op}: ${what} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
}
