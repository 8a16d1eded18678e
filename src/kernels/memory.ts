/**
 * @file The memory-op WASM SIMD kernels (src/kernels/assembly/memory.ts), called with
 * float32 buffers: each call copies its inputs into one shared scratch instance, runs, and
 * copies results out. Each function returns false when the kernels are off (setKernels('ts'))
 * or unavailable, and the op then runs its TypeScript twin.
 */
import { readFileSync } from 'node:fs';
import { activeKernels } from './wasm.js';

interface MemoryExports {
  contentForward(...args: number[]): void;
  contentBackward(...args: number[]): void;
  readForward(...args: number[]): void;
  readBackward(...args: number[]): void;
  writeForward(...args: number[]): void;
  writeBackward(...args: number[]): void;
  locationForward(...args: number[]): void;
  locationBackward(...args: number[]): void;
  heapBase(): number;
}

const PAGE = 65536;

class Scratch {
  readonly memory = new WebAssembly.Memory({ initial: 16 });
  readonly k: MemoryExports;
  /** first free byte past the module's static data (its math tables live below it) */
  private readonly base: number;
  constructor(mod: WebAssembly.Module) {
    const inst = new WebAssembly.Instance(mod, { env: { memory: this.memory, abort: () => { throw new Error('wasm abort'); } } });
    this.k = inst.exports as unknown as MemoryExports;
    this.base = Math.ceil(this.k.heapBase() / 16) * 16;
  }

  /** Byte offsets for consecutive float32 buffers of the given sizes; grows the memory if needed. */
  layout(sizes: readonly number[]): number[] {
    const out: number[] = [];
    let p = this.base;
    for (const n of sizes) {
      out.push(p);
      p += Math.ceil((4 * n) / 16) * 16;
    }
    const need = Math.ceil(p / PAGE) - this.memory.buffer.byteLength / PAGE;
    if (need > 0) this.memory.grow(need);
    return out;
  }

  put(ptr: number, src: Float32Array): void {
    new Float32Array(this.memory.buffer, ptr, src.length).set(src);
  }

  zero(ptr: number, n: number): void {
    new Float32Array(this.memory.buffer, ptr, n).fill(0);
  }

  view(ptr: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, n);
  }

  /** Puts the gradient accumulated so far (or zeros when there is none) where a kernel adds to it. */
  putGrad(ptr: number, g: Float32Array | null, n: number): void {
    if (g) this.put(ptr, g);
    else this.zero(ptr, n);
  }

  /** Copies a gradient the kernel added to back out (two memcpys beat a JS add loop). */
  takeGrad(g: Float32Array | null, ptr: number): void {
    if (g) g.set(this.view(ptr, g.length));
  }
}

let scratch: Scratch | null | undefined;

function kernels(): Scratch | null {
  if (activeKernels() !== 'wasm') return null;
  if (scratch === undefined) {
    try {
      scratch = new Scratch(new WebAssembly.Module(readFileSync(new URL('../../kernels/memory.wasm', import.meta.url))));
    } catch {
      scratch = null;
    }
  }
  return scratch;
}

type F = Float32Array;

export interface ContentSaved {
  sim: F; den: F; nm2: F; dot: F; nk2: F;
}

export function contentForwardWasm(M: F, k: F, beta: F, w: F, s: ContentSaved, B: number, N: number, W: number): boolean {
  const K = kernels();
  if (!K) return false;
  const [pM, pk, pb, pw, psim, pden, pnm2, pdot, pnk2] = K.layout([M.length, k.length, B, B * N, B * N, B * N, B * N, B * N, B]) as number[];
  K.put(pM!, M); K.put(pk!, k); K.put(pb!, beta);
  K.k.contentForward(pM!, pk!, pb!, pw!, psim!, pden!, pnm2!, pdot!, pnk2!, B, N, W);
  w.set(K.view(pw!, B * N)); s.sim.set(K.view(psim!, B * N)); s.den.set(K.view(pden!, B * N));
  s.nm2.set(K.view(pnm2!, B * N)); s.dot.set(K.view(pdot!, B * N)); s.nk2.set(K.view(pnk2!, B));
  return true;
}

