/**
 * The kernels' TypeScript signatures (kernel-exports.ts) are generated from their AssemblyScript
 * sources: the file is current, and it names exactly the functions the built modules export,
 * each with the number of parameters the module's function takes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { ROOT } from '../../test/helpers.js';

test('kernel-exports.ts is what scripts/kernel-exports.mjs makes from the built declarations', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'kernel-exports.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('kernel-exports.ts declares every function each kernels build exports, with its arity, and nothing else', () => {
  const text = readFileSync(join(ROOT, 'src', 'kernels', 'kernel-exports.ts'), 'utf8');
  const declared = new Map([...text.matchAll(/^ {2}(\w+)\(([^)]*)\): \w+;$/gm)].map((m) => [m[1]!, m[2]!.trim() === '' ? 0 : m[2]!.split(',').length]));
  assert.ok(declared.size >= 40, `only ${declared.size} kernels declared`);
  for (const file of ['kernels.wasm', 'kernels-fma.wasm']) {
    const bytes = readFileSync(join(ROOT, 'dist', 'kernels', file));
    if (!WebAssembly.validate(bytes)) setFlagsFromString('--experimental-wasm-relaxed-simd'); // (Node 20: behind a flag)
    const mod = new WebAssembly.Module(bytes);
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true });
    const table = new WebAssembly.Table({ element: 'anyfunc', initial: 1 });
    const inst = new WebAssembly.Instance(mod, { env: { memory, table, abort: () => undefined } });
    const fns = Object.entries(inst.exports).filter(([, v]) => typeof v === 'function') as [string, (...a: unknown[]) => unknown][];
    assert.deepEqual(fns.map(([n]) => n).sort(), [...declared.keys()].sort(), file);
    for (const [name, fn] of fns) assert.equal(fn.length, declared.get(name), `${file}: ${name} takes ${fn.length} parameters`);
  }
});
