/**
 * @file A recorded training step (src/train/replay.ts): the kernel calls and JavaScript pieces of
 * one step, in order, and the scratch blocks the calls use, shared by a pool's recordings.
 */
import type { KernelHeap, KernelRecorder } from '../kernels/heap.js';
import type { Batch } from '../tasks/batch.js';
import type { ReplayJs } from '../tensor/tensor.js';

type KernelFn = (...args: number[]) => unknown;

/**
 * The recorded calls' scratch blocks, shared by every recording of a StepReplay (they never run
 * at once): each recording takes its blocks from the start again. What a call leaves in its
 * scratch is not read by another, and what JavaScript writes there (a table of offsets) is
 * written again by a replay that follows another program's run (kernels/memory.ts `table`), so
 * one recording's use of the blocks does not disturb another's.
 */
export class Scratch {
  private readonly blocks: { off: number; bytes: number }[] = [];
  private block = 0;
  private used = 0;
  /** the program whose JavaScript scratch writes the blocks hold (null: none, or unknown) */
  owner: StepProgram | null = null;

  constructor(readonly heap: KernelHeap) {}

  /** A new recording starts at the first block. */
  rewind(): void {
    this.block = this.used = 0;
  }

  take(n: number): number {
    const bytes = Math.ceil((4 * Math.max(n, 1)) / 16) * 16;
    for (; this.block < this.blocks.length; this.block++, this.used = 0) {
      const b = this.blocks[this.block]!;
      if (b.bytes - this.used >= bytes) {
        this.used += bytes;
        return b.off + this.used - bytes;
      }
    }
    const size = Math.max(bytes, 1 << 18);
    const off = this.heap.allocRaw(size / 4);
    if (off < 0) throw new RangeError(`the WebAssembly kernels' heap cannot grow by ${size} bytes, past its 4 GiB`);
    this.blocks.push({ off, bytes: size });
    this.block = this.blocks.length - 1;
    this.used = bytes;
    return off;
  }

  /** Fills every block with NaN (for a check: see StepReplay.check). */
  poison(): void {
    for (const b of this.blocks) this.heap.f32.fill(NaN, b.off >>> 2, (b.off + b.bytes) >>> 2);
    this.owner = null;
  }

  dispose(): void {
    for (const b of this.blocks) this.heap.releaseRaw(b.off, b.bytes / 4);
    this.blocks.length = 0;
    this.rewind();
    this.owner = null;
  }
}

/** Most arguments a call in runCalls's list may have (src/kernels/assembly/dispatch.ts). */
const MAX_DISPATCH_ARGS = 24;

/**
 * A recorded step: kernel calls (argc ≥ 0 arguments) and JavaScript pieces (argc −1; −2 for
 * those that write only scratch), in order.
 *
 * Sealed, each run of kernel calls between JavaScript pieces is also written as a list in heap
 * memory that the kernels' runCalls goes through in one call from JavaScript (each call from
 * JavaScript into WebAssembly cost ~13 ns; a dnc-repeat-copy step makes ~1,500). Its arguments
 * go in as i32, converted as a call from JavaScript converts them (ToInt32), so the kernels get
 * the same values either way.
 */
export class StepProgram implements KernelRecorder {
  private readonly fns: (KernelFn | ReplayJs)[] = [];
  private readonly argcs: number[] = [];
  private argList: number[] = [];
  private args = new Float64Array(0);
  private argc = new Int32Array(0);
  failure: string | null = null;
  /**
   * How run() goes, three numbers an item: [0, i, o]: fns[i] alone (a JavaScript piece, or a
   * kernel call with its arguments at args[o]); [1, p, n]: n kernel calls from the list at byte
   * offset p of the heap (runCalls). Null: every item alone (the heap had no room for lists).
   */
  private plan: Int32Array | null = null;
  /** the lists' heap block (floats; −1: none) */
  private block = -1;
  private blockFloats = 0;

