#!/usr/bin/env node
// The engram command. The TypeScript sources compile to dist/ on `npm ci` (the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('engram: error: dist/ is missing; run `npm install` (or `npm run build`) in the engram directory first');
  process.exit(2);
}
const { run } = await import(entry.href);
run(process.argv.slice(2));
