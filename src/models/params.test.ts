/**
 * Head outputs are typed from their parts lists: a misspelt part does not compile (the
 * @ts-expect-error lines below fail the build if it ever would), and outputsOf refuses an
 * outputs record that lacks a part its list names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dncReadParts, dncWriteParts } from './dnc.js';
import { ntmWriteParts } from './ntm.js';
import { outputsOf } from './params.js';
import { Tensor } from '../tensor/tensor.js';

const t = (): Tensor => Tensor.zeros([1, 1]);

test('outputsOf gives each named part and refuses a record that lacks one', () => {
  const parts = dncWriteParts(4);
  const record = Object.fromEntries(parts.map((p) => [p.name, t()]));
  const out = outputsOf(parts, record);
  assert.equal(out.allocGate, record.allocGate);
  assert.equal(out.writeGate, record.writeGate);
  // @ts-expect-error a misspelt part is a compile error
  assert.equal(out.alocGate, undefined);
  // @ts-expect-error a read head has no erase vector
  assert.equal(outputsOf(dncReadParts(4, 1), Object.fromEntries(dncReadParts(4, 1).map((p) => [p.name, t()]))).erase, undefined);
  const { add: _dropped, ...partial } = Object.fromEntries(ntmWriteParts(4, 1).map((p) => [p.name, t()]));
  assert.throws(() => outputsOf(ntmWriteParts(4, 1), partial), /no part "add"/);
});
