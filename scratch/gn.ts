import { findPreset } from '../src/config/presets.js';
import { cloneConfig, applyOverride } from '../src/config/schema.js';
import { createModel } from '../src/models/registry.js';
import { createTask } from '../src/tasks/registry.js';
import { Trainer, seedStreams } from '../src/train/trainer.js';
const c = cloneConfig(findPreset(process.argv[2]!)!.config);
for (const s of process.argv.slice(4)) applyOverride(c, s);
const s = seedStreams(c.seed);
const task = createTask(c.task);
const model = createModel(c.model, task.inputSize, task.outputSize, s.init);
const tr = new Trainer(model, task, c, s);
const n = Number(process.argv[3]);
let norms: number[] = [];
const t0 = performance.now();
while (tr.step < n) {
  const r = tr.trainStep();
  norms.push(r.gradNorm);
  if (tr.step % 250 === 0) {
    norms.sort((a, b) => a - b);
    const m = tr.evalRecord((performance.now() - t0) / 1000);
    console.log(tr.step, 'gradnorm p50', norms[norms.length >> 1]!.toExponential(2), 'max', norms[norms.length - 1]!.toExponential(2), 'biterr', m.bitErrorsPerSeq.toFixed(3), 'sec', m.elapsedSec.toFixed(0));
    norms = [];
  }
}