  constructor(private readonly scratch: Scratch) {
    scratch.rewind();
    scratch.owner = this; // its recording writes the blocks
  }

  call(fn: KernelFn, args: readonly number[]): void {
    this.fns.push(fn);
    this.argcs.push(args.length);
    for (const a of args) this.argList.push(a);
  }

  js(fn: ReplayJs, scratch: boolean): void {
    this.fns.push(fn);
    this.argcs.push(scratch ? -2 : -1);
  }

  tmp(n: number): number {
    return this.scratch.take(n);
  }

  fail(reason: string): void {
    this.failure ??= reason;
  }

  /** Ends the recording: the calls' arguments packed for run(), and the runs of kernel calls as lists. */
  seal(): void {
    this.args = Float64Array.from(this.argList);
    this.argc = Int32Array.from(this.argcs);
    this.argList = [];
    this.pack();
  }

  /** Writes the runs of kernel calls runCalls can make as lists on the heap, and the plan. */
  private pack(): void {
    const heap = this.scratch.heap;
    const listed = (i: number): boolean => {
      const n = this.argcs[i]!;
      // (a kernel's own arity: a call with more or fewer arguments would not match its table type)
      return n >= 0 && n <= MAX_DISPATCH_ARGS && heap.dispatchIndex(this.fns[i] as KernelFn) >= 0 && (this.fns[i] as KernelFn).length === n;
    };
    let words = 0;
    for (let i = 0; i < this.fns.length; i++) if (listed(i)) words += 2 + this.argcs[i]!;
    if (words === 0) return;
    const off = heap.allocRaw(words);
    if (off < 0) return; // no room: every call from JavaScript, as before
    this.block = off;
    this.blockFloats = words;
    const list = new Int32Array(heap.f32.buffer, off, words);
    const plan: number[] = [];
    let w = 0, o = 0;
    for (let i = 0; i < this.fns.length; i++) {
      const n = this.argcs[i]!;
      if (listed(i)) {
        if (plan.length === 0 || plan[plan.length - 3] !== 1) plan.push(1, off + 4 * w, 0);
        plan[plan.length - 1]!++;
        this.listedCalls++;
        list[w++] = heap.dispatchIndex(this.fns[i] as KernelFn);
        list[w++] = n;
        for (let j = 0; j < n; j++) list[w++] = this.args[o + j]!; // ToInt32, as a call's conversion
      } else {
        plan.push(0, i, o);
      }
      if (n > 0) o += n;
    }
    this.plan = Int32Array.from(plan);
  }

  /** Gives back the lists' heap block; the program must not run afterwards. */
  dispose(): void {
    if (this.block >= 0) this.scratch.heap.releaseRaw(this.block, this.blockFloats);
    this.block = -1;
    this.plan = null;
    this.listedCalls = 0;
  }

  get calls(): number {
    return this.fns.length;
  }

  /** Its kernel calls, and those of them in its lists (run by runCalls). */
  get kernelCalls(): number {
    let n = 0;
    for (let i = 0; i < this.argcs.length; i++) if (this.argcs[i]! >= 0) n++;
    return n;
  }

  listedCalls = 0;

  /** Runs the recorded step on `batch` (of the recorded shape) with this loss normaliser. */
  run(batch: Batch, normaliser: number): void {
    const restore = this.scratch.owner !== this; // another program (or a check's NaN) was there since
    this.scratch.owner = this;
    const plan = this.plan;
    if (plan !== null) {
      const heap = this.scratch.heap;
      for (let j = 0; j < plan.length; j += 3) {
        if (plan[j] === 1) heap.runCalls(plan[j + 1]!, plan[j + 2]!);
        else this.one(plan[j + 1]!, plan[j + 2]!, batch, normaliser, restore);
      }
      return;
    }
    let o = 0;
    for (let i = 0; i < this.fns.length; i++) {
      this.one(i, o, batch, normaliser, restore);
      const n = this.argc[i]!;
      if (n > 0) o += n;
    }
  }

