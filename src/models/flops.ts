/**
 * @file An analytic count of floating-point operations (a multiply-add counts 2) in one
 * time step of a model's forward pass, for reporting achieved GFLOP/s. Counts the matrix
 * products and the memory mechanisms; elementwise activations count one per element.
 * A training step costs about 3× its forward pass (forward, then two products per matrix
 * product backward), which is the convention the benchmark uses.
 */
import type { ModelConfig } from '../config/schema.js';
import { ntmReadParts, ntmWriteParts } from './ntm.js';

export function forwardFlopsPerTimeStep(cfg: ModelConfig, X: number, Y: number, B: number): number {
  const { hiddenSize: H, memorySlots: N, wordSize: W, readHeads: R, writeHeads: Wh } = cfg;
  if (cfg.type === 'lstm') {
    // every layer's cell (input X, then H), then the output layer from the top layer
    let f = 2 * B * H * Y;
    for (let k = 0; k < cfg.layers; k++) f += 2 * B * 4 * H * ((k === 0 ? X : H) + H) + 12 * B * H;
    return f;
  }
  const zIn = X + R * W;
  let f = 0;
  // controller
  f += cfg.controller === 'lstm' ? 2 * B * 4 * H * (zIn + H) + 12 * B * H : 2 * B * H * zIn + 2 * B * H;
  // output layer
  f += 2 * B * (H + R * W) * Y;
  const content = 6 * B * N * W + 6 * B * N; // dot products and norms, then the softmax
  const write = 4 * B * N * W * Wh + 3 * B * N * W; // erase product, then add
  const read = 2 * B * N * W * R;
  if (cfg.type === 'ntm') {
    const S = 2 * cfg.shiftRange + 1;
    const parts = (ps: readonly { size: number }[]): number => ps.reduce((s, p) => s + p.size, 0);
    f += 2 * B * H * (Wh * parts(ntmWriteParts(W, cfg.shiftRange)) + R * parts(ntmReadParts(W, cfg.shiftRange)));
    const location = 3 * B * N + 2 * B * N * S + 5 * B * N; // interpolate, shift, sharpen
    f += (Wh + R) * (content + location) + write + read;
  } else {
    // write head: key W, β, erase W, vector W, two gates; read head: key W, β, free gate, 2·Wh+1 modes
    f += 2 * B * H * (Wh * (3 * W + 3) + R * (W + 2 + 2 * Wh + 1));
    const usage = 4 * B * N * (Wh + R);
    const allocation = Wh * (B * N * Math.log2(Math.max(2, N)) * 2 + 4 * B * N);
    const link = Wh * (5 * B * N * N + 4 * B * N);
    const temporal = 2 * R * Wh * 2 * B * N * N;
    const weighting = Wh * 4 * B * N + R * (2 * Wh + 1) * 2 * B * N;
    f += (Wh + R) * content + usage + allocation + write + link + temporal + weighting + read;
  }
  return f;
}
