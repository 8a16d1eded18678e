// `npm test` builds first only when a source is newer than the last build: `npm ci` has just
// built (its prepare step), so the tests start at once; after an edit they build as before.
// `node scripts/build-if-stale.mjs --stamp` (the end of `npm run build`) records a build.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const stamp = join(root, 'dist', '.build-stamp');
if (process.argv.includes('--stamp')) {
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  process.exit(0);
}
/** The newest modification time of the files under `p` (0 if none). */
function newest(p) {
  if (!existsSync(p)) return 0;
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(0, ...readdirSync(p).map((e) => newest(join(p, e))));
}
const sources = ['src', 'web', 'bench', 'test', 'examples', 'package.json', 'package-lock.json', 'tsconfig.json'].map((p) => newest(join(root, p)));
const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
if (Math.max(...sources) > built) execSync('npm run build', { cwd: root, stdio: 'inherit' });
else console.log('build is up to date (dist/.build-stamp is newer than every source)');