  /** Item i of the recording (its arguments, if a kernel call, at args[o]). */
  private one(i: number, o: number, batch: Batch, normaliser: number, restore: boolean): void {
    const fns = this.fns, a = this.args;
    {
      const n = this.argc[i]!;
      const f = fns[i] as KernelFn;
      switch (n) {
        case -1: (fns[i] as ReplayJs)(batch, normaliser); break;
        case -2: if (restore) (fns[i] as ReplayJs)(batch, normaliser); break;
        case 0: f(); break;
        case 1: f(a[o]!); break;
        case 2: f(a[o]!, a[o + 1]!); break;
        case 3: f(a[o]!, a[o + 1]!, a[o + 2]!); break;
        case 4: f(a[o]!, a[o + 1]!, a[o + 2]!, a[o + 3]!); break;
        case 5: f(a[o]!, a[o + 1]!, a[o + 2]!, a[o + 3]!, a[o + 4]!); break;
        case 6: f(a[o]!, a[o + 1]!, a[o + 2]!, a[o + 3]!, a[o + 4]!, a[o + 5]!); break;
        case 7: f(a[o]!, a[o + 1]!, a[o + 2]!, a[o + 3]!, a[o + 4]!, a[o + 5]!, a[o + 6]!); break;
        case 8: f(a[o]!, a[o + 1]!, a[o + 2]!, a[o + 3]!, a[o + 4]!, a[o + 5]!, a[o + 6]!, a[o + 7]!); break;
        case 9: f(a[o]!, a[o + 1]!, a[o + 2]!, a[o + 3]!, a[o + 4]!, a[o + 5]!, a[o + 6]!, a[o + 7]!, a[o + 8]!); break;
        case 10: f(a[o]!, a[o + 1]!, a[o + 2]!, a[o + 3]!, a[o + 4]!, a[o + 5]!, a[o + 6]!, a[o + 7]!, a[o + 8]!, a[o + 9]!); break;
        case 11: f(a[o]!, a[o + 1]!, a[o + 2]!, a[o + 3]!, a[o + 4]!, a[o + 5]!, a[o + 6]!, a[o + 7]!, a[o + 8]!, a[o + 9]!, a[o + 10]!); break;
        case 12: f(a[o]!, a[o + 1]!, a[o + 2]!, a[o + 3]!, a[o + 4]!, a[o + 5]!, a[o + 6]!, a[o + 7]!, a[o + 8]!, a[o + 9]!, a[o + 10]!, a[o + 11]!); break;
        case 13: f(a[o]!, a[o + 1]!, a[o + 2]!, a[o + 3]!, a[o + 4]!, a[o + 5]!, a[o + 6]!, a[o + 7]!, a[o + 8]!, a[o + 9]!, a[o + 10]!, a[o + 11]!, a[o + 12]!); break;
        case 14: f(a[o]!, a[o + 1]!, a[o + 2]!, a[o + 3]!, a[o + 4]!, a[o + 5]!, a[o + 6]!, a[o + 7]!, a[o + 8]!, a[o + 9]!, a[o + 10]!, a[o + 11]!, a[o + 12]!, a[o + 13]!); break;
        case 15: f(a[o]!, a[o + 1]!, a[o + 2]!, a[o + 3]!, a[o + 4]!, a[o + 5]!, a[o + 6]!, a[o + 7]!, a[o + 8]!, a[o + 9]!, a[o + 10]!, a[o + 11]!, a[o + 12]!, a[o + 13]!, a[o + 14]!); break;
        case 16: f(a[o]!, a[o + 1]!, a[o + 2]!, a[o + 3]!, a[o + 4]!, a[o + 5]!, a[o + 6]!, a[o + 7]!, a[o + 8]!, a[o + 9]!, a[o + 10]!, a[o + 11]!, a[o + 12]!, a[o + 13]!, a[o + 14]!, a[o + 15]!); break;
        case 17: f(a[o]!, a[o + 1]!, a[o + 2]!, a[o + 3]!, a[o + 4]!, a[o + 5]!, a[o + 6]!, a[o + 7]!, a[o + 8]!, a[o + 9]!, a[o + 10]!, a[o + 11]!, a[o + 12]!, a[o + 13]!, a[o + 14]!, a[o + 15]!, a[o + 16]!); break;
        case 18: f(a[o]!, a[o + 1]!, a[o + 2]!, a[o + 3]!, a[o + 4]!, a[o + 5]!, a[o + 6]!, a[o + 7]!, a[o + 8]!, a[o + 9]!, a[o + 10]!, a[o + 11]!, a[o + 12]!, a[o + 13]!, a[o + 14]!, a[o + 15]!, a[o + 16]!, a[o + 17]!); break;
        case 19: f(a[o]!, a[o + 1]!, a[o + 2]!, a[o + 3]!, a[o + 4]!, a[o + 5]!, a[o + 6]!, a[o + 7]!, a[o + 8]!, a[o + 9]!, a[o + 10]!, a[o + 11]!, a[o + 12]!, a[o + 13]!, a[o + 14]!, a[o + 15]!, a[o + 16]!, a[o + 17]!, a[o + 18]!); break;
        case 20: f(a[o]!, a[o + 1]!, a[o + 2]!, a[o + 3]!, a[o + 4]!, a[o + 5]!, a[o + 6]!, a[o + 7]!, a[o + 8]!, a[o + 9]!, a[o + 10]!, a[o + 11]!, a[o + 12]!, a[o + 13]!, a[o + 14]!, a[o + 15]!, a[o + 16]!, a[o + 17]!, a[o + 18]!, a[o + 19]!); break;
        case 21: f(a[o]!, a[o + 1]!, a[o + 2]!, a[o + 3]!, a[o + 4]!, a[o + 5]!, a[o + 6]!, a[o + 7]!, a[o + 8]!, a[o + 9]!, a[o + 10]!, a[o + 11]!, a[o + 12]!, a[o + 13]!, a[o + 14]!, a[o + 15]!, a[o + 16]!, a[o + 17]!, a[o + 18]!, a[o + 19]!, a[o + 20]!); break;
        case 22: f(a[o]!, a[o + 1]!, a[o + 2]!, a[o + 3]!, a[o + 4]!, a[o + 5]!, a[o + 6]!, a[o + 7]!, a[o + 8]!, a[o + 9]!, a[o + 10]!, a[o + 11]!, a[o + 12]!, a[o + 13]!, a[o + 14]!, a[o + 15]!, a[o + 16]!, a[o + 17]!, a[o + 18]!, a[o + 19]!, a[o + 20]!, a[o + 21]!); break;
        case 23: f(a[o]!, a[o + 1]!, a[o + 2]!, a[o + 3]!, a[o + 4]!, a[o + 5]!, a[o + 6]!, a[o + 7]!, a[o + 8]!, a[o + 9]!, a[o + 10]!, a[o + 11]!, a[o + 12]!, a[o + 13]!, a[o + 14]!, a[o + 15]!, a[o + 16]!, a[o + 17]!, a[o + 18]!, a[o + 19]!, a[o + 20]!, a[o + 21]!, a[o + 22]!); break;
        case 24: f(a[o]!, a[o + 1]!, a[o + 2]!, a[o + 3]!, a[o + 4]!, a[o + 5]!, a[o + 6]!, a[o + 7]!, a[o + 8]!, a[o + 9]!, a[o + 10]!, a[o + 11]!, a[o + 12]!, a[o + 13]!, a[o + 14]!, a[o + 15]!, a[o + 16]!, a[o + 17]!, a[o + 18]!, a[o + 19]!, a[o + 20]!, a[o + 21]!, a[o + 22]!, a[o + 23]!); break;
        default: f(...a.subarray(o, o + n)); // no kernel has more than 24 arguments
      }
    }
  }
}
