import { contentWeights } from '../src/memory/content.js';
import { readMemory } from '../src/memory/read.js';
import { tanh, weightedSum, addScalars } from '../src/tensor/ops.js';
import { Rng } from '../src/tensor/random.js';
import { Tensor, Tape, withTape } from '../src/tensor/tensor.js';
import { setKernels } from '../src/kernels/wasm.js';
const B = 3, N = 7, W = 5;
function go(k: 'wasm'|'ts', seed: number, withRead: boolean) {
  setKernels(k);
  const rng = new Rng(seed);
  const mk = (s: number[]) => { const t = Tensor.zeros(s, 'f32', true); for (let i = 0; i < t.size; i++) t.data[i] = rng.normal(); return t; };
  const M = mk([B, N, W]), key = mk([B, W]), x = mk([B, W]);
  const tape = new Tape();
  const loss = withTape(tape, () => {
    const w = contentWeights(M, tanh(key), Tensor.full([B, 1], 3));
    const out = withRead ? weightedSum(readMemory(M, w), new Array(B * W).fill(1)) : weightedSum(w, new Array(B * N).fill(1));
    console.log(k, seed, Array.from(w.data.slice(0, 3)), out.data[0]);
    return out;
  });
  tape.backward(loss);
}
go('wasm', 11, false); go('ts', 11, false);
go('wasm', 11, true); go('ts', 11, true);
