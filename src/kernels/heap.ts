/**
 * @file The kernels' heap: one WebAssembly memory per thread, holding the float32 data the
 * WASM kernels work on — a model's parameters and gradients, and the buffers of a training
 * step (a BufferPool given `heapAllocator()`) — so a kernel reads and writes them in place
 * instead of copying each argument in and each result out.
 *
 * The memory is shared (a SharedArrayBuffer) for one property only: growing it never detaches
 * the Float32Array views already handed out (growing an unshared memory detaches them all).
 * Each thread has its own heap; a trainer's gradient workers also see two blocks of the trainer
 * thread's (the weights they read, the gradients they write: src/train/parallel.ts).
 *
 * Allocation: 16-byte aligned blocks, bumped upward from the module's heap base (the memory
 * grows by at least a quarter at a time), and released blocks kept in free lists by their
 * aligned size, without coalescing. A step's buffers come back in the same sizes every step, and
 * sizes are few (per-time-step shapes do not depend on the sequence length), so exact-size reuse
 * keeps fragmentation low without a general allocator.
 */
import { fmaSetting, kernelModule } from '#kernel-files';
import type { Buf, ReplayJs } from '../tensor/tensor.js';
import type { KernelExports } from './kernel-exports.js';

declare module '../tensor/context.js' {
  /** A context's kernel heap (OpContext.heap) is a KernelHeap: the ops' kernels take it as it is. */
  interface OpHeap extends KernelHeap {}
}

/** The exports of dist/kernels/kernels.wasm and kernels-fma.wasm, typed from their AssemblyScript sources. */
export type { KernelExports };

const PAGE = 65536;
const ALIGN = 16;
/** The declared maximum (the whole 32-bit address space): reserved, not committed. */
const MAX_PAGES = 65536;

/**
 * The kernels' two builds (package.json, build:kernels): 'fma', whose products' multiply-adds are
 * fused (relaxed SIMD's relaxed_madd, rounded once), and 'simd', baseline SIMD (a multiply and
 * an add, each rounded). 'fma' is 10–20% faster per training step here; the two differ in the last
 * bits of a product, so a run is reproducible to the bit on one build, not across them.
 */
export type KernelBuild = 'fma' | 'simd';

/** ENGRAM_FMA=0 (or off, false, no) selects the 'simd' build where 'fma' would run. */
const FMA_ENV = 'ENGRAM_FMA';

let compiled: { module: WebAssembly.Module; build: KernelBuild } | null | undefined;
/** the build a thread was told to run (setKernelBuild), before its module was compiled */
let wanted: KernelBuild | null = null;

/**
 * The fused build when it compiles here and its multiply-add is fused (kernel-files: from disk
 * in Node, fetched in a browser); on a CPU without FMA, V8 runs relaxed_madd as a multiply and
 * an add, and the baseline build is taken instead.
 */
function fusedModuleOrNull(): WebAssembly.Module | null {
  const mod = kernelModule('fma');
  if (mod === null) return null;
  try {
    // a throwaway instance on a small memory of its own, only to ask
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true });
    const probe = new WebAssembly.Instance(mod, { env: { memory, table: new WebAssembly.Table({ element: 'anyfunc', initial: 1 }), abort: () => { throw new Error('wasm abort'); } } });
    return (probe.exports as unknown as KernelExports).fusedMultiplyAdd() === 1 ? mod : null;
  } catch {
    return null;
  }
}

const FMA_OFF = ['0', 'off', 'false', 'no'], FMA_ON = ['', '1', 'on', 'true', 'yes'];

/** What is wrong with ENGRAM_FMA, if anything (for a one-line error before any work). */
export function fmaEnvError(): string | null {
  const v = (fmaSetting() ?? '').trim().toLowerCase();
  return FMA_OFF.includes(v) || FMA_ON.includes(v) ? null
    : `${FMA_ENV}=${fmaSetting()} is not understood: set it to 0 (the kernels' build without fused multiply-adds) or 1 (with them, where they run), or unset it`;
}

function fmaWanted(): boolean {
  if (wanted !== null) return wanted === 'fma';
  // (anything other than an "off" value: the default, fused where it runs; the CLI refuses others first)
  return !FMA_OFF.includes((fmaSetting() ?? '').trim().toLowerCase());
}

function moduleOrNull(): WebAssembly.Module | null {
  if (compiled === undefined) {
    const fused = fmaWanted() ? fusedModuleOrNull() : null;
    const mod = fused ?? kernelModule('simd');
    // neither: not built, or no SIMD / shared memory support: the TypeScript twins run instead
    compiled = mod === null ? null : { module: mod, build: fused !== null ? 'fma' : 'simd' };
  }
  return compiled?.module ?? null;
}

