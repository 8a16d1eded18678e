/**
 * @file Builds a model from its config.
 */
import type { ModelConfig } from '../config/schema.js';
import type { Rng } from '../tensor/random.js';
import type { DType } from '../tensor/tensor.js';
import type { MemoryModel } from './model.js';
import { Ntm } from './ntm.js';

export function createModel(cfg: ModelConfig, inputSize: number, outputSize: number, rng: Rng, dtype: DType = 'f32'): MemoryModel {
  switch (cfg.type) {
    case 'ntm':
      return new Ntm(cfg, inputSize, outputSize, rng, dtype);
    case 'dnc':
      throw new Error('model.type "dnc" is not available yet');
  }
}
