import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alloc, BufferPool, withPool } from './tensor.js';

test('BufferPool: the k-th allocation of a step reuses the k-th buffer of the last step with that key, zeroed', () => {
  const pool = new BufferPool();
  const first = withPool(pool, 7, () => [alloc('f32', 5), alloc('f64', 3)]);
  first[0]!.fill(9);
  first[1]!.fill(4);
  const second = withPool(pool, 7, () => [alloc('f32', 5), alloc('f64', 3)]);
  assert.equal(second[0], first[0]);
  assert.equal(second[1], first[1]);
  assert.deepEqual(Array.from(second[0]!), [0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(second[1]!), [0, 0, 0]);
  assert.ok(second[1] instanceof Float64Array);
});

test('BufferPool: another key, size or dtype gets a fresh buffer; outside a pool nothing is reused', () => {
  const pool = new BufferPool();
  const a = withPool(pool, 1, () => alloc('f32', 4));
  const b = withPool(pool, 2, () => alloc('f32', 4));
  assert.notEqual(a, b);
  const c = withPool(pool, 1, () => alloc('f32', 6));
  assert.notEqual(c, a);
  const d = withPool(pool, 1, () => alloc('f64', 6));
  assert.notEqual(d, c);
  assert.notEqual(alloc('f32', 4), alloc('f32', 4));
  assert.equal(pool.bytes, 4 * 4 /* key 2 */ + 6 * 8 /* key 1, replaced twice */);
});

test('BufferPool: keeps at most maxPlans plans, dropping the least recently used', () => {
  const pool = new BufferPool(2);
  const a = withPool(pool, 1, () => alloc('f32', 8));
  withPool(pool, 2, () => alloc('f32', 8));
  assert.equal(withPool(pool, 1, () => alloc('f32', 8)), a); // 1 is now the most recent
  withPool(pool, 3, () => alloc('f32', 8)); // drops 2
  assert.equal(pool.bytes, 2 * 8 * 4);
  assert.equal(withPool(pool, 1, () => alloc('f32', 8)), a);
});
