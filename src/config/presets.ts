/**
 * @file Named configurations. `ntm-copy` and `dnc-repeat-copy` are the reference project's
 * configurations; the rest are the cross combinations and quicker variants.
 */
import { cloneConfig, DEFAULTS, type Config } from './schema.js';

export interface Preset {
  readonly name: string;
  readonly description: string;
  readonly config: Config;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

function make(over: DeepPartial<Config>): Config {
  const c = cloneConfig(DEFAULTS);
  for (const [k, v] of Object.entries(over)) {
    if (typeof v === 'object') Object.assign((c as unknown as Record<string, object>)[k]!, v);
    else (c as unknown as Record<string, unknown>)[k] = v;
  }
  return c;
}

const COPY = { name: 'copy', bits: 8, minWords: 5, maxWords: 10 } as const;
const REPEAT_COPY = { name: 'repeat-copy', bits: 4, minWords: 1, maxWords: 2, minRepeats: 1, maxRepeats: 2, repeatNorm: 10 } as const;
const NTM = { type: 'ntm', controller: 'lstm', hiddenSize: 100, memorySlots: 128, wordSize: 20, readHeads: 1, writeHeads: 1, shiftRange: 1 } as const;
const DNC = { type: 'dnc', controller: 'lstm', hiddenSize: 64, memorySlots: 16, wordSize: 16, readHeads: 4, writeHeads: 1 } as const;

/** The NTM paper's copy and repeat-copy ranges (§4.1, §4.2): 8-bit words, 1..20 words; 1..10 words, 1..10 repeats. */
const COPY_PAPER = { name: 'copy', bits: 8, minWords: 1, maxWords: 20 } as const;
const REPEAT_COPY_PAPER = { name: 'repeat-copy', bits: 8, minWords: 1, maxWords: 10, minRepeats: 1, maxRepeats: 10, repeatNorm: 10 } as const;
/** Adam with tight clipping, batch 8, as the fast presets: learns the paper tasks in a few thousand steps. */
const PAPER_ADAM = { name: 'adam', lr: 2e-3, eps: 1e-8, clipNorm: 0.05 } as const;
const PAPER_TRAIN = { batchSize: 8, evalEvery: 250, evalBatches: 40, untilBitErrors: 0.1 } as const;
/** The NTM paper's other tasks (§4.3–4.5) at its sizes. */
const ASSOCIATIVE_RECALL = { name: 'associative-recall', bits: 6, itemSize: 3, minItems: 2, maxItems: 6 } as const;
const NGRAMS = { name: 'dynamic-ngrams', ngram: 6, sequenceBits: 200 } as const;
const PRIORITY_SORT = { name: 'priority-sort', bits: 8, sortInputs: 20, sortOutputs: 16 } as const;
/**
 * The LSTM baseline at the NTM paper's size: 3 layers of 256 (1.3 million parameters against the
 * NTM's 63,000). Trained with the same optimiser and batch as the NTM presets it is set beside.
 */
const LSTM_PAPER = { type: 'lstm', hiddenSize: 256, layers: 3 } as const;

export const PRESETS: readonly Preset[] = [
  {
    name: 'ntm-copy',
    description: 'reference NTM on copy (8 bits, 5..10 words), RMSprop 1e-4',
    config: make({ task: COPY, model: NTM }),
  },
  {
    name: 'dnc-repeat-copy',
    description: 'reference DNC on repeat-copy (4 bits, 1..2 words, 1..2 repeats), RMSprop 1e-4',
    config: make({ task: REPEAT_COPY, model: DNC }),
  },
  {
    name: 'ntm-repeat-copy',
    description: 'the reference NTM on the reference repeat-copy task',
    config: make({ task: REPEAT_COPY, model: NTM }),
  },
  {
    name: 'dnc-copy',
    description: 'the reference DNC on the reference copy task',
    config: make({ task: COPY, model: DNC }),
  },
  {
    name: 'ntm-copy-fast',
    description: 'the reference copy task with a smaller NTM (H 64, 32 x 12 memory), batch 8, Adam 2e-2 and tight clipping: learns it in seconds',
    // Gradient norms on the reference loss scale are ~1e-3..1e-1, so clipping at 0.05 bounds
    // every step. A sweep over Adam's rate (one thread, seeds 1..10, eval every 250 steps):
    // 1e-3 took 2000..6250 steps; 3e-3 took 750 but diverged after learning on seed 6;
    // 1e-2 never learned seed 5; 5e-2 never learned seed 1; 2e-2 learned all ten seeds and stayed
    // below 0.1 bit errors per sequence when trained on (seeds 1..6 to 3000 steps, seed 1 to 8000;
    // seed 3 had one spike to 2.3 that recovered by the next evaluation). Kernels that round
    // differently move the trajectories: one build left one seed of twenty stalled near 6 bit
    // errors (at 1e-2 and 5e-3 too, another seed each); the current one, in length groups of 4,
    // learns seeds 1..20 in 250..2000 steps (README).
    // 40 evaluation batches: 320 sequences, as many as 20 batches of 16.
    config: make({
      task: COPY,
      model: { ...NTM, hiddenSize: 64, memorySlots: 32, wordSize: 12 },
      optimizer: { name: 'adam', lr: 2e-2, eps: 1e-8, clipNorm: 0.05 },
      train: { batchSize: 8, steps: 20_000, evalEvery: 250, evalBatches: 40, untilBitErrors: 0.1 },
    }),
  },
  {
    name: 'dnc-repeat-copy-fast',
    description: 'the reference repeat-copy task and DNC (dnc-repeat-copy) with batch 8, Adam 2e-2 and tight clipping: learns it in seconds',
    // The reference model and task, another optimiser. Sweep (one thread, eval every 250 steps):
    // Adam 1e-3 (batch 16) 2250..2500 steps; 3e-3 1000..1500; 1e-2 (batch 8) 750..1250; 2e-2
    // (batch 8) 500..1000 on seeds 1..10, none diverging (seeds 1..6 to 3000 steps, seed 1 to
    // 8000; brief spikes up to 0.9 bit errors after learning, recovered within 500 steps).
    // Clipping at 0.02, 0.05, 0.1 or none made no difference here; 0.05 is kept as a guard.
    config: make({
      task: REPEAT_COPY,
      model: DNC,
      optimizer: { name: 'adam', lr: 2e-2, eps: 1e-8, clipNorm: 0.05 },
      train: { batchSize: 8, steps: 20_000, evalEvery: 250, evalBatches: 40, untilBitErrors: 0.1 },
    }),
  },
  {
    name: 'ntm-copy-small',
    description: 'a small copy task (4 bits, 1..3 words) with a small NTM and Adam: learns in seconds',
    config: make({
      task: { name: 'copy', bits: 4, minWords: 1, maxWords: 3 },
      model: { ...NTM, hiddenSize: 32, memorySlots: 8, wordSize: 8 },
      optimizer: { name: 'adam', lr: 3e-3, eps: 1e-8 },
      train: { steps: 4000, evalEvery: 200, evalBatches: 20, untilBitErrors: 0.05 },
    }),
  },
  {
    name: 'dnc-repeat-copy-small',
    description: 'the reference repeat-copy task with a small DNC (H 32, 8 x 8 memory, 2 read heads) and Adam: learns in seconds',
    config: make({
      task: REPEAT_COPY,
      model: { ...DNC, hiddenSize: 32, memorySlots: 8, wordSize: 8, readHeads: 2 },
      optimizer: { name: 'adam', lr: 3e-3, eps: 1e-8 },
      train: { steps: 5000, evalEvery: 250, evalBatches: 20, untilBitErrors: 0.05 },
    }),
  },
  {
    name: 'lstm-copy-small',
    description: 'the small copy task of ntm-copy-small (4 bits, 1..3 words) with the LSTM baseline (2 layers of 32) and Adam: learns in seconds',
    // Seeds 1..5 fell below 0.05 bit errors per sequence in 1200..1400 steps (about 0.5 s); one layer of 32
    // took 2000..2600 on seeds 1..3. The memory and head keys keep their defaults, which the LSTM ignores.
    config: make({
      task: { name: 'copy', bits: 4, minWords: 1, maxWords: 3 },
      model: { type: 'lstm', hiddenSize: 32, layers: 2 },
      optimizer: { name: 'adam', lr: 3e-3, eps: 1e-8 },
      train: { steps: 4000, evalEvery: 200, evalBatches: 20, untilBitErrors: 0.05 },
    }),
  },
  {
    name: 'ntm-associative-recall-small',
    description: 'a small associative recall (items of one 4-bit vector, 2..4 items) with ntm-copy-small\'s NTM: learns in seconds',
    config: make({
      task: { name: 'associative-recall', bits: 4, itemSize: 1, minItems: 2, maxItems: 4 },
      model: { ...NTM, hiddenSize: 32, memorySlots: 8, wordSize: 8 },
      optimizer: { name: 'adam', lr: 3e-3, eps: 1e-8 },
      train: { steps: 4000, evalEvery: 200, evalBatches: 20, untilBitErrors: 0.1 },
    }),
  },
  {
    name: 'ntm-priority-sort-small',
    description: 'a small priority sort (4 vectors of 3 bits in, the 2 highest-priority out) with ntm-copy-small\'s NTM: learns in seconds',
    config: make({
      task: { name: 'priority-sort', bits: 3, sortInputs: 4, sortOutputs: 2 },
      model: { ...NTM, hiddenSize: 32, memorySlots: 8, wordSize: 8 },
      optimizer: { name: 'adam', lr: 3e-3, eps: 1e-8 },
      train: { steps: 4000, evalEvery: 200, evalBatches: 20, untilBitErrors: 0.1 },
    }),
  },
  {
    name: 'ntm-ngrams-small',
    description: 'small dynamic n-grams (3-grams, 30 bits per sequence) with ntm-copy-small\'s NTM: near the optimal predictor in seconds',
    config: make({
      task: { name: 'dynamic-ngrams', ngram: 3, sequenceBits: 30 },
      model: { ...NTM, hiddenSize: 32, memorySlots: 8, wordSize: 8 },
      optimizer: { name: 'adam', lr: 3e-3, eps: 1e-8 },
      train: { steps: 4000, evalEvery: 200, evalBatches: 20, untilBitErrors: 0 },
    }),
  },
  {
    name: 'ntm-copy-paper',
    description: 'the NTM paper\'s copy task (8 bits, 1..20 words) and NTM (LSTM 100, 1+1 heads, 128 x 20 memory), Adam 7e-4, batch 8, 12,000 steps: copies 120 words',
    // The paper's model and ranges; the optimiser is ntm-copy-fast's with a lower rate, trained on
    // after it learns (the best checkpoint is kept). What an NTM does past the lengths it trained on
    // is settled while it learns: over seeds 1..10 (docs/experiments.md), Adam 2e-3 learned fastest
    // (median 1,250 steps) but got 6% of the bits wrong at 120 words in the median, 1e-3 1.75%,
    // 5e-4 0.11% after a median 6,125 steps; 7e-4 learned every seed (1,500..7,000 steps, median
    // 4,375) and 7 of 10 copied 120 words without an error (median 0.00%, worst 3.1%). 5e-3 and
    // 2e-2 lost seeds. The memory has 128 slots, enough for the 120-word test.
    config: make({
      task: COPY_PAPER, model: NTM, optimizer: { ...PAPER_ADAM, lr: 7e-4 },
      train: { ...PAPER_TRAIN, steps: 12_000, untilBitErrors: 0 },
    }),
  },
  {
    name: 'ntm-repeat-copy-paper',
    description: 'the NTM paper\'s repeat-copy task (8 bits, 1..10 words, 1..10 repeats) and NTM, Adam 5e-3, batch 8',
    // Not reliable: a seed either finds how to read its words back in order within a few
    // thousand steps or stalls at 70..85 bit errors per sequence (it gets the end marker and the
    // first word or two right) for good. Seeds 1..5 (docs/experiments.md): Adam 5e-3 learned 3 of
    // 5 (3,000..7,000 steps); 2e-3 1 of 5 in 15,000 steps, 1e-3 none; 1e-2 learned 1 of 3 and had a
    // fourth near; batch 32 at 1e-3 and clipping at 1 did not help, and a growing curriculum avoided the
    // stall but widened too slowly (to about half the range in 10,000..15,000 steps). A `mix`
    // curriculum learned 2 of 5 in 20,000 steps (seed 4, a staller here, in 6,250..8,500).
    config: make({ task: REPEAT_COPY_PAPER, model: NTM, optimizer: { ...PAPER_ADAM, lr: 5e-3 }, train: { ...PAPER_TRAIN, steps: 40_000 } }),
  },
  {
    name: 'lstm-copy-paper',
    description: 'the LSTM baseline (3 x 256) on the NTM paper\'s copy task, as ntm-copy-paper trains',
    config: make({ task: COPY_PAPER, model: LSTM_PAPER, optimizer: { ...PAPER_ADAM, lr: 7e-4 }, train: { ...PAPER_TRAIN, steps: 12_000, untilBitErrors: 0 } }),
  },
  {
    name: 'lstm-repeat-copy-paper',
    description: 'the LSTM baseline (3 x 256) on the NTM paper\'s repeat-copy task, as ntm-repeat-copy-paper trains',
    config: make({ task: REPEAT_COPY_PAPER, model: LSTM_PAPER, optimizer: { ...PAPER_ADAM, lr: 5e-3 }, train: { ...PAPER_TRAIN, steps: 40_000 } }),
  },
  {
    name: 'ntm-associative-recall',
    description: 'the NTM paper\'s associative recall (items of 3 x 6 bits, 2..6 items) and NTM, Adam 1e-3, batch 32',
    // Seed 1, one thread: Adam 2e-3 (batch 8) was still at 2 bit errors per sequence after 40,000
    // steps. Adam 5e-3 (batch 8) learned seeds 1 and 3 in 6,750 and 2,250 steps, but seeds 2, 4
    // and 5 stalled at 2-3 bit errors for 40,000 steps; on seed 2, Adam 1e-2, clipping at 1, batch
    // 16, a growing curriculum, two read heads and a feed-forward controller stalled too. Batch
    // 32 at Adam 1e-3 (Collier & Beel's setting) learned seed 2 in 2,750 steps.
    config: make({ task: ASSOCIATIVE_RECALL, model: NTM, optimizer: { ...PAPER_ADAM, lr: 1e-3 }, train: { ...PAPER_TRAIN, batchSize: 32, evalBatches: 10, steps: 40_000 } }),
  },
  {
    name: 'lstm-associative-recall',
    description: 'the LSTM baseline (3 x 256) on associative recall, as ntm-associative-recall trains (Adam 1e-3, batch 32)',
    config: make({ task: ASSOCIATIVE_RECALL, model: LSTM_PAPER, optimizer: { ...PAPER_ADAM, lr: 1e-3 }, train: { ...PAPER_TRAIN, batchSize: 32, evalBatches: 10, steps: 40_000 } }),
  },
  {
    name: 'ntm-ngrams',
    description: 'the NTM paper\'s dynamic 6-grams (200 bits per sequence) and NTM, Adam 2e-3, batch 8; reports the Bayes-optimal cost beside its own',
    // the bits are random: no model reaches 0 bit errors, so the run goes its full length
    config: make({ task: NGRAMS, model: NTM, optimizer: PAPER_ADAM, train: { ...PAPER_TRAIN, untilBitErrors: 0, steps: 10_000 } }),
  },
  {
    name: 'lstm-ngrams',
    description: 'the LSTM baseline (3 x 256) on dynamic 6-grams, as ntm-ngrams trains',
    config: make({ task: NGRAMS, model: LSTM_PAPER, optimizer: PAPER_ADAM, train: { ...PAPER_TRAIN, untilBitErrors: 0, steps: 10_000 } }),
  },
  {
    name: 'ntm-priority-sort',
    description: 'the NTM paper\'s priority sort (20 vectors of 8 bits in, the 16 highest-priority out) and an NTM with 2 write and 2 read heads, Adam 2e-3, batch 8',
    config: make({ task: PRIORITY_SORT, model: { ...NTM, writeHeads: 2, readHeads: 2 }, optimizer: PAPER_ADAM, train: { ...PAPER_TRAIN, untilBitErrors: 0, steps: 20_000 } }),
  },
  {
    name: 'lstm-priority-sort',
    description: 'the LSTM baseline (3 x 256) on priority sort, as ntm-priority-sort trains',
    config: make({ task: PRIORITY_SORT, model: LSTM_PAPER, optimizer: PAPER_ADAM, train: { ...PAPER_TRAIN, untilBitErrors: 0, steps: 20_000 } }),
  },
];

export function presetNames(): string[] {
  return PRESETS.map((p) => p.name);
}

export function findPreset(name: string): Preset | undefined {
  return PRESETS.find((p) => p.name === name);
}
