/**
 * @file `npm run bench`: times training steps of the reference presets on the WASM SIMD
 * kernels (with one and two gradient threads, and with two on the build without fused
 * multiply-adds) and on their plain TypeScript twins, and of the two fast presets, each in a
 * process of its own (so peak memory is its own), prints a table and writes bench/results.json.
 *
 *   node dist/bench/run.js [--steps N] [--out FILE]
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchResult } from '../src/run/bench-preset.js';
import { writeFileAtomic } from '../src/checkpoint/atomic.js';

const USAGE = 'usage: node dist/bench/run.js [--steps N] [--out FILE]';
let values: { steps?: string; out?: string; help?: boolean };
try {
  values = parseArgs({ options: { steps: { type: 'string', default: '200' }, out: { type: 'string', default: 'bench/results.json' }, help: { type: 'boolean', short: 'h' } } }).values;
} catch (err) {
  console.error(`bench: ${(err as Error).message}. ${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!/^[1-9][0-9]*$/.test(values.steps!)) {
  console.error(`bench: --steps must be a positive whole number, got '${values.steps}'. ${USAGE}`);
  process.exit(2);
}
const bin = fileURLToPath(new URL('../../bin/engram.js', import.meta.url));
const rows: (BenchResult & { kernels: string; fma: boolean })[] = [];
// [preset, kernels, threads, the WASM kernels' build without FMA]
const configs: [string, string, number, boolean][] = [];
for (const preset of ['ntm-copy', 'dnc-repeat-copy']) {
  configs.push([preset, 'wasm', 1, false], [preset, 'wasm', 2, false], [preset, 'wasm', 2, true], [preset, 'ts', 1, false]);
}
// what `npm start` and the quick presets train (batch 8)
configs.push(['ntm-copy-fast', 'wasm', 1, false], ['dnc-repeat-copy-fast', 'wasm', 1, false]);
for (const [preset, kernels, threads, noFma] of configs) {
  {
    const args = [bin, 'bench', '--preset', preset, '--steps', values.steps!, '--kernels', kernels, '--threads', String(threads), ...(noFma ? ['--fma', 'off'] : []), '--json'];
    const out = execFileSync(process.execPath, args, { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop()!) as BenchResult & { kernels: string; fma: boolean };
    rows.push(r);
    const label = kernels === 'wasm' ? (r.fma ? 'wasm+fma' : 'wasm') : kernels;
    console.log(`${preset.padEnd(20)} ${label.padEnd(8)} ${threads} thr ${r.msPerStep.toFixed(2).padStart(8)} ms/step ` +
      `(p10 ${r.p10.toFixed(2)}, p90 ${r.p90.toFixed(2)}) ${r.sequencesPerSec.toFixed(0).padStart(6)} seq/s ` +
      `${r.gflops.toFixed(2).padStart(6)} GFLOP/s  peak RSS ${r.peakRssMB.toFixed(0)} MB  ` +
      `buffers made ${r.bufferAllocsPerStep.toFixed(1)}/step (${r.newShapes} new shapes)  GC ${r.gcMsPerStep.toFixed(2)} ms/step  ` +
      `JS ${r.jsBytesPerStep.toFixed(0)} B/step  ` +
      `(${r.warmupSteps} warm-up steps)`);
  }
}
const result = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  steps: Number(values.steps),
  results: rows,
};
try {
  writeFileAtomic(values.out!, `${JSON.stringify(result, null, 2)}\n`);
} catch (err) {
  console.error(`bench: ${(err as Error).message.split('\n')[0]}; the figures are printed above. Choose a writable --out FILE`);
  process.exit(1);
}
console.log(`wrote ${values.out}`);
