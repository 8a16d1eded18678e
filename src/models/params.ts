/**
 * @file Named parameters in creation order, and the head-parameter layout shared by the
 * NTM and the DNC: one Linear from the controller output per head parameter (as the
 * reference does), each followed by the activation that gives the parameter its range.
 */
import { kernelHeapOrNull } from '../kernels/heap.js';
import { linear, initLinear } from '../nn/linear.js';
import type { PartActivation } from '../tensor/ops.js';
import { splitActivate } from '../nn/columns.js';
import type { Rng } from '../tensor/random.js';
import { Tensor, type Buf, type DType } from '../tensor/tensor.js';
import type { HeapBlocks } from '../kernels/adopt.js';

/**
 * Parameters by checkpoint name, e.g. `heads.write.0.key.weight`; insertion order is stable. Once
 * moved onto the kernel heap (kernels/adopt.ts), it holds the two blocks they live in.
 */
export type ParamStore = Map<string, Tensor> & { heapBlocks?: HeapBlocks };

/**
 * The heads' linears (`heads.….weight` and `heads.….bias`), which adoptParams lays out back to
 * back so that headOutputsAll runs them as one product; null for every other parameter.
 */
export function fusedHeadPart(name: string): 'weight' | 'bias' | null {
  if (!name.startsWith('heads.')) return null;
  return name.endsWith('.weight') ? 'weight' : name.endsWith('.bias') ? 'bias' : null;
}

export type Activation = PartActivation;

export interface PartSpec<Name extends string = string> {
  readonly name: Name;
  readonly size: number;
  readonly activation: Activation;
}

/** A head's activated outputs by part name, typed from its parts list (so a misspelt part does not compile). */
export type HeadOutputs<P extends readonly PartSpec[]> = { readonly [K in P[number]['name']]: Tensor };

/** `out` as the outputs of a head with `parts`. @throws naming a part it does not hold */
export function outputsOf<P extends readonly PartSpec[]>(parts: P, out: Readonly<Record<string, Tensor>>): HeadOutputs<P> {
  for (const p of parts) if (out[p.name] === undefined) throw new Error(`head outputs: no part "${p.name}"`);
  return out as HeadOutputs<P>;
}

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

/**
 * Every part's activated value of head `i` of `layout` from the controller output `hidden` [B, H].
 * Each activation goes through splitActivate, as in headOutputsAll, so both give the same numbers
 * on either kernels.
 */
function headOutputs(store: ParamStore, layout: HeadLayout, i: number, hidden: Tensor): Record<string, Tensor> {
  const { prefix, parts } = layout.specs[i]!, alone = layout.alone[i]!;
  const out: Record<string, Tensor> = {};
  for (let k = 0; k < parts.length; k++) out[parts[k]!.name] = splitActivate(applyLinear(store, `${prefix}.${parts[k]!.name}`, hidden), alone[k]!)[0]!;
  return out;
}

export interface HeadSpec {
  readonly prefix: string;
  readonly parts: readonly PartSpec[];
}

/**
 * A model's heads, in order (for the NTM and the DNC: write heads, then read heads), and what
 * headOutputsAll made to run them as one product, kept with them from step to step.
 */
export class HeadLayout {
  /** the stacked views of the heads' parameters as last made (fusedHeads), or null before the first step */
  fused: FusedHeads | null = null;
  /** per head, each part as a parts list of its own (for splitActivate), made once */
  readonly alone: readonly (readonly (readonly PartSpec[])[])[];
  constructor(readonly specs: readonly HeadSpec[]) {
    this.alone = specs.map((h) => h.parts.map((p) => [p]));
  }
}

interface FusedHeads {
  /** the parameter names and tensors it was made from: a store whose tensors were replaced gets a new one */
  readonly names: readonly string[];
  readonly members: readonly Tensor[];
  readonly datas: readonly Buf[];
  readonly grads: readonly (Buf | null)[];
  /** [ΣO, H]: every part of every head, in order; null when they are not back to back */
  readonly weight: Tensor | null;
  readonly bias: Tensor | null; // [ΣO]
  /** every head's parts, in order */
  readonly parts: readonly PartSpec[];
}

