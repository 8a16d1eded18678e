/**
 * Builds the dashboard page into dist/web/: web/main.ts and everything it imports (uPlot
 * included) as one script, the styles as one sheet, and index.html. No network, no CDN: the
 * server and `engram test --report` use exactly these files.
 * Type checking is `tsc -p web` (run by `npm run build:web` before this).
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
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
