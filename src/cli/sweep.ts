/**
 * @file `engram sweep`: parses flags, runs the sweep (run/sweep.ts) on this machine's cores or
 * on a queue (queue/submit.ts), and prints the summary per combination.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { intFlag, numberFlag, parseFlags } from './args.js';
import { UserError } from './errors.js';
import { faultsFromEnv } from './test-faults.js';
import { RunLog } from '../run/log.js';
import { LocalPool, runSweep, type SweepExecutor } from '../run/sweep.js';
import { parseGrid, parseSeeds, planSweep, type SweepSpec } from '../run/sweep-plan.js';
import { formatSummary } from '../run/sweep-summary.js';
import { readSweepFile } from '../run/sweep-file.js';
import { parseQueueUrl } from '../queue/queue-url.js';

export const SWEEP_HELP = `usage: engram sweep --preset NAME --seeds A-B|A,B,... [--grid key=v1,v2,...]... [--set key=value]...
                    [--until-bit-errors X] [--sweep-dir DIR] [--parallel N] [--queue redis://HOST:PORT] [--json]
       engram sweep --sweep-dir DIR [--parallel N] [--queue URL] [--json]   (go on with the sweep in DIR)

  --preset NAME          the preset every run starts from (engram presets)
  --seeds A-B|A,B,...    the seeds: each combination runs once per seed
  --grid key=v1,v2,...   a config key and its values; several --grid flags make every combination
  --set key=value        override a config key in every run
  --until-bit-errors X   stop each run once evaluation bit errors per sequence fall below X (and
                         count it as learned); default: the preset's (else learned means below 0.1)
  --sweep-dir DIR        where the runs go: DIR/{combination}/seed-{S}/ and DIR/sweep.json
                         (default sweeps/PRESET-TIMESTAMP); the same command again skips finished
                         runs and resumes the others from their checkpoints
  --parallel N           runs at once, each on one thread (default: one per core)
  --queue URL            put the runs on a BullMQ queue in Redis (redis:// or rediss://, a
                         password in the URL works) for \`engram worker\`s on any machines; their
                         metrics, logs and checkpoints come back here
  --json                 print sweep.json's summary as one JSON object on the last line
  Exit status: 0 when every run finished, 1 when some failed, 130 when stopped (Ctrl-C).`;

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

export async function sweepCommand(argv: string[]): Promise<number> {
  const f = parseFlags('sweep', argv, {
    preset: { type: 'string' },
    seeds: { type: 'string' },
    grid: { type: 'string', multiple: true },
    set: { type: 'string', multiple: true },
    'until-bit-errors': { type: 'string' },
    'sweep-dir': { type: 'string' },
    parallel: { type: 'string' },
    queue: { type: 'string' },
    task: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (f.help) {
    console.log(SWEEP_HELP);
    return 0;
  }
  if (typeof f.task === 'string') {
    throw new UserError(f.queue !== undefined
      ? '--task cannot go with --queue: a queued run carries a config only, never code to load'
      : '--task: a sweep runs built-in tasks only; train your own task with engram train --task');
  }
  const parallel = intFlag('parallel', f.parallel, 1, 256) ?? availableParallelism();
  const queue = typeof f.queue === 'string' ? parseQueueUrl(f.queue) : null;
  let spec: SweepSpec | null = null;
  if (typeof f.preset === 'string') {
    if (typeof f.seeds !== 'string') throw new UserError('engram sweep needs --seeds A-B (or A,B,...) with --preset');
    spec = {
      preset: f.preset,
      seeds: parseSeeds(f.seeds),
      grid: ((f.grid as string[] | undefined) ?? []).map(parseGrid),
      set: (f.set as string[] | undefined) ?? [],
      ...(f['until-bit-errors'] !== undefined ? { untilBitErrors: numberFlag('until-bit-errors', f['until-bit-errors']) } : {}),
    };
    planSweep(spec); // every combination's config checked before anything is made
  } else {
    const given = ['seeds', 'grid', 'set', 'until-bit-errors'].filter((k) => f[k] !== undefined);
    if (typeof f['sweep-dir'] !== 'string') throw new UserError('engram sweep needs --preset NAME --seeds A-B, or --sweep-dir DIR to go on with a sweep');
    if (given.length > 0) throw new UserError(`--${given[0]} needs --preset (the sweep in --sweep-dir keeps its own settings)`);
    if (readSweepFile(f['sweep-dir']) === null) throw new UserError(`${f['sweep-dir']} holds no sweep; start one with --preset NAME --seeds A-B`);
  }
  const sweepDir = typeof f['sweep-dir'] === 'string' ? f['sweep-dir'] : join('sweeps', `${spec!.preset}-${timestamp()}`);
  // bullmq is loaded only for a queue
  const submitter = queue !== null ? await (await import('../queue/submit.js')).QueueSubmitter.connect(queue) : null;
  const executor: SweepExecutor = submitter ?? new LocalPool(parallel, faultsFromEnv());
  let result;
  try {
    result = await runSweep({ sweepDir, spec, executor, log: new RunLog(null) });
  } finally {
    await submitter?.close();
  }
  console.log(formatSummary(result.file.summary));
  console.log(`sweep: ${join(result.sweepDir, 'sweep.json')}`);
  const failed = result.file.runs.filter((r) => r.status === 'failed').length;
  if (failed > 0) console.log(`${failed} of ${result.file.runs.length} runs failed (their errors are in sweep.json); the same command tries them again`);
  if (result.interrupted) console.log(`not finished; go on with: npx engram sweep --sweep-dir ${result.sweepDir}${queue !== null ? ` --queue ${queue.shown} (with its password, if it has one)` : ''}`);
  if (f.json) console.log(JSON.stringify({ sweepDir: result.sweepDir, complete: result.file.complete, summary: result.file.summary, runs: result.file.runs }));
  return result.interrupted ? 130 : failed > 0 ? 1 : 0;
}
