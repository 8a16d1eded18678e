/**
 * @file Where Node finds the kernels: dist/kernels/*.wasm read from disk and compiled on
 * first use, and the ENGRAM_FMA setting from the environment. Chosen by the package's
 * `#kernel-files` import (package.json `imports`); a browser gets files-web.ts instead.
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import type { KernelBuild } from './heap.js';

const FILES: Record<KernelBuild, string> = { fma: 'kernels-fma.wasm', simd: 'kernels.wasm' };

/**
 * The compiled module of `build`, or null when it is not built or does not compile here.
 * Relaxed SIMD (the fma build) is enabled by default from Node 22 and behind a V8 flag in
 * Node 20, which is set here when the module does not validate without it.
 */
export function kernelModule(build: KernelBuild): WebAssembly.Module | null {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = readFileSync(new URL(`../../kernels/${FILES[build]}`, import.meta.url));
  } catch {
    return null; // not built
  }
  if (build === 'fma' && !WebAssembly.validate(bytes)) setFlagsFromString('--experimental-wasm-relaxed-simd');
  if (!WebAssembly.validate(bytes)) return null;
  try {
    return new WebAssembly.Module(bytes);
  } catch {
    return null; // no SIMD / shared memory support
  }
}

/** ENGRAM_FMA, as set in the environment. */
export function fmaSetting(): string | undefined {
  return process.env.ENGRAM_FMA;
}