/** One view over `bufs` when they lie back to back on the kernel heap, else null. */
function spanOf(bufs: readonly (Float32Array | Float64Array | null)[]): Float32Array | null {
  const heap = kernelHeapOrNull();
  const first = bufs[0];
  if (heap === null || !(first instanceof Float32Array)) return null;
  let end = first.byteOffset;
  let n = 0;
  for (const b of bufs) {
    if (!(b instanceof Float32Array) || !heap.owns(b) || b.byteOffset !== end) return null;
    end += b.byteLength;
    n += b.length;
  }
  return new Float32Array(heap.memory.buffer, first.byteOffset, n);
}

/** The stacked views of `layout`'s heads' parameters in `store` (those kept in the layout while they still fit). */
function fusedHeads(store: ParamStore, layout: HeadLayout): FusedHeads {
  const cached = layout.fused, heads = layout.specs;
  if (cached !== null && cached.names.every((n, i) => {
    const t = store.get(n), m = cached.members[i]!;
    // the same tensors, still on the buffers the stacked views cover
    return t === m && t.data === cached.datas[i] && t.grad === cached.grads[i];
  })) return cached;
  const parts = heads.flatMap((h) => h.parts.map((p) => `${h.prefix}.${p.name}`));
  const names = [...parts.map((n) => `${n}.weight`), ...parts.map((n) => `${n}.bias`)];
  const members = names.map((n) => param(store, n));
  const ws = members.slice(0, parts.length), bs = members.slice(parts.length);
  const H = ws[0]!.shape[1]!;
  const O = ws.reduce((s, w) => s + w.shape[0]!, 0);
  const w = spanOf(ws.map((t) => t.data)), gw = spanOf(ws.map((t) => t.grad));
  const b = spanOf(bs.map((t) => t.data)), gb = spanOf(bs.map((t) => t.grad));
  let weight: Tensor | null = null, bias: Tensor | null = null;
  if (w && gw && b && gb && ws.every((t) => t.shape[1] === H)) {
    weight = new Tensor(w, [O, H], true);
    weight.grad = gw;
    bias = new Tensor(b, [O], true);
    bias.grad = gb;
  }
  const fused = {
    names, members, datas: members.map((t) => t.data), grads: members.map((t) => t.grad), weight, bias, parts: heads.flatMap((h) => h.parts),
  };
  layout.fused = fused;
  return fused;
}

/** True when headOutputsAll runs these heads as one product (for tests and benchmarks). */
export function headsFused(store: ParamStore, layout: HeadLayout): boolean {
  return layout.specs.length > 0 && fusedHeads(store, layout).weight !== null;
}

/**
 * headOutputs for several heads at once. When the heads' weights, biases and their gradients
 * lie back to back (adoptParams lays a float32 model's out so), every part of every head comes
 * from one product with the stacked [ΣO, H] weights, split into parts and activated by one op
 * (splitActivate): one kernel call instead of one per part, the same values (each column's sum is
 * the same dot product). Otherwise (float64 models, the TypeScript kernels) one linear per part.
 */
export function headOutputsAll(store: ParamStore, layout: HeadLayout, hidden: Tensor): Record<string, Tensor>[] {
  const heads = layout.specs;
  const fused = heads.length > 0 ? fusedHeads(store, layout) : null;
  if (fused === null || fused.weight === null) return heads.map((_, i) => headOutputs(store, layout, i, hidden));
  const values = splitActivate(linear(hidden, fused.weight, fused.bias), fused.parts);
  let i = 0;
  return heads.map((h) => {
    const out: Record<string, Tensor> = {};
    for (const p of h.parts) out[p.name] = values[i++]!;
    return out;
  });
}

export function countParams(store: ParamStore): number {
  let n = 0;
  for (const t of store.values()) n += t.size;
  return n;
}
