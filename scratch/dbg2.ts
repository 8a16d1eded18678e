import { contentWeights } from '../src/memory/content.js';
import { readMemory } from '../src/memory/read.js';
import { tanh, weightedSum, addScalars } from '../src/tensor/ops.js';
import { Rng } from '../src/tensor/random.js';
import { Tensor, Tape, withTape } from '../src/tensor/tensor.js';
import { setKernels } from '../src/kernels/wasm.js';
const B = 3, N = 7, W = 5;
for (const k of ['wasm', 'ts'] as const) {
  setKernels(k);
  const rng = new Rng(3);
  const mk = (s: number[]) => { const t = Tensor.zeros(s, 'f32', true); for (let i = 0; i < t.size; i++) t.data[i] = rng.normal(); return t; };
  const M = mk([B, N, W]), key = mk([B, W]), x = mk([B, W]);
  const tape = new Tape();
  withTape(tape, () => {
    const w = contentWeights(M, tanh(key), Tensor.full([B, 1], 3));
    const r = readMemory(M, w);
    const a = weightedSum(r, new Array(B * W).fill(1));
    const b = weightedSum(x, new Array(B * W).fill(0.5));
    console.log(k, Array.from(w.data.slice(0, 3)), Array.from(r.data.slice(0, 3)), a.data[0], b.data[0]);
  });
}
