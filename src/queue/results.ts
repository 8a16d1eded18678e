/**
 * @file How a sweep's runs travel through Redis: the job a worker takes (a RunSpec and the
 * sweep's id, checked here field by field before anything else reads it) and the keys its
 * results come back in. Everything is keyed by the sweep's id, so two sweeps on one queue
 * never see each other's results.
 *
 *   engram:sweep:{id}:events        a stream: start / eval / done / failed, per run
 *   engram:sweep:{id}:run:{name}    a hash: the run's last shipped checkpoint (its files, its
 *                                   step and evaluation record): where a run resumes from
 *
 * A worker ships an evaluation with one script: the checkpoint (unless one of a later step is
 * there already) and the event go in together, so the stream never lacks the evaluation of a
 * checkpoint that a resumed run starts after.
 */
import type { Redis } from 'ioredis';
import type { EvalRecord } from '../train/trainer.js';
import { SHIPPED_FILES } from '../run/child-protocol.js';
import type { RunSpec } from '../run/sweep-plan.js';
import { KEY_PREFIX } from './connection.js';

/** Results are kept this long in Redis (the submitting machine may be away for a while). */
export const RESULT_TTL_SEC = 30 * 24 * 3600;

/** A job on the queue: one run of one sweep, as data only. */
export interface RunJob extends RunSpec {
  readonly sweep: string;
  /** `{combination}/seed-{S}`: the run's directory inside the sweep directory */
  readonly run: string;
}

export const eventsKey = (sweep: string): string => `${KEY_PREFIX}:sweep:${sweep}:events`;
export const checkpointKey = (sweep: string, run: string): string => `${KEY_PREFIX}:sweep:${sweep}:run:${run}`;

const SWEEP_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** a combination's name (as sweep-plan.ts makes it: no separators, no leading dot), then the seed */
const RUN = /^[A-Za-z0-9_][A-Za-z0-9_.@+=,-]{0,199}\/seed-\d{1,10}$/;

/** The job's data if it is a well-formed RunJob, else a one-line reason (nothing in it is used then). */
export function checkRunJob(data: unknown): RunJob | string {
  const d = data as Partial<Record<keyof RunJob, unknown>> | null;
  if (typeof d !== 'object' || d === null) return 'the job is not an object';
  const extra = Object.keys(d).filter((k) => !['sweep', 'run', 'preset', 'overrides', 'seed'].includes(k));
  if (extra.length > 0) return `the job has unknown fields (${extra.slice(0, 3).join(', ')})`;
  if (typeof d.sweep !== 'string' || !SWEEP_ID.test(d.sweep)) return 'the job names no sweep id';
  if (typeof d.run !== 'string' || !RUN.test(d.run)) return 'the job names no run directory';
  if (typeof d.preset !== 'string' || d.preset.length > 100) return 'the job names no preset';
  if (!Array.isArray(d.overrides) || d.overrides.length > 200 || d.overrides.some((o) => typeof o !== 'string' || o.length > 1000)) {
    return 'the job\'s overrides are not a list of key=value texts';
  }
  if (typeof d.seed !== 'number' || !Number.isInteger(d.seed) || d.seed < 0 || d.seed > 0xffffffff) return 'the job\'s seed is not a whole number';
  return { sweep: d.sweep, run: d.run, preset: d.preset, overrides: d.overrides as string[], seed: d.seed };
}

export type SweepEvent =
  | { readonly type: 'start'; readonly run: string; readonly step: number }
  | { readonly type: 'eval'; readonly run: string; readonly record: EvalRecord; readonly log: readonly string[]; readonly dir: string }
  | { readonly type: 'done'; readonly run: string; readonly log: readonly string[]; readonly dir: string }
  | { readonly type: 'failed'; readonly run: string; readonly error: string; readonly log: readonly string[] };

/** Adds an event (other than an evaluation's: shipEval) to the sweep's stream. */
export async function addEvent(redis: Redis, sweep: string, e: SweepEvent): Promise<void> {
  await redis.multi().xadd(eventsKey(sweep), '*', 'e', JSON.stringify(e)).expire(eventsKey(sweep), RESULT_TTL_SEC).exec();
}

