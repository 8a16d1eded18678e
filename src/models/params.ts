/**
 * @file Named parameters in creation order, and the head-parameter layout shared by the
 * NTM and the DNC: one Linear from the controller output per head parameter (as the
 * reference does), each followed by the activation that gives the parameter its range.
 */
import { linear, initLinear } from '../nn/linear.js';
import { oneplus, sigmoid, softmax, softplus, tanh } from '../tensor/ops.js';
import type { Rng } from '../tensor/random.js';
import type { DType, Tensor } from '../tensor/tensor.js';

/** Parameters by checkpoint name, e.g. `heads.write.0.key.weight`; insertion order is stable. */
export type ParamStore = Map<string, Tensor>;

export type Activation = 'tanh' | 'softplus' | 'sigmoid' | 'softmax' | 'oneplus' | 'identity';

export interface PartSpec {
  readonly name: string;
  readonly size: number;
  readonly activation: Activation;
}

const ACTIVATIONS: { [A in Activation]: (x: Tensor) => Tensor } = {
  tanh,
  softplus,
  sigmoid,
  softmax,
  oneplus,
  identity: (x) => x,
};

export function addLinear(store: ParamStore, prefix: string, inF: number, outF: number, rng: Rng, dtype: DType): void {
  const p = initLinear(inF, outF, rng, dtype);
  store.set(`${prefix}.weight`, p.weight);
  store.set(`${prefix}.bias`, p.bias);
}

export function applyLinear(store: ParamStore, prefix: string, x: Tensor): Tensor {
  return linear(x, param(store, `${prefix}.weight`), param(store, `${prefix}.bias`));
}

export function param(store: ParamStore, name: string): Tensor {
  const t = store.get(name);
  if (t === undefined) throw new Error(`missing parameter ${name}`);
  return t;
}

/** Creates `${prefix}.${part}.weight/bias` for every part. */
export function initHead(store: ParamStore, prefix: string, parts: readonly PartSpec[], H: number, rng: Rng, dtype: DType): void {
  for (const p of parts) addLinear(store, `${prefix}.${p.name}`, H, p.size, rng, dtype);
}

/** Every part's activated value from the controller output `hidden` [B, H]. */
export function headOutputs(store: ParamStore, prefix: string, parts: readonly PartSpec[], hidden: Tensor): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const p of parts) out[p.name] = ACTIVATIONS[p.activation](applyLinear(store, `${prefix}.${p.name}`, hidden));
  return out;
}

export function countParams(store: ParamStore): number {
  let n = 0;
  for (const t of store.values()) n += t.size;
  return n;
}
