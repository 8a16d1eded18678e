/**
 * @file `engram bench`: times training steps of a preset (after warm-up) and reports
 * median, p10 and p90 milliseconds per step, sequences per second and peak memory
 * (the timing itself: run/bench-preset.ts).
 */
import { setKernels, activeKernels, kernelsName } from '../kernels/wasm.js';
import { kernelBuild, setKernelBuild } from '../kernels/heap.js';
import { benchPreset, type BenchResult } from '../run/bench-preset.js';
import { intFlag, parseFlags } from './args.js';
import { UserError } from './errors.js';

export const BENCH_HELP = `usage: engram bench [--preset NAME] [--steps N] [--warmup N] [--kernels wasm|ts] [--replay on|off] [--threads N] [--length-groups N] [--groups-at-once N] [--json]

  --preset NAME      time this preset (default: ntm-copy and dnc-repeat-copy)
  --steps N          timed training steps after the warm-up (default 200)
  --warmup N         untimed steps first (default: 20 steps, and more until 3 s have passed
                     and 200 steps have gone by with no new step shape (up to 20 s), at most
                     2000: V8 keeps optimising the step's code for a few hundred short steps,
                     with gradient threads those compiles stall a step now and then, and a
                     step of a new shape is recorded for replay the slow way)
  --kernels K        wasm (the SIMD kernels, default) or ts (their plain TypeScript twins)
  --fma on|off       the WASM kernels' build with fused multiply-adds (on, default where the
                     CPU has them) or the one without (off; as ENGRAM_FMA=0)
  --replay on|off    replay each batch shape's recorded kernel calls (on, default) or run
                     every step through the model's code and the tape (off)
  --threads N        gradient threads per step (train.threads; default: the preset's)
  --length-groups N  samples per length group (train.lengthGroupSize; 0: whole padded batches;
                     default: the preset's)
  --groups-at-once N length groups run side by side (train.lengthGroupsAtOnce; 0: all;
                     default: the preset's)
  --json             print the result as one JSON object on the last line (msPerStep, p10, p90, ...)`;

export async function benchCommand(argv: string[]): Promise<number> {
  const f = parseFlags('bench', argv, {
    preset: { type: 'string' }, steps: { type: 'string' }, warmup: { type: 'string' }, kernels: { type: 'string' }, fma: { type: 'string' }, replay: { type: 'string' }, threads: { type: 'string' }, 'length-groups': { type: 'string' }, 'groups-at-once': { type: 'string' }, json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (f.help) {
    console.log(BENCH_HELP);
    return 0;
  }
  if (f.kernels !== undefined) {
    if (f.kernels !== 'wasm' && f.kernels !== 'ts') throw new UserError(`--kernels must be wasm or ts, got "${String(f.kernels)}"`);
    setKernels(f.kernels);
  }
  if (f.fma !== undefined) {
    if (f.fma !== 'on' && f.fma !== 'off') throw new UserError(`--fma must be on or off, got "${String(f.fma)}"`);
    if (!setKernelBuild(f.fma === 'on' ? 'fma' : 'simd')) {
      throw new UserError(`--fma ${f.fma}: the kernels' ${f.fma === 'on' ? 'fused build does not run here (it needs relaxed SIMD and a CPU with FMA)' : 'build without FMA is not built'}; drop --fma`);
    }
  }
  if (f.replay !== undefined && f.replay !== 'on' && f.replay !== 'off') throw new UserError(`--replay must be on or off, got "${String(f.replay)}"`);
  const replay = f.replay !== 'off';
  const names = typeof f.preset === 'string' ? [f.preset] : ['ntm-copy', 'dnc-repeat-copy'];
  const steps = intFlag('steps', f.steps) ?? 200;
  const threads = intFlag('threads', f.threads);
  const warmup = intFlag('warmup', f.warmup, 0);
  const groups = intFlag('length-groups', f['length-groups'], 0);
  const atOnce = intFlag('groups-at-once', f['groups-at-once'], 0);
  const results: BenchResult[] = [];
  for (const n of names) {
    const r = await benchPreset(n, steps, warmup, threads, groups, atOnce, { replay });
    console.log(`${r.preset} (${kernelsName()} kernels${replay ? '' : ', no replay'}, ${r.threads} thread${r.threads > 1 ? 's' : ''}, ` +
      `${r.lengthGroupSize > 0 ? `length groups of ${r.lengthGroupSize}, ${r.lengthGroupsAtOnce > 0 ? r.lengthGroupsAtOnce : 'all'} at once` : 'whole batches'}): ${r.msPerStep.toFixed(2)} ms/step (p10 ${r.p10.toFixed(2)}, p90 ${r.p90.toFixed(2)}) | ` +
      `${r.sequencesPerSec.toFixed(0)} sequences/s | ${r.gflops.toFixed(2)} GFLOP/s | peak RSS ${r.peakRssMB.toFixed(0)} MB | ` +
      `${r.bufferAllocsPerStep.toFixed(1)} buffers made per step (${r.newShapes} new shapes) | GC ${r.gcMsPerStep.toFixed(2)} ms/step, ` +
      `${r.jsBytesPerStep.toFixed(0)} bytes of JavaScript objects per step | ${r.steps} steps after ${r.warmupSteps} warm-up`);
    results.push(r);
  }
  const kernels = activeKernels(), fma = kernels === 'wasm' && kernelBuild() === 'fma';
  if (f.json) console.log(JSON.stringify(results.length === 1 ? { ...results[0], kernels, fma, replay } : { results, kernels, fma, replay, msPerStep: results[0]!.msPerStep }));
  return 0;
}