export function contentBackwardWasm(M: F, k: F, beta: F, w: F, s: ContentSaved, gw: F, gM: F | null, gk: F | null, gbeta: F | null, B: number, N: number, W: number): boolean {
  const K = kernels();
  if (!K) return false;
  const sizes = [M.length, k.length, B, B * N, B * N, B * N, B * N, B * N, B, B * N, M.length, k.length, B];
  const [pM, pk, pb, pw, psim, pden, pnm2, pdot, pnk2, pgw, pgM, pgk, pgb] = K.layout(sizes) as number[];
  K.put(pM!, M); K.put(pk!, k); K.put(pb!, beta); K.put(pw!, w); K.put(psim!, s.sim); K.put(pden!, s.den);
  K.put(pnm2!, s.nm2); K.put(pdot!, s.dot); K.put(pnk2!, s.nk2); K.put(pgw!, gw);
  K.putGrad(pgM!, gM, M.length); K.putGrad(pgk!, gk, k.length); K.putGrad(pgb!, gbeta, B);
  K.k.contentBackward(pM!, pk!, pb!, pw!, psim!, pden!, pnm2!, pdot!, pnk2!, pgw!, pgM!, pgk!, pgb!, B, N, W);
  K.takeGrad(gM, pgM!); K.takeGrad(gk, pgk!); K.takeGrad(gbeta, pgb!);
  return true;
}

export function readForwardWasm(M: F, w: F, r: F, B: number, N: number, W: number): boolean {
  const K = kernels();
  if (!K) return false;
  const [pM, pw, pr] = K.layout([M.length, w.length, r.length]) as number[];
  K.put(pM!, M); K.put(pw!, w); K.zero(pr!, r.length);
  K.k.readForward(pM!, pw!, pr!, B, N, W);
  r.set(K.view(pr!, r.length));
  return true;
}

export function readBackwardWasm(M: F, w: F, gr: F, gM: F | null, gw: F | null, B: number, N: number, W: number): boolean {
  const K = kernels();
  if (!K) return false;
  const [pM, pw, pgr, pgM, pgw] = K.layout([M.length, w.length, gr.length, M.length, w.length]) as number[];
  K.put(pM!, M); K.put(pw!, w); K.put(pgr!, gr); K.putGrad(pgM!, gM, M.length); K.putGrad(pgw!, gw, w.length);
  K.k.readBackward(pM!, pw!, pgr!, pgM!, pgw!, B, N, W);
  K.takeGrad(gM, pgM!); K.takeGrad(gw, pgw!);
  return true;
}

/** @param w [H·B·N] @param e [H·B·W] @param a [H·B·W] packed head-major */
export function writeForwardWasm(M: F, w: F, e: F, a: F, keep: F, out: F, H: number, B: number, N: number, W: number): boolean {
  const K = kernels();
  if (!K) return false;
  const [pM, pw, pe, pa, pk, po] = K.layout([M.length, w.length, e.length, a.length, M.length, M.length]) as number[];
  K.put(pM!, M); K.put(pw!, w); K.put(pe!, e); K.put(pa!, a);
  K.k.writeForward(pM!, pw!, pe!, pa!, pk!, po!, H, B, N, W);
  keep.set(K.view(pk!, M.length));
  out.set(K.view(po!, M.length));
  return true;
}

