/**
 * @file One batch's forward pass, loss and backward pass, accumulating into the parameters'
 * gradients: the work a training step does, shared by the trainer and its gradient workers.
 */
import type { MemoryModel } from '../models/model.js';
import type { Batch } from '../tasks/batch.js';
import { LengthGroups } from '../tasks/groups.js';
import { defaultKernels, heapFor, type KernelChoice } from '../kernels/wasm.js';
import type { KernelHeap } from '../kernels/heap.js';
import { type Buf } from '../tensor/tensor.js';
import type { BufferPool } from '../tensor/pool.js';
import { Tape } from '../tensor/tape.js';
import { OpContext, type JsRecorder } from '../tensor/context.js';
import { StepReplay, type ReplayStats } from './replay.js';
import { lossScale, maskedBceLoss } from './loss.js';

/**
 * @param normaliser the loss divisor (a slice of a batch passes the whole batch's lossScale)
 * @param groupSize samples per length group (src/tasks/groups.ts; train.lengthGroupSize): the
 * batch's samples run longest first, and each group of this many stops at its own longest
 * sample; 0: the whole batch, padded, at once
 * @param atOnce length groups run side by side (train.lengthGroupsAtOnce; 0: all): a time step
 * runs every group of them still going, in one batch (LengthGroups.sideBySide)
 * @returns the loss value (summed over the runs of groups side by side, longest first)
 */
export function accumulateGradients(model: MemoryModel, batch: Batch, steps: StepContext, normaliser = lossScale(batch), groupSize = 0, atOnce = 0): number {
  if (groupSize <= 0) return accumulateOne(model, batch, steps, normaliser, null);
  const g = steps.groups;
  const n = g.plan(batch, groupSize), per = groupsAtOnce(atOnce, n);
  let loss = 0;
  for (let k = 0; k < n; k += per) loss += accumulateOne(model, g.sideBySide(batch, k, Math.min(n, k + per)), steps, normaliser, g.schedule);
  return loss;
}

/** Groups per run side by side, of n: atOnce (a whole number ≥ 0; 0: all). */
function groupsAtOnce(atOnce: number, n: number): number {
  if (!(Number.isInteger(atOnce) && atOnce >= 0)) throw new Error(`length groups at once: ${atOnce} (a whole number ≥ 0; 0: all)`);
  return atOnce > 0 ? atOnce : Math.max(n, 1);
}

/** How a stream of steps runs (StepContext); each setting gives the same results to the bit. */
export interface StepSettings {
  /** its steps are recorded and replayed (replay.ts) where they can be (default true) */
  readonly replay?: boolean;
  /** its training steps' tapes leave weight gradients for the end of the backward pass (Tape.defers; default true) */
  readonly deferWeightGrads?: boolean;
  /**
   * the kernels its ops run: 'wasm' (on this thread's kernel heap, when there is one) or 'ts'
   * (their TypeScript twins); default: the process's default (setKernels) when it is made
   */
  readonly kernels?: KernelChoice;
}

/**
 * What one stream of steps (a trainer's training steps, its evaluation's forward passes, a
 * gradient worker's share) keeps from one step to the next: the pool its steps take their
 * buffers from, the length groups its batches are planned in, the step replay recorded on
 * that pool, and how its steps run (StepSettings). Whoever runs the steps makes one per stream
 * and hands it to every step; a context serves one step at a time.
 */
export class StepContext {
  readonly groups = new LengthGroups();
  /** the step replay recorded on `pool` (made by replayFor, for one model) */
  replay: StepReplay | null = null;
  /** the ordinary step as a function of nothing, for a replay to call when it does not replay (its arguments set per step) */
  readonly ordinary: OrdinaryStep;
  /** its steps are replayed where they can be (StepSettings.replay) */
  readonly replays: boolean;
  /** its tapes defer weight gradients (StepSettings.deferWeightGrads) */
  readonly defersWeightGrads: boolean;
  /** the kernel heap its steps' ops run on (StepSettings.kernels; null: the TypeScript twins) */
  readonly heap: KernelHeap | null;

  constructor(readonly pool: BufferPool, { replay = true, deferWeightGrads = true, kernels = defaultKernels() }: StepSettings = {}) {
    this.replays = replay;
    this.defersWeightGrads = deferWeightGrads;
    this.heap = heapFor(kernels);
    this.ordinary = new OrdinaryStep(this);
  }
}