// ARGV: step, record, event, ttl, the number of copies N, N pairs (to, from: a file field that
// is another's very bytes, copied inside Redis instead of sent twice), then the file pairs. A copy
// from a field not sent is refused before anything is written (a script is not rolled back).
const SHIP_SCRIPT = `
local cur = tonumber(redis.call('HGET', KEYS[1], 'step') or '-1')
if tonumber(ARGV[1]) >= cur then
  local copies = tonumber(ARGV[5])
  local sent = {}
  for i = 6 + 2 * copies, #ARGV, 2 do sent[ARGV[i]] = true end
  for i = 0, copies - 1 do
    if not sent[ARGV[7 + 2 * i]] then return redis.error_reply('a copy names a field the shipment does not set') end
  end
  redis.call('HSET', KEYS[1], 'step', ARGV[1], 'record', ARGV[2], unpack(ARGV, 6 + 2 * copies))
  for i = 0, copies - 1 do
    redis.call('HSET', KEYS[1], ARGV[6 + 2 * i], redis.call('HGET', KEYS[1], ARGV[7 + 2 * i]))
  end
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
redis.call('XADD', KEYS[2], '*', 'e', ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return 1`;

type ShipCommand = (hash: string, stream: string, step: string, record: string, event: string, ttl: string, copies: string, ...fields: (string | Buffer)[]) => Promise<number>;

/**
 * The hash fields a shipment sets: `pairs` (field, bytes) to send, and `copies` (field, field it
 * copies) for a file that is the same object as one sent (of two names for one object, the first
 * in `files` is sent).
 */
export function shipFields(files: Readonly<Record<string, Uint8Array>>): { copies: string[]; pairs: (string | Buffer)[] } {
  const entries = Object.entries(files);
  const copies: string[] = [];
  const pairs: (string | Buffer)[] = [];
  entries.forEach(([name, bytes], i) => {
    const first = entries.findIndex(([, b]) => b === bytes);
    if (first < i) copies.push(`file:${name}`, `file:${entries[first]![0]}`);
    else pairs.push(`file:${name}`, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });
  return { copies, pairs };
}

/**
 * An evaluation, with the checkpoint files written right after it, into the sweep's keys
 * (atomically). A file that is the same object as another (a new best: see Shipment) goes once.
 */
export async function shipEval(redis: Redis, sweep: string, run: string, record: EvalRecord, files: Readonly<Record<string, Uint8Array>>, log: readonly string[], dir: string): Promise<void> {
  const r = redis as Redis & { engramShip?: ShipCommand };
  if (r.engramShip === undefined) r.defineCommand('engramShip', { numberOfKeys: 2, lua: SHIP_SCRIPT });
  const { copies, pairs } = shipFields(files);
  const event: SweepEvent = { type: 'eval', run, record, log, dir };
  await r.engramShip!(checkpointKey(sweep, run), eventsKey(sweep), String(record.step), JSON.stringify(record), JSON.stringify(event), String(RESULT_TTL_SEC), String(copies.length / 2), ...copies, ...pairs);
}

export interface ShippedCheckpoint {
  readonly step: number;
  readonly record: EvalRecord;
  readonly files: ReadonlyMap<string, Buffer>;
}

/** The run's last shipped checkpoint, or null. */
export async function fetchCheckpoint(redis: Redis, sweep: string, run: string): Promise<ShippedCheckpoint | null> {
  const h = await redis.hgetallBuffer(checkpointKey(sweep, run));
  if (h.step === undefined || h.record === undefined) return null;
  const files = new Map<string, Buffer>();
  for (const name of SHIPPED_FILES) {
    const b = h[`file:${name}`];
    if (b !== undefined) files.set(name, b);
  }
  return { step: Number(h.step.toString()), record: JSON.parse(h.record.toString()) as EvalRecord, files };
}
