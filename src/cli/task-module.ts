/**
 * @file `--task FILE`: a user's task from an ES module, registered so the run's config can name
 * it. The module's default export is a function from the task config to a task (or a task
 * itself); see UserTask in tasks/registry.ts for what it must have. A module is only ever
 * loaded when the command line names it: a run directory's config.json records the path, but
 * `engram test` and `--resume` load it only when given --task again.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TaskConfig } from '../config/schema.js';
import { completeTask, registerTask, TaskError, type TaskFactory, type UserTask } from '../tasks/registry.js';
import { UserError } from './errors.js';

/**
 * Imports FILE, registers its task and sets `cfg.module` and `cfg.name` to it.
 * @returns the task's name
 */
export async function loadTaskModule(file: string, cfg: TaskConfig): Promise<string> {
  const path = resolve(file);
  if (!existsSync(path) || !statSync(path).isFile()) throw new UserError(`--task ${file}: no such file (an ES module whose default export makes the task)`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    throw new UserError(`--task ${file}: cannot load it: ${String((err as Error)?.message ?? err).split('\n')[0]}`);
  }
  const exported = mod.default;
  if (exported === undefined) throw new UserError(`--task ${file} has no default export (export default a function (config) => task, or a task)`);
  const factory: TaskFactory = typeof exported === 'function' ? (exported as TaskFactory) : () => exported as UserTask;
  let made: UserTask;
  try {
    made = factory(cfg);
  } catch (err) {
    throw new UserError(`--task ${file}: making the task failed: ${String((err as Error)?.message ?? err).split('\n')[0]}`);
  }
  const name = typeof made?.name === 'string' ? made.name : '';
  try {
    registerTask(name, factory);
    if (cfg.module !== '' && cfg.name !== name) {
      throw new TaskError(`--task ${file} makes the task "${name}", but this run's is "${cfg.name}"`);
    }
    cfg.module = path;
    cfg.name = name;
    completeTask(made, cfg); // the task it made, checked now rather than at the first step
  } catch (err) {
    if (err instanceof TaskError) throw new UserError(err.message);
    throw err;
  }
  return name;
}
