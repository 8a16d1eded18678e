/**
 * @file Dynamic memory allocation (DNC paper Methods "Dynamic memory allocation", eq. for a_t;
 * DeepMind `Freeness._allocation` and `write_allocation_weights`):
 *   û = ε + (1 − ε)·u
 *   φ = the slot indices sorted by û ascending (freest first)
 *   a[φ_j] = (1 − û[φ_j]) · Π_{i<j} û[φ_i]                 exclusive cumulative product
 * With several write heads, head h allocates from a local usage advanced by the heads before it:
 *   u ← u + (1 − u)·g_a·g_w·a_h                             (DeepMind's rule)
 * The stored usage is never modified (the reference updates it in place, which leaks into
 * the next step). Σ_n a[n] = 1 − Π_n û[n] ≤ 1.
 * On float32 with the WASM kernels allocationWeights runs as a kernel (src/kernels/assembly/allocation.ts)
 * that gives the same values and order, ties included, bit for bit; the loops here are its twin.
 */
import { allocationBackwardWasm, allocationForwardWasm, type AllocationSaved } from '../kernels/memory.js';
import { expectShape, type Buf, type Tensor } from '../tensor/tensor.js';
import { op1 } from '../tensor/op.js';
import { ALLOCATION_EPS } from '../kernels/constants.js';

type F = Float32Array;

/** ε in û = ε + (1 − ε)·u (DeepMind's value; why: kernels/constants.ts), shared with the kernel. */
export { ALLOCATION_EPS };

/**
 * The slots of one batch row in allocation order: û ascending, ties broken by the lower
 * slot index first (what DeepMind's `top_k` on 1 − û gives, and what a stable sort gives).
 * @param u usage buffer, row at offset o, N entries
 */
export function freeOrder(u: ArrayLike<number>, o: number, N: number): number[] {
  const idx = Array.from({ length: N }, (_, i) => i);
  idx.sort((a, b) => u[o + a]! - u[o + b]! || a - b);
  return idx;
}

/**
 * Allocation weights of one write head. The sort order is treated as a constant: the gradient
 * flows through the allocation values to the usage, never through the permutation.
 * @param usage u [B, N], entries in [0, 1]
 * @returns a [B, N], entries ≥ 0 summing to ≤ 1
 */
export function allocationWeights(usage: Tensor): Tensor {
  const [B, N] = usage.shape as [number, number];
  expectShape('allocationWeights', 'usage', usage, [B, N]);
  return op1<TwinSaved | AllocationSaved>({
    inputs: [usage],
    outputs: [[B, N]],
    // each written in full: û, the prefix products P_j = Π_{i<j} û[φ_i] in sorted position j,
    // and φ per batch row (the kernel's as int32 slot indices in a float32 buffer)
    save: (dt, onKernel, ctx) => onKernel
      ? { hat: ctx.allocOverwritten('f32', B * N) as F, order: ctx.allocOverwritten('f32', B * N) as F, prefix: ctx.allocOverwritten('f32', B * N) as F }
      : { hat: ctx.allocOverwritten(dt, B * N), prefix: ctx.allocOverwritten(dt, B * N), order: [] },
    forward: ([u], [a], saved) => {
      const { hat, prefix, order } = saved as TwinSaved;
      for (let x = 0; x < B * N; x++) hat[x] = ALLOCATION_EPS + (1 - ALLOCATION_EPS) * u![x]!;
      order.length = 0;
      for (let b = 0; b < B; b++) {
        const phi = freeOrder(hat, b * N, N);
        order.push(phi);
        let p = 1;
        for (let j = 0; j < N; j++) {
          const sj = hat[b * N + phi[j]!]!;
          prefix[b * N + j] = p;
          a![b * N + phi[j]!] = (1 - sj) * p;
          p *= sj;
        }
      }
    },
    backward: (_x, _y, saved, [gy], [gu]) => {
      const { hat, prefix, order } = saved as TwinSaved;
      for (let b = 0; b < B; b++) {
        const phi = order[b]!;
        // With s_j = û[φ_j], G_j = dL/da[φ_j] and P_j as above:
        //   dL/ds_k = P_k·(Q_k − G_k),  Q_k = Σ_{j>k} G_j (1 − s_j) Π_{k<i<j} s_i
        //   Q_{N−1} = 0,  Q_{k−1} = G_k (1 − s_k) + s_k Q_k      (no division by s)
        let q = 0;
        for (let k = N - 1; k >= 0; k--) {
          const n = b * N + phi[k]!;
          const sk = hat[n]!, g = gy![n]!;
          gu![n]! += (1 - ALLOCATION_EPS) * prefix[b * N + k]! * (q - g);
          q = g * (1 - sk) + sk * q;
        }
      }
    },
    kernel: {
      accepts: (ctx) => ctx.heap !== null,
      forward: ([u], [a], saved, ctx) => allocationForwardWasm(ctx.heap, u!, saved as AllocationSaved, a!, B, N),
      backward: (_x, _y, saved, [gy], [gu], _fresh, ctx) => allocationBackwardWasm(ctx.heap, saved as AllocationSaved, gy!, gu!, B, N),
    },
  });
}

