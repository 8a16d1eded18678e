/**
 * Builds the dashboard page into dist/web/: web/main.ts and everything it imports (uPlot
 * included) as one script, the styles as one sheet, and index.html. No network, no CDN: the
 * server and `engram test --report` use exactly these files.
 *
 * And the playground into dist/playground/: the page (web/playground/page.ts), its training
 * worker (worker.ts, the library's browser side), the gradient worker (grad-worker-web.ts),
 * index.html and both kernel builds; a static folder that any web server can serve.
 * Type checking is `tsc -p web` (run by `npm run build:web` before this).
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = dirname(fileURLToPath(import.meta.url));
const out = join(web, '..', 'dist', 'web');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(web, 'main.ts') },
  outdir: out,
  bundle: true,
  // an IIFE, not a module: the report inlines it, and file:// pages cannot load modules
  format: 'iife',
  platform: 'browser',
  target: ['es2020'],
  minify: true,
  legalComments: 'eof',
  logLevel: 'warning',
});
copyFileSync(join(web, 'index.html'), join(out, 'index.html'));

// The playground. The library's platform imports (package.json `imports`) resolve to their
// browser sources here, so the bundle holds one copy of each module, none of them Node's.
const root = join(web, '..');
const browserSide = {
  name: 'browser-side',
  setup(b) {
    const map = { '#kernel-files': 'src/kernels/files-web.ts', '#gradient-threads': 'src/train/threads-web.ts' };
    b.onResolve({ filter: /^#/ }, (args) => (map[args.path] ? { path: join(root, map[args.path]) } : undefined));
    b.onResolve({ filter: /^node:/ }, (args) => ({ errors: [{ text: `${args.path} imported by ${args.importer}: the playground runs no Node code` }] }));
  },
};
const play = join(root, 'dist', 'playground');
rmSync(play, { recursive: true, force: true });
mkdirSync(play, { recursive: true });
await build({
  entryPoints: {
    page: join(web, 'playground', 'page.ts'),
    worker: join(web, 'playground', 'worker.ts'),
    'grad-worker': join(root, 'src', 'train', 'grad-worker-web.ts'),
  },
  outdir: play,
  bundle: true,
  // modules: the page starts its worker from import.meta.url, and the worker is a module worker
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  legalComments: 'eof',
  logLevel: 'warning',
  plugins: [browserSide],
});
copyFileSync(join(web, 'playground', 'index.html'), join(play, 'index.html'));
for (const f of ['kernels.wasm', 'kernels-fma.wasm']) copyFileSync(join(root, 'dist', 'kernels', f), join(play, f));
