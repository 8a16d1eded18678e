/**
 * @file `engram playground`: serves the playground (train and inspect a model in the browser,
 * no install) on this machine, cross-origin isolated, until Ctrl-C.
 */
import { startPlayground } from '../server/playground.js';
import { parseFlags } from './args.js';
import { announce, DEFAULT_HOST, listen, untilInterrupted } from './dashboard.js';

export const PLAYGROUND_HELP = `usage: engram playground [--port P] [--host H]

  --port P     the port to listen on (default 8097, or any free one if that is taken; 0: any free one)
  --host H     the address to listen on (default 127.0.0.1: this machine only)

Serves the playground page (dist/playground/): pick a preset, train it in the page, watch its
curves and memory, download its weights or drop a .safetensors file in to inspect and test it.
The page is cross-origin isolated (COOP/COEP headers). Stop it with Ctrl-C.`;

export async function playgroundCommand(argv: string[]): Promise<number> {
  const f = parseFlags('playground', argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (f.help) {
    console.log(PLAYGROUND_HELP);
    return 0;
  }
  const flags = { port: f.port as string | undefined, host: f.host as string | undefined };
  const d = await listen(flags, (host, port) => startPlayground({ host, port }));
  announce(d, flags.host ?? DEFAULT_HOST, 'playground');
  console.log('serving the playground; Ctrl-C to stop');
  await untilInterrupted();
  await d.close();
  return 0;
}
