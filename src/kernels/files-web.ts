/**
 * @file Where a browser finds the kernels: both builds fetched and compiled (streaming) by
 * `fetchKernels` before the first kernel runs, or handed over by `installKernels` (a Web
 * Worker given its page's modules). Chosen by the package's `#kernel-files` import under the
 * `browser` condition; Node reads them from disk instead (files-node.ts).
 */
import type { KernelBuild } from './heap.js';

const modules: Record<KernelBuild, WebAssembly.Module | null> = { fma: null, simd: null };
let fma: string | undefined;

/** Compiled kernel modules, as fetchKernels makes them (each null where it failed). */
export type KernelModules = Readonly<Record<KernelBuild, WebAssembly.Module | null>>;

async function compile(url: URL): Promise<WebAssembly.Module | null> {
  try {
    const res = await fetch(url);
    if (!res.ok) return null;
    return await WebAssembly.compileStreaming(res);
  } catch {
    return null; // not served, or relaxed SIMD (the fma build) not supported by this browser
  }
}

/**
 * Fetches and compiles kernels.wasm and kernels-fma.wasm from the folder `base` (a URL ending
 * in /), and keeps them for this thread. Neither loading leaves the TypeScript twins running.
 * @param fmaSetting as ENGRAM_FMA in Node: '0' keeps to the build without fused multiply-adds
 */
export async function fetchKernels(base: string | URL, fmaSetting?: string): Promise<KernelModules> {
  const [f, s] = await Promise.all([compile(new URL('kernels-fma.wasm', base)), compile(new URL('kernels.wasm', base))]);
  return installKernels({ fma: f, simd: s }, fmaSetting);
}

/** Keeps modules compiled elsewhere (e.g. by the page, posted to a worker) for this thread. */
export function installKernels(m: KernelModules, fmaSetting?: string): KernelModules {
  modules.fma = m.fma;
  modules.simd = m.simd;
  fma = fmaSetting;
  return m;
}

/** The module of `build` given to this thread, or null. */
export function kernelModule(build: KernelBuild): WebAssembly.Module | null {
  return modules[build];
}

/** The ENGRAM_FMA equivalent given to fetchKernels / installKernels. */
export function fmaSetting(): string | undefined {
  return fma;
}
