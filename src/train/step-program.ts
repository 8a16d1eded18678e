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

  constructor(private readonly heap: KernelHeap) {}

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

/**
 * A recorded step: kernel calls (argc ≥ 0 arguments) and JavaScript pieces (argc −1; −2 for
 * those that write only scratch), in order.
 */
export class StepProgram implements KernelRecorder {
  private readonly fns: (KernelFn | ReplayJs)[] = [];
  private readonly argcs: number[] = [];
  private argList: number[] = [];
  private args = new Float64Array(0);
  private argc = new Int32Array(0);
  failure: string | null = null;

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

  /** Ends the recording: the calls' arguments packed for run(). */
  seal(): void {
    this.args = Float64Array.from(this.argList);
    this.argc = Int32Array.from(this.argcs);
    this.argList = [];
  }

  get calls(): number {
    return this.fns.length;
  }

  /** Runs the recorded step on `batch` (of the recorded shape) with this loss normaliser. */
  run(batch: Batch, normaliser: number): void {
    const fns = this.fns, argc = this.argc, a = this.args;
    const restore = this.scratch.owner !== this; // another program (or a check's NaN) was there since
    this.scratch.owner = this;
    let o = 0;
    for (let i = 0; i < fns.length; i++) {
      const n = argc[i]!;
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
      if (n > 0) o += n;
    }
  }
}