/** @param rows as MemoryModel.forward's (null: every sample at every step) */
function accumulateOne(model: MemoryModel, batch: Batch, steps: StepContext, normaliser: number, rows: readonly number[] | null): number {
  const replay = replayFor(model, steps);
  if (replay === null) return ordinaryStep(model, batch, steps, normaliser, rows, null)[0]![0]!;
  // (its arguments set for this step: no closure made per step)
  const s = steps.ordinary;
  s.model = model;
  s.batch = batch;
  s.normaliser = normaliser;
  s.rows = rows;
  return replay.run(batch, normaliser, s.run, rows)[0]![0]!;
}

/**
 * A training step the ordinary way: the model's code on a tape, then the backward pass, in a
 * context of its own (a step of the stream's pool, this tape, `recorder`); nothing that holds one
 * of the step's buffers outlives it.
 */
function ordinaryStep(model: MemoryModel, batch: Batch, steps: StepContext, normaliser: number, rows: readonly number[] | null, recorder: JsRecorder | null): Buf[] {
  const tape = new Tape(steps.defersWeightGrads);
  const ctx = OpContext.step(steps.pool, tape, recorder, steps.heap);
  const loss = maskedBceLoss(model.forward(ctx, batch.input, batch.T, batch.B, undefined, rows ?? undefined), batch, normaliser);
  tape.backward(loss);
  return [loss.data];
}

class OrdinaryStep {
  model: MemoryModel | null = null;
  batch: Batch | null = null;
  normaliser = 1;
  rows: readonly number[] | null = null;
  constructor(readonly steps: StepContext) {}
  readonly run = (recorder: JsRecorder | null): Buf[] => ordinaryStep(this.model!, this.batch!, this.steps, this.normaliser, this.rows, recorder);
}

/**
 * The logits of a forward pass on `batch` (evaluation: no tape), valid until `pool`'s next step.
 * @param groupSize, atOnce as accumulateGradients: in length groups, a sample's logits are those
 * of the padded batch to the bit (a sample's logits do not depend on the other samples in its
 * batch), but 0 after its group's last time step (which is after the last it needs: no metric
 * reads them)
 * @returns per time step, [B, Y]
 */
export function forwardLogits(model: MemoryModel, batch: Batch, steps: StepContext, groupSize = 0, atOnce = 0): readonly Buf[] {
  if (groupSize <= 0) return forwardOne(model, batch, steps, null);
  const g = steps.groups;
  const { T, B, Y } = batch;
  const out = Array.from({ length: T }, () => new Float32Array(B * Y));
  const n = g.plan(batch, groupSize), per = groupsAtOnce(atOnce, n);
  for (let k = 0; k < n; k += per) {
    scatterRows(forwardOne(model, g.sideBySide(batch, k, Math.min(n, k + per)), steps, g.schedule), g.order, k * groupSize, Y, out);
  }
  return out;
}

/** out[t] row idx[from + r] = z[t] row r, for every row r of every time step of z (rows of Y). */
export function scatterRows(z: readonly Buf[], idx: readonly number[], from: number, Y: number, out: readonly Float32Array[]): void {
  for (let t = 0; t < z.length; t++) {
    const rows = z[t]!.length / Y;
    for (let r = 0; r < rows; r++) out[t]!.set(z[t]!.subarray(r * Y, (r + 1) * Y), idx[from + r]! * Y);
  }
}

function forwardOne(model: MemoryModel, batch: Batch, steps: StepContext, rows: readonly number[] | null): readonly Buf[] {
  const ordinary = (recorder: JsRecorder | null): Buf[] =>
    model.forward(OpContext.step(steps.pool, null, recorder, steps.heap), batch.input, batch.T, batch.B, undefined, rows ?? undefined).map((z) => z.data);
  const replay = replayFor(model, steps);
  return replay === null ? ordinary(null) : replay.run(batch, 0, ordinary, rows);
}

/** A copy of what the context's step replay has done so far, or null if it has none. */
export function replayStatsOf(steps: StepContext): ReplayStats | null {
  const s = steps.replay?.stats;
  return s === undefined ? null : { ...s, failed: [...s.failed] };
}

/**
 * The context's step replay for `model` (made on first use; see replay.ts), or null when steps
 * cannot be replayed: the context does not replay (StepContext.replays), or runs the TypeScript
 * twins (no kernel heap: StepContext.heap).
 */
export function replayFor(model: MemoryModel, steps: StepContext): StepReplay | null {
  const heap = steps.heap, pool = steps.pool;
  let r = steps.replay;
  if (!steps.replays || heap === null) {
    r?.dropAll(); // the recordings go with the kernels (or with replay): recorded and checked again after
    return null;
  }
  if (r === null || r.model !== model) {
    r?.dropAll();
    r = new StepReplay(model, pool, heap);
    steps.replay = r;
    pool.onClear = null;
  }
  if (pool.onClear === null) {
    const replay = r;
    pool.onClear = () => replay.dropAll();
  }
  return r;
}