export function kernelsModuleAvailable(): boolean {
  return moduleOrNull() !== null;
}

/** The build of the kernels this thread runs (null: neither loads; the TypeScript twins run). */
export function kernelBuild(): KernelBuild | null {
  moduleOrNull();
  return compiled?.build ?? null;
}

/**
 * Makes this thread run `build` (a gradient worker runs its trainer's, whatever its environment
 * says). Before its first kernel only: the heap holds the model, and stays on its build.
 * @returns false when that build cannot run here, or another one already does
 */
export function setKernelBuild(build: KernelBuild): boolean {
  if (compiled === undefined) wanted = build;
  return kernelBuild() === build;
}

/**
 * What records a step's kernel calls for replay (src/train/replay.ts): told by the heap of every
 * call and of anything a replay could not redo, and asked for the calls' scratch blocks (which it
 * keeps for the replays).
 */
export interface KernelRecorder {
  call(fn: (...args: number[]) => unknown, args: readonly number[]): void;
  /** a scratch block of n floats for a call being recorded */
  tmp(n: number): number;
  fail(reason: string): void;
  /** JavaScript work on the step's buffers a replay must redo (see OpContext.replayJs) */
  js(fn: ReplayJs, scratch: boolean): void;
}

type KernelFn = (...args: number[]) => unknown;

/**
 * Exports runCalls does not call: those with a float parameter or a result (the table's calls
 * pass i32 arguments and expect none), and runCalls itself.
 */
const NOT_DISPATCHED = new Set(['adamStep', 'rmspropStep', 'sumSquares', 'heapBase', 'fusedMultiplyAdd', 'runCalls']);

export class KernelHeap {
  readonly memory: WebAssembly.Memory;
  /** each kernel runCalls can call: its index in the module's function table */
  private readonly tableIndex = new Map<KernelFn, number>();
  /** the kernels: the module's exports, or while a step is recorded, recording twins of them */
  k: KernelExports;
  private readonly exports: KernelExports;
  private recorder: KernelRecorder | null = null;
  private recording: KernelExports | null = null;
  /** A view of the whole memory, renewed when it grows (for copies without a view per call). */
  f32: Float32Array;
  /** The same memory as 32-bit integers, renewed with f32 (for the kernels' pointer tables: memory.ts `table`). */
  i32: Int32Array;
  private top: number;
  /** byte size → offsets of released blocks of that size */
  private readonly free = new Map<number, number[]>();
  /** every buffer object the memory has had (one per growth): a view on any of them is ours */
  private readonly buffers = new Set<ArrayBufferLike>();
  private latest: ArrayBufferLike;

  constructor(mod: WebAssembly.Module) {
    this.memory = new WebAssembly.Memory({ initial: 64, maximum: MAX_PAGES, shared: true });
    const table = new WebAssembly.Table({ element: 'anyfunc', initial: 1 }); // (the module's entry 0 stays empty)
    const inst = new WebAssembly.Instance(mod, { env: { memory: this.memory, table, abort: () => { throw new Error('wasm abort'); } } });
    this.k = this.exports = inst.exports as unknown as KernelExports;
    // the kernels runCalls may call, in its function table (src/kernels/assembly/dispatch.ts)
    for (const [name, f] of Object.entries(this.exports)) {
      if (typeof f !== 'function' || NOT_DISPATCHED.has(name)) continue;
      this.tableIndex.set(f as KernelFn, table.length);
      table.grow(1, f as KernelFn);
    }
    this.top = align(this.k.heapBase()); // the module's static data (math tables) lies below
    this.f32 = new Float32Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
    this.latest = this.memory.buffer;
    this.buffers.add(this.latest);
  }

  /**
   * Sends every kernel call to `r` until stopRecording(), and takes each call's scratch blocks
   * from r.tmp. A kernel whose result JavaScript could read, or an argument copied from off the
   * heap, makes the recording unusable (r.fail).
   */
  startRecording(r: KernelRecorder): void {
    if (this.recorder !== null) throw new Error('KernelHeap: a recording is already under way');
    if (this.recording === null) {
      const twins: Record<string, KernelFn> = {};
      for (const [name, f] of Object.entries(this.exports)) {
        if (typeof f !== 'function') continue;
        const fn = f as KernelFn;
        twins[name] = (...args: number[]): unknown => {
          const rec = this.recorder!;
          rec.call(fn, args);
          const out = fn(...args);
          if (out !== undefined) rec.fail(`kernel ${name} returned a value`);
          return out;
        };
      }
      this.recording = twins as unknown as KernelExports;
    }
    this.recorder = r;
    this.k = this.recording;
  }

  /** The table index runCalls calls `fn` by (one of this heap's kernels), or −1 when it cannot. */
  dispatchIndex(fn: KernelFn): number {
    return this.tableIndex.get(fn) ?? -1;
  }

