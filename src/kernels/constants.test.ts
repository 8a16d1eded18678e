/**
 * The numbers the kernels and their twins share are written once (constants.ts): the
 * AssemblyScript sources import them rather than write them again, and the twins export the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../test/helpers.js';
import { ALLOCATION_EPS, COSINE_EPS, WEIGHT_FLOOR } from './constants.js';
import * as content from '../memory/content.js';
import * as sharpen from '../memory/sharpen.js';
import * as allocation from '../memory/allocation.js';

test('the shared constants have their values, and the twins use the same', () => {
  assert.equal(WEIGHT_FLOOR, 2 ** -64);
  assert.equal(Math.fround(WEIGHT_FLOOR), WEIGHT_FLOOR, 'exact in float32');
  assert.equal(content.COSINE_EPS, COSINE_EPS);
  assert.equal(sharpen.WEIGHT_FLOOR, WEIGHT_FLOOR);
  assert.equal(allocation.ALLOCATION_EPS, ALLOCATION_EPS);
});

test('no kernel source writes a shared constant again', () => {
  const dir = join(ROOT, 'src', 'kernels', 'assembly');
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 10);
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    for (const m of text.matchAll(/\bconst\s+(COSINE_EPS|WEIGHT_FLOOR|ALLOCATION_EPS|IDENTITY|SIGMOID|TANH|SOFTPLUS|ONEPLUS|SOFTMAX)\b[^=]*=\s*([^;]+);/g)) {
      assert.match(m[2]!, /_F64$/, `${f}: ${m[1]} = ${m[2]} (import it from ../constants)`);
    }
    assert.doesNotMatch(text, /5\.421010862427522e-20|2 \*\* -64/, `${f} writes a shared value as a literal`);
  }
});
