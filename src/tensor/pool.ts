/**
 * @file The BufferPool that reuses a training step's buffers from one step to the next (stable
 * assignment: what step replay relies on, src/train/replay.ts). A step's ops take from the pool
 * of their context (OpContext.alloc, context.ts).
 */
import type { Buf, DType } from './tensor.js';

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

  /** @param zero false: the caller overwrites every element (see OpContext.allocOverwritten) */
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
