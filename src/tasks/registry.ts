/**
 * @file Builds a task from its config.
 */
import type { TaskConfig } from '../config/schema.js';
import type { Task } from './batch.js';
import { copyTask } from './copy.js';
import { repeatCopyTask } from './repeat-copy.js';

export function createTask(cfg: TaskConfig): Task {
  switch (cfg.name) {
    case 'copy':
      return copyTask(cfg);
    case 'repeat-copy':
      return repeatCopyTask(cfg);
    default:
      throw new Error(`createTask: no task "${cfg.name}"`);
  }
}
