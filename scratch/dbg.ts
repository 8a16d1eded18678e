import { contentWeights } from '../src/memory/content.js';
import { readMemory } from '../src/memory/read.js';
import { tanh } from '../src/tensor/ops.js';
import { Rng } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import { setKernels } from '../src/kernels/wasm.js';
for (const k of ['wasm', 'ts'] as const) {
  setKernels(k);
  const rng = new Rng(3);
  const M = Tensor.zeros([3, 7, 5]); for (let i = 0; i < M.size; i++) M.data[i] = rng.normal();
  const key = Tensor.zeros([3, 5]); for (let i = 0; i < key.size; i++) key.data[i] = rng.normal();
  const w = contentWeights(M, tanh(key), Tensor.full([3, 1], 3));
  const r = readMemory(M, w);
  console.log(k, Array.from(w.data.slice(0, 4)), Array.from(r.data.slice(0, 4)));
}
