import { DEFAULTS, cloneConfig } from '../src/config/schema.js';
import { createModel } from '../src/models/registry.js';
import { countParams } from '../src/models/params.js';
import { createTask } from '../src/tasks/registry.js';
import { Trainer, seedStreams } from '../src/train/trainer.js';
const c = cloneConfig(DEFAULTS);
const args = process.argv.slice(2);
const small = args[0] === 'small';
if (small) {
  Object.assign(c.task, { bits: 4, minWords: 1, maxWords: 3 });
  Object.assign(c.model, { hiddenSize: 32, memorySlots: 8, wordSize: 8 });
  Object.assign(c.optimizer, { name: 'adam', lr: Number(args[1] ?? 3e-3), eps: 1e-8 });
}
const s = seedStreams(c.seed);
const task = createTask(c.task);
const model = createModel(c.model, task.inputSize, task.outputSize, s.init);
console.log('params', countParams(model.params));
const tr = new Trainer(model, task, c, s);
const t0 = Date.now();
const n = Number(args[2] ?? 20);
for (let i = 0; i < n; i++) {
  tr.trainStep();
  if (tr.step % (small ? 200 : 10) === 0) { const r = tr.evalRecord((Date.now()-t0)/1000); console.log(JSON.stringify(r), ((Date.now()-t0)/tr.step).toFixed(2)+'ms/step'); }
}
console.log('ms/step', (Date.now() - t0) / n);
