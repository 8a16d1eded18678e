/**
 * @file WebAssembly SIMD kernels (compiled from src/kernels/assembly/ by the build) and the
 * arenas that hold a model's float32 parameters and gradients inside a kernel instance's
 * memory, so the kernels read weights in place and only activations are copied per call.
 *
 * Each model gets its own instance and memory, sized once and never grown: growing a
 * WebAssembly memory would detach every Float32Array view onto it.
 */
import { readFileSync } from 'node:fs';
import type { Buf } from '../tensor/tensor.js';

interface MatmulExports {
  matmulXWt(x: number, w: number, y: number, B: number, I: number, O: number): void;
  matmulXWtBackwardX(w: number, gy: number, gx: number, B: number, I: number, O: number): void;
  matmulXWtBackwardW(x: number, gy: number, gw: number, B: number, I: number, O: number): void;
  heapBase(): number;
}

const PAGE = 65536;
const ALIGN = 16;

let compiled: WebAssembly.Module | null | undefined;

function moduleOrNull(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(readFileSync(new URL('../../kernels/matmul.wasm', import.meta.url)));
    } catch {
      compiled = null; // not built, or no SIMD support: the TypeScript twins run instead
    }
  }
  return compiled;
}

export type KernelChoice = 'wasm' | 'ts';
let choice: KernelChoice = 'wasm';

/** Selects the kernels for models created from now on; 'ts' keeps every op in plain TypeScript. */
export function setKernels(k: KernelChoice): void {
  choice = k;
}

export function kernelsAvailable(): boolean {
  return moduleOrNull() !== null;
}

export function activeKernels(): KernelChoice {
  return choice === 'wasm' && kernelsAvailable() ? 'wasm' : 'ts';
}

const arenas = new WeakMap<ArrayBufferLike, WasmArena>();

/** The arena whose memory holds `b`, if any. */
export function arenaOf(b: Buf): WasmArena | undefined {
  return b instanceof Float32Array ? arenas.get(b.buffer) : undefined;
}

export class WasmArena {
  readonly memory: WebAssembly.Memory;
  readonly k: MatmulExports;
  private top = ALIGN;
  private readonly scratchBase: number;
  private readonly scratchEnd: number;

  /** @param persistentFloats room for parameters and gradients  @param scratchFloats room for one call's activations */
  constructor(persistentFloats: number, scratchFloats: number) {
    const mod = moduleOrNull();
    if (mod === null) throw new Error('WebAssembly kernels are not available');
    // the module's static data sits below its heap base; a page is ample for these kernels
    const bytes = PAGE + 4 * persistentFloats + ALIGN * 64 + 4 * scratchFloats + ALIGN * 8;
    const pages = Math.ceil(bytes / PAGE);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const inst = new WebAssembly.Instance(mod, { env: { memory: this.memory, abort: () => { throw new Error('wasm abort'); } } });
    this.k = inst.exports as unknown as MatmulExports;
    const base = align(this.k.heapBase());
    if (base > PAGE) throw new Error('WasmArena: kernel static data larger than expected');
    this.top = base;
    this.scratchBase = align(base + 4 * persistentFloats + ALIGN * 64);
    this.scratchEnd = pages * PAGE;
    arenas.set(this.memory.buffer, this);
  }

  /** A zeroed, 16-byte aligned float32 view that lives as long as the arena. */
  allocPersistent(n: number): Float32Array {
    const off = this.top;
    const end = align(off + 4 * n);
    if (end > this.scratchBase) throw new Error('WasmArena: persistent region is full');
    this.top = end;
    return new Float32Array(this.memory.buffer, off, n);
  }

  /** Byte offset of `b` in this arena's memory. */
  ptr(b: Float32Array): number {
    return b.byteOffset;
  }

  /**
   * Byte offsets for scratch buffers of the given float counts (valid until the next call).
   * Returns null when they do not fit, and the caller falls back to the TypeScript twin.
   */
  scratch(...counts: number[]): number[] | null {
    const out: number[] = [];
    let p = this.scratchBase;
    for (const n of counts) {
      out.push(p);
      p = align(p + 4 * n);
    }
    return p <= this.scratchEnd ? out : null;
  }

  /** Copies `src` into the arena at byte offset `ptr`. */
  put(ptr: number, src: Float32Array): void {
    new Float32Array(this.memory.buffer, ptr, src.length).set(src);
  }

  view(ptr: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, n);
  }
}

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
