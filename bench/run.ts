/**
 * @file `npm run bench`: times training steps of the reference presets on the WASM SIMD
 * kernels and on their plain TypeScript twins, prints a table and writes bench/results.json.
 *
 *   node dist/bench/run.js [--steps N] [--out FILE]
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { benchPreset, type BenchResult } from '../src/cli/bench.js';
import { setKernels, type KernelChoice } from '../src/kernels/wasm.js';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '60' }, out: { type: 'string', default: 'bench/results.json' } } });
const steps = Number(values.steps);
const rows: (BenchResult & { kernels: KernelChoice })[] = [];
for (const preset of ['ntm-copy', 'dnc-repeat-copy']) {
  for (const kernels of ['wasm', 'ts'] as const) {
    setKernels(kernels);
    const r = { ...benchPreset(preset, steps), kernels };
    rows.push(r);
    console.log(`${preset.padEnd(16)} ${kernels.padEnd(5)} ${r.msPerStep.toFixed(2).padStart(8)} ms/step ` +
      `(p10 ${r.p10.toFixed(2)}, p90 ${r.p90.toFixed(2)}) ${r.sequencesPerSec.toFixed(0).padStart(6)} seq/s ${r.gflops.toFixed(2).padStart(6)} GFLOP/s  peak RSS ${r.peakRssMB.toFixed(0)} MB`);
  }
}
setKernels('wasm');
const result = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  steps,
  results: rows,
};
writeFileSync(values.out!, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${values.out}`);
