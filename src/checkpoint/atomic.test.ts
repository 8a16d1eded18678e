import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendFileSafely, writeFileAtomic, WriteError, WriteFaults, writeFilesAtomic } from './atomic.js';

const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
const dir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'engram-atomic-'));
  made.push(d);
  return d;
};

// not durable (no flush to disk), a write is as whole for its readers as durable
for (const durable of [true, false]) {
  test(`writeFilesAtomic replaces every file, and leaves no temporary file${durable ? '' : ' (not durable)'}`, () => {
    const d = dir();
    writeFileSync(join(d, 'a'), 'old a');
    writeFilesAtomic([[join(d, 'a'), 'new a'], [join(d, 'b'), new Uint8Array([1, 2, 3])]], { durable });
    assert.equal(readFileSync(join(d, 'a'), 'utf8'), 'new a');
    assert.deepEqual([...readFileSync(join(d, 'b'))], [1, 2, 3]);
    assert.deepEqual(readdirSync(d).sort(), ['a', 'b']);
  });
}

test('a write that fails part-way (a full disk) renames nothing: every target keeps its old bytes', () => {
  const d = dir();
  writeFileSync(join(d, 'a'), 'old a');
  writeFileSync(join(d, 'b'), 'old b');
  for (const [nth, durable] of [[1, true], [2, true], [1, false], [2, false]] as const) {
    // the first file written, then the second: either way neither target changes
    const faults = new WriteFaults({ code: 'ENOSPC', suffix: nth === 1 ? '/a' : '/b', nth: 1 });
    assert.throws(() => writeFilesAtomic([[join(d, 'a'), 'new a'.repeat(100)], [join(d, 'b'), 'new b'.repeat(100)]], { faults, durable }),
      (e: Error) => e instanceof WriteError && /^no space left on the device while writing .*\/[ab]; free some space/.test(e.message) && !e.message.includes('\n'));
    assert.equal(readFileSync(join(d, 'a'), 'utf8'), 'old a');
    assert.equal(readFileSync(join(d, 'b'), 'utf8'), 'old b');
    assert.deepEqual(readdirSync(d).sort(), ['a', 'b'], 'no temporary file left');
  }
});

test('the fault counts writes to matching files and fires once, on the n-th', () => {
  const d = dir();
  const writes = { faults: new WriteFaults({ code: 'EIO', suffix: 'x.json', nth: 2 }) };
  writeFileAtomic(join(d, 'x.json'), '1', writes);
  writeFileAtomic(join(d, 'y.json'), '1', writes);
  assert.throws(() => writeFileAtomic(join(d, 'x.json'), '2', writes), /cannot write .*x\.json: EIO: simulated failure/);
  writeFileAtomic(join(d, 'x.json'), '3', writes);
  assert.equal(readFileSync(join(d, 'x.json'), 'utf8'), '3');
});

for (const durable of [true, false]) {
  test(`appendFileSafely appends; a failed append is cut back to the old length${durable ? '' : ' (not durable)'}`, () => {
    const d = dir();
    const p = join(d, 'metrics.jsonl');
    appendFileSafely(p, '{"step":1}\n', { durable });
    appendFileSafely(p, '{"step":2}\n', { durable });
    const faults = new WriteFaults({ code: 'ENOSPC', suffix: 'metrics.jsonl', nth: 1 });
    assert.throws(() => appendFileSafely(p, `{"step":3,"pad":"${'x'.repeat(1000)}"}\n`, { faults, durable }), /no space left on the device while writing .*metrics\.jsonl/);
    assert.equal(readFileSync(p, 'utf8'), '{"step":1}\n{"step":2}\n');
  });
}

test('a real ENOSPC from the kernel (/dev/full) is one clear line', (t) => {
  if (!existsSync('/dev/full')) {
    t.skip('no /dev/full on this machine');
    return;
  }
  assert.throws(() => appendFileSafely('/dev/full', 'x'.repeat(1 << 16)), /^WriteError: no space left on the device while writing \/dev\/full/);
});

test('paths that cannot be written give one line naming the cause, even for root', () => {
  const d = dir();
  writeFileSync(join(d, 'file'), 'x');
  assert.throws(() => writeFileAtomic(join(d, 'file', 'a'), 'x'), /cannot write .*file\/a: a part of that path is a file, not a directory/);
  assert.throws(() => writeFileAtomic(join(d, 'missing', 'a'), 'x'), /cannot write .*missing\/a: its directory does not exist/);
  assert.throws(() => appendFileSafely(join(d, 'file', 'a'), 'x'), /a part of that path is a file/);
  assert.equal(readFileSync(join(d, 'file'), 'utf8'), 'x');
});