/** What the twin saves for its backward pass: û and the prefix products [B, N], φ per batch row. */
interface TwinSaved {
  hat: Buf; prefix: Buf; order: number[][];
}

/**
 * The local usage seen by the next write head: u + (1 − u)·g_a·g_w·a.
 * @param usage u [B, N]  @param allocation a [B, N]
 * @param allocGate g_a [B, 1]  @param writeGate g_w [B, 1]
 * @returns [B, N]
 */
export function advanceUsage(usage: Tensor, allocation: Tensor, allocGate: Tensor, writeGate: Tensor): Tensor {
  const [B, N] = usage.shape as [number, number];
  expectShape('advanceUsage', 'allocation', allocation, [B, N]);
  expectShape('advanceUsage', 'allocation gate', allocGate, [B, 1]);
  expectShape('advanceUsage', 'write gate', writeGate, [B, 1]);
  return op1({
    inputs: [usage, allocation, allocGate, writeGate],
    outputs: [[B, N]],
    forward: ([u, a, ga, gw], [out]) => {
      for (let b = 0; b < B; b++) {
        const g = ga![b]! * gw![b]!;
        for (let n = 0; n < N; n++) out![b * N + n] = u![b * N + n]! + (1 - u![b * N + n]!) * g * a![b * N + n]!;
      }
    },
    backward: ([u, a, ga, gw], _y, _s, [gy], [du, da, dga, dgw]) => {
      for (let b = 0; b < B; b++) {
        const g = ga![b]! * gw![b]!;
        let dg = 0; // dL/d(g_a g_w)
        for (let n = 0; n < N; n++) {
          const x = b * N + n;
          const d = gy![x]!;
          if (du) du[x]! += d * (1 - g * a![x]!);
          if (da) da[x]! += d * (1 - u![x]!) * g;
          dg += d * (1 - u![x]!) * a![x]!;
        }
        if (dga) dga[b]! += dg * gw![b]!;
        if (dgw) dgw[b]! += dg * ga![b]!;
      }
    },
  });
}

export interface AllocationGates {
  readonly allocGate: Tensor; // g_a [B, 1]
  readonly writeGate: Tensor; // g_w [B, 1]
}

/**
 * Allocation weights for every write head in turn (DeepMind's `write_allocation_weights`).
 * @param usage u_t [B, N], not modified
 * @param gates g_a, g_w per write head
 * @returns a_h per write head, each [B, N]
 */
export function writeAllocations(usage: Tensor, gates: readonly AllocationGates[]): Tensor[] {
  const out: Tensor[] = [];
  let u = usage;
  gates.forEach((g, h) => {
    const a = allocationWeights(u);
    out.push(a);
    if (h < gates.length - 1) u = advanceUsage(u, a, g.allocGate, g.writeGate);
  });
  return out;
}
