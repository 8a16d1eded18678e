/**
 * @file Controllers: an LSTM (PyTorch-style cell, two bias vectors) or the NTM paper's
 * feed-forward alternative (Linear + tanh, no recurrence). The output h is clamped to ±clip.
 */
import { initLstm, lstmCell } from '../nn/lstm.js';
import { clamp, tanh } from '../tensor/ops.js';
import type { Rng } from '../tensor/random.js';
import type { DType, Tensor } from '../tensor/tensor.js';
import { addLinear, applyLinear, param, type ParamStore } from './params.js';

export type ControllerKind = 'lstm' | 'feedforward';

export function initController(store: ParamStore, kind: ControllerKind, inputSize: number, H: number, rng: Rng, dtype: DType): void {
  if (kind === 'lstm') {
    const p = initLstm(inputSize, H, rng, dtype);
    store.set('controller.lstm.weight_ih', p.weightIh);
    store.set('controller.lstm.weight_hh', p.weightHh);
    store.set('controller.lstm.bias_ih', p.biasIh);
    store.set('controller.lstm.bias_hh', p.biasHh);
  } else {
    addLinear(store, 'controller.ff', inputSize, H, rng, dtype);
  }
}

/**
 * @param z controller input [B, X + R·W]  @param h [B, H]  @param c [B, H]
 * @returns the clamped output h_t and the cell state c_t (unchanged zeros for feed-forward)
 */
export function controllerStep(store: ParamStore, kind: ControllerKind, z: Tensor, h: Tensor, c: Tensor, clip: number): { h: Tensor; c: Tensor } {
  if (kind === 'lstm') {
    const next = lstmCell(
      {
        weightIh: param(store, 'controller.lstm.weight_ih'),
        weightHh: param(store, 'controller.lstm.weight_hh'),
        biasIh: param(store, 'controller.lstm.bias_ih'),
        biasHh: param(store, 'controller.lstm.bias_hh'),
      },
      z, h, c,
    );
    return { h: clampOutput(next.h, clip), c: next.c };
  }
  return { h: clampOutput(tanh(applyLinear(store, 'controller.ff', z)), clip), c };
}

/**
 * h clamped to ±clip. Both controllers' outputs lie in [−1, 1] (o∘tanh(c), tanh), where a clamp
 * at ±clip ≥ 1 changes no value and passes every gradient: it is skipped then (the same numbers,
 * one op less per time step).
 */
export function clampOutput(h: Tensor, clip: number): Tensor {
  return clip >= 1 ? h : clamp(h, -clip, clip);
}
