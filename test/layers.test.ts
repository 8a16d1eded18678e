/**
 * The layers point one way: tensor/ imports nothing from the rest of src/, and kernels/ (the
 * WASM kernels and their bindings) knows nothing of models, tasks, training, checkpoints, the
 * config or the command line. Production files only: a test may reach across to set up a case.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers.js';

/** Every module a file imports or re-exports (static and dynamic), as written. */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) {
    out.push((m[1] ?? m[2] ?? m[3])!);
  }
  return out;
}

/** The .ts files under src/DIR (recursively), tests left out. */
function sources(dir: string): string[] {
  const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [join(d, e.name)] : []);
  return walk(join(ROOT, 'src', dir));
}

test('importsOf finds static, type-only, re-exported and dynamic imports', () => {
  const text = `import { a } from './a.js';\nimport type { B } from '../b.js';\nexport { c } from "../c.js";\nconst d = await import('../d.js');\nimport './e.js';\n`;
  assert.deepEqual(importsOf(text), ['./a.js', '../b.js', '../c.js', '../d.js', './e.js']);
});

test('src/tensor imports nothing from a folder above it', () => {
  const files = sources('tensor');
  assert.ok(files.length >= 5, 'the tensor files are found');
  const bad = files.flatMap((f) => importsOf(readFileSync(f, 'utf8')).filter((m) => m.startsWith('..')).map((m) => `${f.slice(ROOT.length)} imports ${m}`));
  assert.deepEqual(bad, []);
});

test('src/kernels knows nothing of models, tasks, training, checkpoints, the config, the server or the command line', () => {
  const files = sources('kernels');
  assert.ok(files.length >= 5, 'the kernel files are found');
  const above = /^\.\.\/(models|tasks|train|checkpoint|config|cli|server|api|memory|nn)\//;
  const bad = files.flatMap((f) => importsOf(readFileSync(f, 'utf8')).filter((m) => above.test(m)).map((m) => `${f.slice(ROOT.length)} imports ${m}`));
  assert.deepEqual(bad, []);
});

test('no ambient step state: src/tensor and src/memory hold no module-level variables, and nothing reaches a pool, tape or recorder but through a context', () => {
  const files = [...sources('tensor'), ...sources('memory')];
  const bad = files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/^(?:export\s+)?(?:let|var)\s+(\w+)/gm)].map((m) => `${f.slice(ROOT.length)}: ${m[1]}`));
  assert.deepEqual(bad, []);
  // the setters and getters that held them are gone from the whole tree (tests included)
  const gone = /\b(withPool|withTape|setJsRecorder|recordingJs|activeTape|tapeFor|activePool)\b|export function (alloc|allocOverwritten|replayJs|atBackwardEnd|backwardScope)\b/;
  const all = [...sources('')].concat(readdirSync(join(ROOT, 'src'), { recursive: true, withFileTypes: false }).map(String).filter((f) => f.endsWith('.test.ts')).map((f) => join(ROOT, 'src', f)));
  const uses = all.filter((f) => gone.test(readFileSync(f, 'utf8'))).map((f) => f.slice(ROOT.length));
  assert.deepEqual(uses, []);
});

test('no ambient step settings: step replay and weight-gradient deferral are settings of a StepContext (and a Trainer, a Tape), and a model\'s fused heads are kept by its HeadLayout, not by a module', () => {
  const files = ['src/train/replay.ts', 'src/train/gradients.ts', 'src/nn/linear.ts', 'src/models/params.ts'].map((f) => join(ROOT, f));
  const bad = files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/^(?:export\s+)?(?:let|var)\s+(\w+)|^(?:export\s+)?const\s+(\w+)\s*=\s*new\s+(?:Weak)?Map\b/gm)].map((m) => `${f.slice(ROOT.length)}: ${m[1] ?? m[2]}`));
  assert.deepEqual(bad, []);
  // the switches that held them are gone from the whole tree (tests included)
  const gone = /\b(setStepReplay|stepReplayEnabled|setWeightGradDeferral|backwardScope)\b/;
  const all = [...sources(''), ...readdirSync(join(ROOT, 'src'), { recursive: true, withFileTypes: false }).map(String).filter((f) => f.endsWith('.test.ts')).map((f) => join(ROOT, 'src', f))];
  const uses = all.filter((f) => gone.test(readFileSync(f, 'utf8'))).map((f) => f.slice(ROOT.length));
  assert.deepEqual(uses, []);
});

test('no ambient kernel choice: an op runs on its context\'s kernel heap (OpContext.heap), and the kernels file keeps only the process\'s default', () => {
  // the getters that read a module's choice are gone from the whole tree (tests included)
  const gone = /\b(activeHeap|backwardHeap)\b/;
  const all = [...sources(''), ...readdirSync(join(ROOT, 'src'), { recursive: true, withFileTypes: false }).map(String).filter((f) => f.endsWith('.test.ts')).map((f) => join(ROOT, 'src', f))];
  const uses = all.filter((f) => gone.test(readFileSync(f, 'utf8'))).map((f) => f.slice(ROOT.length));
  assert.deepEqual(uses, []);
  const wasm = readFileSync(join(ROOT, 'src/kernels/wasm.ts'), 'utf8');
  assert.deepEqual([...wasm.matchAll(/^(?:export\s+)?(?:let|var)\s+(\w+)/gm)].map((m) => m[1]), ['processDefault'], 'wasm.ts holds the process default only');
  // the files whose ops and kernels run a step take the heap they are given, not the default
  const ops = [...sources('memory'), ...sources('nn'), ...['memory', 'activate', 'blocks'].map((f) => join(ROOT, `src/kernels/${f}.ts`))];
  const bad = ops.filter((f) => importsOf(readFileSync(f, 'utf8')).some((m) => /\/wasm\.js$/.test(m))).map((f) => f.slice(ROOT.length));
  assert.deepEqual(bad, []);
  // nor is anything kept per parts list or per parameter store by a module: the activation
  // table is written per call, and a store holds its own heap blocks (ParamStore.heapBlocks)
  // (and the op kernels' files hold no module-level variables: the tables' integer view is the heap's, KernelHeap.i32)
  const kept = ['activate', 'adopt', 'memory', 'blocks'].map((f) => join(ROOT, `src/kernels/${f}.ts`))
    .flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/^(?:export\s+)?(?:(?:const|let|var)\s+(\w+)\s*=\s*new\s+(?:Weak)?Map\b|(?:let|var)\s+(\w+))/gm)].map((m) => `${f.slice(ROOT.length)}: ${m[1] ?? m[2]}`));
  assert.deepEqual(kept, []);
});
