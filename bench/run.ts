/**
 * @file `npm run bench`: times training steps of the reference presets on the WASM SIMD
 * kernels (with one and two gradient threads) and on their plain TypeScript twins, and of the
 * two fast presets, each in a process of its own (so peak memory is its own), prints a table
 * and writes bench/results.json.
 *
 *   node dist/bench/run.js [--steps N] [--out FILE]
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchResult } from '../src/cli/bench.js';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '200' }, out: { type: 'string', default: 'bench/results.json' } } });
const bin = fileURLToPath(new URL('../../bin/engram.js', import.meta.url));
const rows: (BenchResult & { kernels: string })[] = [];
const configs: [string, string, number][] = [];
for (const preset of ['ntm-copy', 'dnc-repeat-copy']) {
  configs.push([preset, 'wasm', 1], [preset, 'wasm', 2], [preset, 'ts', 1]);
}
// what `npm start` and the quick presets train (batch 8)
configs.push(['ntm-copy-fast', 'wasm', 1], ['dnc-repeat-copy-fast', 'wasm', 1]);
for (const [preset, kernels, threads] of configs) {
  {
    const args = [bin, 'bench', '--preset', preset, '--steps', values.steps!, '--kernels', kernels, '--threads', String(threads), '--json'];
    const out = execFileSync(process.execPath, args, { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').pop()!) as BenchResult & { kernels: string };
    rows.push(r);
    console.log(`${preset.padEnd(20)} ${kernels.padEnd(5)} ${threads} thr ${r.msPerStep.toFixed(2).padStart(8)} ms/step ` +
      `(p10 ${r.p10.toFixed(2)}, p90 ${r.p90.toFixed(2)}) ${r.sequencesPerSec.toFixed(0).padStart(6)} seq/s ` +
      `${r.gflops.toFixed(2).padStart(6)} GFLOP/s  peak RSS ${r.peakRssMB.toFixed(0)} MB  ` +
      `buffers made ${r.bufferAllocsPerStep.toFixed(1)}/step (${r.newLengths} new lengths)  GC ${r.gcMsPerStep.toFixed(2)} ms/step  ` +
      `JS ${r.jsKBPerStep.toFixed(0)} KB/step  ` +
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
writeFileSync(values.out!, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${values.out}`);
