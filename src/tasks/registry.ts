/**
 * @file Builds a task from its config.
 */
import type { TaskConfig } from '../config/schema.js';
import type { Task } from './batch.js';
import { associativeRecallTask } from './associative-recall.js';
import { copyTask } from './copy.js';
import { dynamicNgramsTask } from './dynamic-ngrams.js';
import { prioritySortTask } from './priority-sort.js';
import { repeatCopyTask } from './repeat-copy.js';

export function createTask(cfg: TaskConfig): Task {
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
      throw new Error(`createTask: no task "${cfg.name}"`);
  }
}