/** Gradients packed like the inputs; written (not added) into gw, ge, ga; gM is added into. */
export function writeBackwardWasm(M: F, w: F, e: F, a: F, keep: F, gy: F, gM: F | null, gw: F, ge: F, ga: F, H: number, B: number, N: number, W: number): boolean {
  const K = kernels();
  if (!K) return false;
  const sizes = [M.length, w.length, e.length, a.length, M.length, M.length, M.length, w.length, e.length, a.length];
  const [pM, pw, pe, pa, pk, pgy, pgM, pgw, pge, pga] = K.layout(sizes) as number[];
  K.put(pM!, M); K.put(pw!, w); K.put(pe!, e); K.put(pa!, a); K.put(pk!, keep); K.put(pgy!, gy);
  K.zero(pge!, e.length); K.zero(pga!, a.length); K.putGrad(pgM!, gM, M.length);
  K.k.writeBackward(pM!, pw!, pe!, pa!, pk!, pgy!, pgM!, pgw!, pge!, pga!, H, B, N, W);
  K.takeGrad(gM, pgM!);
  gw.set(K.view(pgw!, w.length)); ge.set(K.view(pge!, e.length)); ga.set(K.view(pga!, a.length));
  return true;
}

/** What locationForwardWasm saves for the backward pass: w_g, w~, w~^γ [B, N] and the sums [B]. */
export interface LocationSaved {
  wg: F; wt: F; p: F; sums: F;
}

/** NTM interpolate → shift → sharpen in one kernel. @param s [B, S] */
export function locationForwardWasm(wc: F, wp: F, g: F, s: F, gamma: F, saved: LocationSaved, w: F, B: number, N: number, S: number): boolean {
  const K = kernels();
  if (!K) return false;
  const BN = B * N;
  const [pwc, pwp, pg, ps, pgm, pwg, pwt, pp, psum, pw] = K.layout([BN, BN, B, B * S, B, BN, BN, BN, B, BN]) as number[];
  K.put(pwc!, wc); K.put(pwp!, wp); K.put(pg!, g); K.put(ps!, s); K.put(pgm!, gamma);
  K.k.locationForward(pwc!, pwp!, pg!, ps!, pgm!, pwg!, pwt!, pp!, psum!, pw!, B, N, S);
  saved.wg.set(K.view(pwg!, BN)); saved.wt.set(K.view(pwt!, BN)); saved.p.set(K.view(pp!, BN)); saved.sums.set(K.view(psum!, B));
  w.set(K.view(pw!, BN));
  return true;
}

/** Gradients of locationForwardWasm, added to those given (null: not wanted). */
export function locationBackwardWasm(
  wc: F, wp: F, g: F, s: F, gamma: F, saved: LocationSaved, w: F, gw: F,
  gwc: F | null, gwp: F | null, gg: F | null, gs: F | null, ggamma: F | null, B: number, N: number, S: number,
): boolean {
  const K = kernels();
  if (!K) return false;
  const BN = B * N;
  const sizes = [BN, BN, B, B * S, B, BN, BN, BN, B, BN, BN, BN, BN, B, B * S, B, BN, BN];
  const [pwc, pwp, pg, ps, pgm, pwg, pwt, pp, psum, pw, pgw, pgwc, pgwp, pgg, pgs, pggm, pdwt, pdwg] = K.layout(sizes) as number[];
  K.put(pwc!, wc); K.put(pwp!, wp); K.put(pg!, g); K.put(ps!, s); K.put(pgm!, gamma);
  K.put(pwg!, saved.wg); K.put(pwt!, saved.wt); K.put(pp!, saved.p); K.put(psum!, saved.sums); K.put(pw!, w); K.put(pgw!, gw);
  K.putGrad(pgwc!, gwc, BN); K.putGrad(pgwp!, gwp, BN); K.putGrad(pgg!, gg, B); K.putGrad(pgs!, gs, B * S); K.putGrad(pggm!, ggamma, B);
  K.k.locationBackward(pwc!, pwp!, pg!, ps!, pgm!, pwg!, pwt!, pp!, psum!, pw!, pgw!, pgwc!, pgwp!, pgg!, pgs!, pggm!, pdwt!, pdwg!, B, N, S);
  K.takeGrad(gwc, pgwc!); K.takeGrad(gwp, pgwp!); K.takeGrad(gg, pgg!); K.takeGrad(gs, pgs!); K.takeGrad(ggamma, pggm!);
  return true;
}
