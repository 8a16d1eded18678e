/**
 * @file Builds a model from its config.
 */
import type { ModelConfig } from '../config/schema.js';
import type { Rng } from '../tensor/random.js';
import type { DType } from '../tensor/tensor.js';
import type { MemoryModel } from './model.js';
import { Dnc } from './dnc.js';
import { LstmStack } from './lstm-stack.js';
import { Ntm } from './ntm.js';
import { adoptParams, releaseParams } from '../kernels/adopt.js';
import { fusedHeadPart } from './params.js';

export interface CreateModelOptions {
  /**
   * false keeps a float32 model's parameters in ordinary arrays instead of moving them onto the
   * WASM kernel heap. The heap never frees parameters (see kernels/adopt.ts), so a process that
   * makes models over and over (a server inspecting checkpoints) passes false; the kernels then
   * copy the weights per call, which is slower but bounded.
   */
  readonly kernelHeap?: boolean;
}

/** A float32 model's parameters move onto the WASM kernel heap (see kernels/adopt.ts) unless setKernels('ts'). */
export function createModel(
  cfg: ModelConfig, inputSize: number, outputSize: number, rng: Rng, dtype: DType = 'f32', options: CreateModelOptions = {},
): MemoryModel {
  const model = newModel(cfg, inputSize, outputSize, rng, dtype);
  if (options.kernelHeap !== false) adoptParams(model.params, fusedHeadPart);
  return model;
}

function newModel(cfg: ModelConfig, inputSize: number, outputSize: number, rng: Rng, dtype: DType): MemoryModel {
  switch (cfg.type) {
    case 'ntm': return new Ntm(cfg, inputSize, outputSize, rng, dtype);
    case 'dnc': return new Dnc(cfg, inputSize, outputSize, rng, dtype);
    case 'lstm': return new LstmStack(cfg, inputSize, outputSize, rng, dtype);
    default: throw new Error(`createModel: unknown model type ${JSON.stringify((cfg as { type: unknown }).type)}`);
  }
}

/**
 * Gives a model's parameters' kernel-heap memory back (the parameters move to ordinary arrays
 * and keep their values; the model still works). WebAssembly memory never shrinks, but the
 * blocks are reused by the next model: a process that makes model after model (a sweep, a
 * server) stays bounded. See Trainer.dispose for a trainer's own memory.
 */
export function releaseModel(model: MemoryModel): void {
  releaseParams(model.params);
}