  /** Runs n kernel calls from a list at byte offset p (src/kernels/assembly/dispatch.ts), never recorded. */
  runCalls(p: number, n: number): void {
    this.exports.runCalls(p, n);
  }

  /**
   * While a step is recorded, records `fn`, which has just written a kernel call's scratch block
   * (kernels/memory.ts `table`): a replay writes it again when the scratch no longer holds it.
   */
  replayScratch(fn: ReplayJs): void {
    if (this.recorder !== null) this.recorder.js(fn, true);
  }

  stopRecording(): void {
    this.recorder = null;
    this.k = this.exports;
  }

  /** Bytes in use or in free lists (the memory's high-water mark). */
  get bytes(): number {
    return this.top;
  }

  /**
   * Byte offsets of the views on this memory seen so far. A TypedArray's byteOffset and buffer
   * are getters that V8 11 (Node 20) does not inline: 15–20 ns each, against ~6 for this
   * lookup, and a training step passes thousands of buffers to the kernels.
   */
  private readonly ptrs = new WeakMap<Buf, number>();

  /** The byte offset of `b` when it is a float32 view on this heap's memory, else −1. */
  ptr(b: Buf | null): number {
    if (b === null) return -1;
    const p = this.ptrs.get(b);
    if (p !== undefined) return p;
    if (!(b instanceof Float32Array)) return -1;
    const buf = b.buffer;
    if (buf !== this.latest && !this.buffers.has(buf)) return -1; // most views are made after the last growth
    const off = b.byteOffset;
    this.ptrs.set(b, off); // a view on this memory (made here or not): known from now on
    return off;
  }

  /** True when `b` is a float32 view on this heap's memory. */
  owns(b: Buf | null): boolean {
    return this.ptr(b) >= 0;
  }

