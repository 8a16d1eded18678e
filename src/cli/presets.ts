/**
 * @file `engram presets`: one line per preset, or --json.
 */
import { PRESETS } from '../config/presets.js';
import { createModel } from '../models/registry.js';
import { countParams } from '../models/params.js';
import { createTask } from '../tasks/registry.js';
import { Rng } from '../tensor/random.js';
import { parseFlags } from './args.js';

export function parameterCount(config: (typeof PRESETS)[number]['config']): number {
  const task = createTask(config.task);
  return countParams(createModel(config.model, task.inputSize, task.outputSize, new Rng(0)).params);
}

export function presetsCommand(argv: string[]): number {
  const f = parseFlags('presets', argv, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (f.help) {
    console.log('usage: engram presets [--json]\n\n  --json   print an array of {name, description, config, parameterCount}');
    return 0;
  }
  const rows = PRESETS.map((p) => ({ name: p.name, description: p.description, config: p.config, parameterCount: parameterCount(p.config) }));
  if (f.json) {
    console.log(JSON.stringify(rows));
    return 0;
  }
  for (const r of rows) {
    console.log(`${r.name.padEnd(22)} ${r.config.model.type.padEnd(4)} ${r.config.task.name.padEnd(12)} ` +
      `${r.parameterCount.toLocaleString('en-US').padStart(8)} params  ${r.description}`);
  }
  return 0;
}
