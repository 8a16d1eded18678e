/**
 * @file The memory inspector's data: runs a model on a batch with a step observer and packs
 * one batch element's per-step memory, head weightings and signals into plain arrays.
 * Knows the signal names of models/ntm.ts and models/dnc.ts (`write.0.gate`, `usage`, …). The
 * LSTM baseline has no memory and no heads: its inspection is the bit grids alone (N = W = 0).
 */
import type { MemoryModel, StepSnapshot } from '../models/model.js';
import type { Batch } from '../tasks/batch.js';
import type { Tensor } from '../tensor/tensor.js';
import { OpContext } from '../tensor/context.js';
import type { DncSignals, Inspection, NtmHeadSignals, Series } from './protocol.js';

/** Values are rounded to this many decimals: a heatmap cannot show more, and JSON stays small. */
const DECIMALS = 1e4;
/** The link matrix [T, Wh, N, N] is left out above this many values (N = 128 would be ~1.4 M per head). */
export const MAX_LINK_VALUES = 1 << 21;

const round = (v: number): number => (Number.isFinite(v) ? Math.round(v * DECIMALS) / DECIMALS : 0);

/** Collects, step by step, one batch element's slice of a [B, ...] tensor into a [T, ...] series. */
class Collector {
  private readonly data: number[] = [];
  private rest: number[] | null = null;
  private steps = 0;

  add(x: Tensor, b: number): void {
    const [B, ...rest] = x.shape;
    const k = x.size / B!;
    this.rest ??= rest;
    for (let i = 0; i < k; i++) this.data.push(round(x.data[b * k + i]!));
    this.steps++;
  }

  series(): Series {
    return { shape: [this.steps, ...(this.rest ?? [])], data: this.data };
  }
}

/**
 * @param batch a batch from the model's task
 * @param b the batch element to inspect
 * @param step the training step of the model's weights, when known
 */
/** @param lengthName what the sample's length counts (the task's Task.lengthName) */
export function inspectBatch(model: MemoryModel, batch: Batch, b: number, title: string, step: number | null, lengthName = 'words'): Inspection {
  const { T, B, X, Y } = batch;
  if (b < 0 || b >= B) throw new Error(`inspectBatch: element ${b} is outside the batch of ${B}`);
  const cfg = model.config;
  const memoryless = cfg.type === 'lstm';
  const N = memoryless ? 0 : cfg.memorySlots, W = memoryless ? 0 : cfg.wordSize;
  const Wh = memoryless ? 0 : cfg.writeHeads, R = memoryless ? 0 : cfg.readHeads;
  const memory = new Collector();
  const writes = Array.from({ length: Wh }, () => new Collector());
  const reads = Array.from({ length: R }, () => new Collector());
  const signals = new Map<string, Collector>();
  const wantLink = T * Wh * N * N <= MAX_LINK_VALUES;

  const logits = model.forward(OpContext.plain, batch.input, T, B, (_t: number, s: StepSnapshot) => {
    memory.add(s.memory, b);
    s.writeWeights.forEach((w, h) => writes[h]!.add(w, b));
    s.readWeights.forEach((w, i) => reads[i]!.add(w, b));
    for (const [name, x] of Object.entries(s.signals)) {
      if (name === 'link' && !wantLink) continue;
      if (name.endsWith('.key') || name.endsWith('.add') || name.endsWith('.erase') || name.endsWith('.vector')) continue;
      let c = signals.get(name);
      if (!c) signals.set(name, (c = new Collector()));
      c.add(x, b);
    }
  });

  const input: number[] = [], target: number[] = [], mask: number[] = [], output: number[] = [];
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < X; j++) input.push(batch.input[(t * B + b) * X + j]!);
    for (let j = 0; j < Y; j++) target.push(batch.target[(t * B + b) * Y + j]!);
    mask.push(batch.mask[t * B + b]!);
    for (let j = 0; j < Y; j++) output.push(round(1 / (1 + Math.exp(-logits[t]!.data[b * Y + j]!))));
  }

  const sig = (name: string): Series => {
    const c = signals.get(name);
    if (!c) throw new Error(`inspectBatch: the ${cfg.type} model reported no signal "${name}"`);
    return flatten1(c.series());
  };
  let ntm: Inspection['ntm'] = null;
  let dnc: DncSignals | null = null;
  if (cfg.type === 'ntm') {
    const head = (kind: 'write' | 'read', i: number): NtmHeadSignals => ({
      head: `${kind} ${i}`,
      gate: sig(`${kind}.${i}.gate`),
      shift: sig(`${kind}.${i}.shift`),
      gamma: sig(`${kind}.${i}.gamma`),
      beta: sig(`${kind}.${i}.beta`),
    });
    ntm = {
      heads: [
        ...Array.from({ length: Wh }, (_, i) => head('write', i)),
        ...Array.from({ length: R }, (_, i) => head('read', i)),
      ],
    };
  } else if (cfg.type === 'dnc') {
    const modeNames = [
      ...Array.from({ length: Wh }, (_, h) => `backward ${h}`),
      ...Array.from({ length: Wh }, (_, h) => `forward ${h}`),
      'content',
    ];
    dnc = {
      usage: sig('usage'),
      writeHeads: Array.from({ length: Wh }, (_, h) => ({
        head: `write ${h}`,
        allocation: sig(`write.${h}.allocation`),
        allocGate: sig(`write.${h}.allocGate`),
        writeGate: sig(`write.${h}.writeGate`),
      })),
      readHeads: Array.from({ length: R }, (_, i) => ({ head: `read ${i}`, free: sig(`read.${i}.free`), modes: sig(`read.${i}.mode`) })),
      modeNames,
      link: wantLink ? sig('link') : null,
    };
  }

  return {
    title, model: cfg.type, step, T, N, W, X, Y,
    words: batch.lengths[b]!,
    lengthName,
    input: { shape: [T, X], data: input },
    target: { shape: [T, Y], data: target },
    mask: { shape: [T], data: mask },
    output: { shape: [T, Y], data: output },
    writeWeights: writes.map((c) => c.series()),
    readWeights: reads.map((c) => c.series()),
    memory: memoryless ? { shape: [T, 0, 0], data: [] } : memory.series(),
    ntm,
    dnc,
  };
}

/** A per-step scalar arrives as [T, 1]; the page wants [T]. */
function flatten1(s: Series): Series {
  return s.shape.length === 2 && s.shape[1] === 1 ? { shape: [s.shape[0]!], data: s.data } : s;
}
