/**
 * @file Builds a task from its config: a built-in task by name, or a user's task registered
 * under its own name (registerTask; the command line registers a module given by --task FILE).
 */
import { BUILT_IN_TASKS, type TaskConfig } from '../config/schema.js';
import { Rng } from '../tensor/random.js';
import type { Task } from './batch.js';
import { associativeRecallTask } from './associative-recall.js';
import { copyTask } from './copy.js';
import { dynamicNgramsTask } from './dynamic-ngrams.js';
import { prioritySortTask } from './priority-sort.js';
import { repeatCopyTask } from './repeat-copy.js';

/** A user's task: made from the run's task config, so it may read its keys (bits, minWords …). */
export type TaskFactory = (cfg: TaskConfig) => UserTask;

/**
 * What a user's task must have: a name, its widths and `sample`. The rest of Task is filled
 * in when absent: lengths from task.minWords..task.maxWords, lengthName "words", one curriculum
 * level, and steps(length) from the T of a one-sample batch of that length.
 */
export type UserTask = Pick<Task, 'name' | 'inputSize' | 'outputSize' | 'sample'> & Partial<Task>;

/** A task built from a user's module could not be used; the message says why, in one line. */
export class TaskError extends Error {}

const registered = new Map<string, TaskFactory>();

/**
 * Registers a user's task under `name`: createTask builds it for a config whose task.name is
 * `name` and whose task.module is set (the path it was loaded from, kept in config.json).
 */
export function registerTask(name: string, factory: TaskFactory): void {
  if (BUILT_IN_TASKS.includes(name)) throw new TaskError(`a user's task cannot take the built-in name "${name}"; rename it`);
  registered.set(name, factory);
}

export function createTask(cfg: TaskConfig): Task {
  if (cfg.module !== '') {
    const make = registered.get(cfg.name);
    if (make === undefined) {
      throw new TaskError(`the task "${cfg.name}" comes from the module ${cfg.module}; pass --task ${cfg.module} to load it`);
    }
    return completeTask(make(cfg), cfg);
  }
  switch (cfg.name) {
    case 'copy':
      return copyTask(cfg);
    case 'repeat-copy':
      return repeatCopyTask(cfg);
    case 'associative-recall':
      return associativeRecallTask(cfg);
    case 'dynamic-ngrams':
      return dynamicNgramsTask(cfg);
    case 'priority-sort':
      return prioritySortTask(cfg);
    default:
      throw new TaskError(`no task "${cfg.name}"`);
  }
}

/** A user's task checked, with the optional parts of Task filled in. @throws TaskError naming what is wrong */
export function completeTask(t: UserTask, cfg: TaskConfig): Task {
  const bad = (what: string): never => {
    throw new TaskError(`the task ${typeof t?.name === 'string' ? `"${t.name}" ` : ''}from ${cfg.module || 'registerTask'} ${what}`);
  };
  if (typeof t !== 'object' || t === null) bad('is not an object');
  if (typeof t.name !== 'string' || t.name === '') bad('has no name (a string)');
  for (const k of ['inputSize', 'outputSize'] as const) if (!(Number.isInteger(t[k]) && t[k] >= 1)) bad(`needs ${k}, a whole number ≥ 1`);
  if (typeof t.sample !== 'function') bad('needs a sample(rng, batchSize, options) function');
  const lengths = t.lengths ?? [cfg.minWords, cfg.maxWords] as const;
  if (!(Array.isArray(lengths) && lengths.length === 2 && lengths.every((v) => Number.isInteger(v) && v >= 1) && lengths[0]! <= lengths[1]!)) bad('has lengths that are not [min, max] whole numbers');
  const levels = t.levels ?? 1;
  if (!(Number.isInteger(levels) && levels >= 1)) bad('has levels that is not a whole number ≥ 1');
  const sample = t.sample.bind(t);
  return {
    ...t,
    name: t.name,
    inputSize: t.inputSize,
    outputSize: t.outputSize,
    lengthName: t.lengthName ?? 'words',
    lengths,
    levels,
    steps: t.steps?.bind(t) ?? ((length, repeats) => sample(new Rng(0), 1, { length, repeats }).T),
    sample,
  };
}
