import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Buf } from './tensor.js';
import { BufferPool } from './pool.js';
import { OpContext } from './context.js';

/** One step of `pool`: `fn` takes its buffers through the step's context. */
function inStep<T>(pool: BufferPool, fn: (s: OpContext) => T): T {
  return fn(OpContext.step(pool));
}

test('BufferPool: a step gets the buffers of the last step back, zeroed, each at most once', () => {
  const pool = new BufferPool();
  const first = inStep(pool, (s) => [s.alloc('f32', 5), s.alloc('f64', 3), s.alloc('f32', 5)]);
  for (const b of first) b.fill(9);
  const second = inStep(pool, (s) => [s.alloc('f32', 5), s.alloc('f64', 3), s.alloc('f32', 5)]);
  assert.equal(new Set(second).size, 3, 'three different buffers');
  for (const b of second) assert.ok(first.includes(b), 'reused');
  for (const b of second) assert.ok(b.every((v) => v === 0), 'zeroed');
  assert.ok(second[1] instanceof Float64Array);
  assert.equal(pool.fresh, 3);
});

test('BufferPool: another size or dtype gets a fresh buffer; allocOverwritten skips the zeroing; outside a pool nothing is reused', () => {
  const pool = new BufferPool();
  const a = inStep(pool, (s) => s.alloc('f32', 4));
  const c = inStep(pool, (s) => s.alloc('f32', 6));
  assert.notEqual(c, a);
  const d = inStep(pool, (s) => s.alloc('f64', 6));
  assert.notEqual(d, c);
  d.fill(7);
  const e = inStep(pool, (s) => s.allocOverwritten('f64', 6));
  assert.equal(e, d);
  assert.equal(e[0], 7, 'not zeroed: its caller overwrites it');
  assert.notEqual(OpContext.plain.alloc('f32', 4), OpContext.plain.alloc('f32', 4));
  assert.equal(pool.bytes, 4 * 4 + 6 * 4 + 6 * 8);
});

test('BufferPool: steps of different lengths share buffers, so the pool holds what the largest step needs', () => {
  const pool = new BufferPool();
  // a step of length T takes T buffers of 10 floats and one of 10·T
  const step = (T: number): Buf[] => inStep(pool, (s) => [...Array.from({ length: T }, () => s.alloc('f32', 10)), s.alloc('f32', 10 * T)]);
  for (const T of [3, 8, 5, 8, 3]) step(T);
  const made = pool.fresh;
  assert.equal(made, 8 + 3); // eight of 10, one each of 30, 80, 50
  for (let i = 0; i < 20; i++) step([3, 8, 5][i % 3]!);
  assert.equal(pool.fresh, made, 'nothing made once every length has run');
  assert.equal(pool.bytes, 4 * (8 * 10 + 30 + 80 + 50));
});

test('BufferPool: a size idle for keepSteps steps goes back to the allocator; clear gives back everything', () => {
  const released: number[] = [];
  const pool = new BufferPool({ alloc: () => null, release: (b) => released.push(b.length), zero: (b) => b.fill(0) }, 3);
  inStep(pool, (s) => [s.alloc('f32', 7), s.alloc('f32', 2)]);
  for (let i = 0; i < 3; i++) inStep(pool, (s) => s.alloc('f32', 2));
  assert.deepEqual(released, [], 'idle for two steps: kept');
  inStep(pool, (s) => s.alloc('f32', 2));
  assert.deepEqual(released, [7], 'idle for three: given back');
  assert.equal(pool.bytes, 2 * 4);
  pool.clear();
  assert.deepEqual(released, [7, 2]);
  assert.equal(pool.bytes, 0);
});

test('BufferPool: the k-th buffer of a size a step takes is the same every step (what a recorded step relies on); holds() tells whether a step\'s buffers are all still there', () => {
  const released: number[] = [];
  const pool = new BufferPool({ alloc: () => null, release: (b) => released.push(b.length), zero: (b) => b.fill(0) }, 2);
  const step = (T: number): Buf[] => inStep(pool, (s) => [s.alloc('f32', 3), ...Array.from({ length: T }, () => s.alloc('f32', 10)), s.alloc('f64', 3)]);
  const long = step(4);
  const longUsage = pool.usage();
  const short = step(2);
  const shortUsage = pool.usage();
  assert.deepEqual(short, [long[0], long[1], long[2], long[5]], 'a shorter step takes the first of each size');
  assert.deepEqual(step(4), long, 'in the same order every step');
  assert.deepEqual(step(4), long);
  assert.equal(pool.released, 0);
  step(2);
  step(2);
  assert.equal(pool.released, 0, 'the two buffers only the long step takes: idle for one step');
  assert.ok(pool.holds(longUsage) && pool.holds(shortUsage));
  step(2);
  assert.deepEqual(released, [10, 10], 'idle for two steps: given back, the last first');
  assert.equal(pool.released, 2);
  assert.ok(!pool.holds(longUsage), 'the long step\'s last two buffers are gone');
  assert.ok(pool.holds(shortUsage), 'the short step\'s are all there');
  assert.deepEqual(step(2), short, 'the rest stay where they were');
  assert.equal([...pool.buffers()].length, 4);
  const again = step(4);
  assert.ok(again[3] !== long[3] && again[4] !== long[4], 'made again: new buffers');
  assert.ok(!pool.holds(longUsage), 'where the long step\'s were: other buffers, though as many');
  assert.ok(pool.holds(pool.usage()));
  pool.clear();
  assert.equal(pool.released, 2 + 6);
  assert.ok(!pool.holds(shortUsage), 'after clear(), nothing');
});

test('BufferPool: a replayed step counts as using the buffers its recorded step took, so they are not given back', () => {
  const released: number[] = [];
  const pool = new BufferPool({ alloc: () => null, release: (b) => released.push(b.length), zero: (b) => b.fill(0) }, 3);
  inStep(pool, (s) => [s.alloc('f32', 4), s.alloc('f32', 4), s.alloc('f32', 8)]);
  const usage = pool.usage(); // two of 4, one of 8
  for (let i = 0; i < 10; i++) {
    inStep(pool, (s) => s.alloc('f32', 4)); // another shape's ordinary step: one of 4
    pool.replayed(usage);
  }
  assert.deepEqual(released, []);
  for (let i = 0; i < 3; i++) inStep(pool, (s) => s.alloc('f32', 4));
  assert.deepEqual(released, [4, 8], 'with no replays, the buffers only the replayed step used go back');
});
