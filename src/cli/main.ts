/**
 * @file The `engram` command: dispatches to one file per command and turns every error the
 * user can fix into one line on stderr (exit 2); anything else is a bug and shows its stack.
 */
import { benchCommand } from './bench.js';
import { dashboardCommand, DASHBOARD_HELP } from './dashboard.js';
import { isUserFacing, outOfMemoryMessage, UserError } from './errors.js';
import { fmaEnvError } from '../kernels/heap.js';
import { presetsCommand } from './presets.js';
import { testCommand, TEST_HELP } from './test.js';
import { plotCommand, PLOT_HELP } from './plot.js';
import { playgroundCommand, PLAYGROUND_HELP } from './playground.js';
import { trainCommand, TRAIN_HELP } from './train.js';
import { sweepCommand, SWEEP_HELP } from './sweep.js';
import { workerCommand, WORKER_HELP } from './worker.js';

const HELP = `engram: Neural Turing Machines and Differentiable Neural Computers

usage: engram <command> [flags]

  presets [--json]                 list the presets: name, model, task, parameter count
  train --preset NAME [...]        train a model in a run directory (engram train --help)
  test --run-dir DIR [...]         evaluate a trained model (engram test --help)
  bench [--preset NAME] [--steps N] [--kernels wasm|ts] [--replay on|off] [--threads N] [--json]
                                   time training steps
  sweep --preset NAME --seeds A-B [...]
                                   train many runs (seeds × --grid values) on every core or on a
                                   queue (engram sweep --help)
  worker --queue redis://HOST:PORT [--parallel N]
                                   take a queued sweep's runs (on any machine)
  dashboard [--runs DIR] [--port P]
                                   serve a page with the runs in DIR (default runs/)
  plot --run LABEL=DIR[,DIR...] --out FILE.svg
                                   learning curves of runs (seeds as a median and band) as SVG
  playground [--port P]            serve the in-browser playground: train and inspect in a page

${TRAIN_HELP}

${TEST_HELP}

${SWEEP_HELP}

${WORKER_HELP}

${DASHBOARD_HELP}

${PLOT_HELP}

${PLAYGROUND_HELP}`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const fma = fmaEnvError();
  if (fma !== null) throw new UserError(fma);
  switch (cmd) {
    case 'presets':
      return presetsCommand(rest);
    case 'train':
      return trainCommand(rest);
    case 'test':
      return testCommand(rest);
    case 'bench':
      return benchCommand(rest);
    case 'plot':
      return plotCommand(rest);
    case 'dashboard':
      return dashboardCommand(rest);
    case 'sweep':
      return sweepCommand(rest);
    case 'worker':
      return workerCommand(rest);
    case 'playground':
      return playgroundCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(HELP);
      return cmd === undefined ? 2 : 0;
    default:
      console.error(`engram: unknown command "${cmd}"; commands: presets, train, test, bench, sweep, worker, dashboard, plot, playground (engram --help)`);
      return 2;
  }
}

export function run(argv: string[]): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      const oom = outOfMemoryMessage(err);
      if (isUserFacing(err)) {
        console.error(`engram: error: ${err.message}`);
      } else if (oom !== null) {
        console.error(`engram: error: ${oom}`);
      } else {
        console.error(err);
      }
      process.exitCode = 2;
    },
  );
}