  /** A block of `n` floats (contents undefined), or -1 when the memory cannot grow that far. */
  allocRaw(n: number): number {
    const bytes = align(4 * Math.max(n, 1));
    const list = this.free.get(bytes);
    if (list !== undefined && list.length > 0) return list.pop()!;
    const off = this.top;
    const end = off + bytes;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      // geometric growth: few growths (each makes a new buffer object that views are checked against)
      const need = Math.ceil((end - have) / PAGE), room = MAX_PAGES - have / PAGE;
      if (need > room) return -1;
      const pages = Math.min(room, Math.max(need, Math.ceil(have / PAGE / 4)));
      try {
        this.memory.grow(pages);
      } catch {
        return -1; // past the maximum or out of memory: callers fall back to ordinary arrays
      }
      this.f32 = new Float32Array(this.memory.buffer);
      this.i32 = new Int32Array(this.memory.buffer);
      this.latest = this.memory.buffer;
      this.buffers.add(this.latest);
    }
    this.top = end;
    return off;
  }

  /** Returns a block from allocRaw(n). */
  releaseRaw(off: number, n: number): void {
    const bytes = align(4 * Math.max(n, 1));
    let list = this.free.get(bytes);
    if (list === undefined) this.free.set(bytes, (list = []));
    list.push(off);
  }

  /** A zeroed float32 view of `n` elements on the heap, or null when it is full. */
  alloc(n: number): Float32Array | null {
    const off = this.allocRaw(n);
    if (off < 0) return null;
    const v = new Float32Array(this.memory.buffer, off, n);
    this.ptrs.set(v, off);
    this.k.zeroBytes(off, 4 * n);
    return v;
  }

  /** Zeroes a view on the heap (TypedArray.fill is several times slower on shared memory). */
  zero(b: Float32Array): void {
    this.k.zeroBytes(this.at(b), 4 * b.length);
  }

  /** dst.set(src) for two views on the heap of the same length. */
  copy(dst: Float32Array, src: Float32Array): void {
    this.k.copyBytes(this.at(dst), this.at(src), 4 * src.length);
  }

  /** Gives back a view from alloc(); it must not be used afterwards. */
  release(b: Float32Array): void {
    this.releaseRaw(this.at(b), b.length);
    this.ptrs.delete(b);
  }

  /** ptr(b) for a view that must be on this heap. */
  private at(b: Float32Array): number {
    const p = this.ptr(b);
    if (p < 0) throw new Error('KernelHeap: a buffer that is not on this heap was given where one is required');
    return p;
  }

  // --- a kernel call's arguments: in place when on the heap, else through temporary blocks ---
  // Buffers off the heap (a model made with the TypeScript kernels, a tensor outside a pool) are
  // copied into temporary blocks and, for outputs, copied back by done(). No JS objects are made
  // on the in-place path, so a step whose buffers all live here allocates nothing for its calls.
  private readonly tmpOff: number[] = [];
  private readonly tmpN: number[] = [];
  private readonly backDst: Float32Array[] = [];
  private readonly backOff: number[] = [];
  /** the off-heap buffers of this call and their blocks */
  private readonly inDst: Float32Array[] = [];
  private readonly inOff: number[] = [];

  /** An input the kernel only reads. */
  in(b: Float32Array): number {
    const own = this.ptr(b);
    if (own >= 0) return own;
    const seen = this.copied(b);
    if (seen >= 0) return seen;
    const p = this.tmp(b.length);
    this.f32.set(b, p >>> 2);
    this.inDst.push(b);
    this.inOff.push(p);
    return p;
  }

  /** An output the kernel reads and updates (y += …): its current values go in and come back. */
  inout(b: Float32Array): number {
    const own = this.ptr(b);
    if (own >= 0) return own;
    const p = this.in(b);
    if (!this.backDst.includes(b)) {
      this.backDst.push(b);
      this.backOff.push(p);
    }
    return p;
  }

  /** An output the kernel overwrites entirely. */
  out(b: Float32Array): number {
    const own = this.ptr(b);
    if (own >= 0) return own;
    const seen = this.copied(b);
    if (seen >= 0) {
      if (!this.backDst.includes(b)) {
        this.backDst.push(b);
        this.backOff.push(seen);
      }
      return seen;
    }
    const p = this.tmp(b.length);
    this.inDst.push(b);
    this.inOff.push(p);
    this.backDst.push(b);
    this.backOff.push(p);
    return p;
  }

  /**
   * Where an off-heap buffer already given to this call was put, or −1: a buffer passed twice
   * (as two arguments) gets one block, so the kernel sees one buffer, as it does on the heap,
   * and its result comes back once.
   */
  private copied(b: Float32Array): number {
    const i = this.inDst.indexOf(b);
    return i < 0 ? -1 : this.inOff[i]!;
  }

  /** An output the kernel adds into, zeroed first. */
  zeroed(b: Float32Array): number {
    const own = this.ptr(b);
    if (own >= 0) {
      this.k.zeroBytes(own, 4 * b.length);
      return own;
    }
    const p = this.inout(b);
    this.k.zeroBytes(p, 4 * b.length);
    return p;
  }

  /** A gradient the kernel adds into; null (not wanted) adds into a zeroed scratch block. */
  grad(g: Float32Array | null, n: number): number {
    if (g !== null) return this.inout(g);
    const p = this.tmp(n);
    this.k.zeroBytes(p, 4 * n);
    return p;
  }

  /** Scratch of `n` floats for this call only. */
  tmp(n: number): number {
    if (this.recorder !== null) {
      try {
        return this.recorder.tmp(n);
      } catch (err) {
        this.abandon(); // as below: the call will not run
        throw err;
      }
    }
    const p = this.allocRaw(n);
    if (p < 0) {
      this.abandon(); // the call will not run: its earlier blocks and copies must not leak into the next
      throw new RangeError(`the WebAssembly kernels' heap cannot grow by ${4 * n} bytes, past its 4 GiB`);
    }
    this.tmpOff.push(p);
    this.tmpN.push(n);
    return p;
  }

  /** After the kernel ran: copies outputs off the heap back and frees the call's scratch. */
  done(): void {
    // emptied by pop and only when used: setting an array's length is a runtime call, and most
    // calls (every buffer on the heap) have no copies to undo
    if (this.backDst.length !== 0) {
      for (let i = 0; i < this.backDst.length; i++) {
        const d = this.backDst[i]!, p = this.backOff[i]! >>> 2;
        d.set(this.f32.subarray(p, p + d.length));
      }
    }
    this.abandon();
  }

  /** Frees a call's scratch blocks and forgets its buffers (done() after copying back; tmp() when the heap is full). */
  private abandon(): void {
    if (this.recorder !== null && (this.inDst.length !== 0 || this.backDst.length !== 0)) {
      this.recorder.fail('a kernel argument was copied from off the heap');
    }
    while (this.tmpOff.length !== 0) this.releaseRaw(this.tmpOff.pop()!, this.tmpN.pop()!);
    if (this.inDst.length !== 0) this.inDst.length = this.inOff.length = 0;
    if (this.backDst.length !== 0) this.backDst.length = this.backOff.length = 0;
  }
}

let heap: KernelHeap | null | undefined;

/** This thread's kernel heap, or null when the WASM kernels are unavailable. */
export function kernelHeapOrNull(): KernelHeap | null {
  if (heap === undefined) {
    const mod = moduleOrNull();
    try {
      heap = mod ? new KernelHeap(mod) : null;
    } catch {
      heap = null; // e.g. a host without shared WebAssembly memory
    }
  }
  return heap;
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
