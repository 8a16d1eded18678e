import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { SseClient, sseMessage } from './sse.js';

/** A socket whose peer reads nothing until `release()`. */
class StalledSocket extends Writable {
  readonly written: string[] = [];
  private pending: (() => void)[] = [];
  constructor() {
    super({ highWaterMark: 64, decodeStrings: false });
  }
  override _write(chunk: string | Buffer, _enc: BufferEncoding, done: () => void): void {
    this.written.push(String(chunk));
    this.pending.push(done);
  }
  release(): void {
    const p = this.pending;
    this.pending = [];
    for (const done of p) done();
  }
}

const msg = (s: string): string => sseMessage(JSON.stringify(s));

test('messages go straight through while the socket keeps up', () => {
  const out = new StalledSocket();
  const c = new SseClient(out, 1000, () => msg('snapshot'));
  c.send(msg('a'));
  assert.deepEqual(out.written, [msg('a')]);
  assert.equal(c.stats().queuedMessages, 0);
});

test('a stalled socket: keyed messages keep only the latest, the queue stays bounded, then one snapshot', async () => {
  const out = new StalledSocket();
  let snapshots = 0;
  const c = new SseClient(out, 400, () => {
    snapshots++;
    return msg('snapshot');
  });
  c.send(msg('x'.repeat(100))); // passes the 64-byte high-water mark: the socket pushes back
  for (let i = 0; i < 50; i++) c.send(msg(`progress ${i}`), 'progress');
  assert.equal(c.stats().queuedMessages, 1, 'only the latest progress waits');
  c.send(msg('a'));
  c.send(msg('b'));
  assert.equal(c.stats().queuedMessages, 3);
  // the queued progress moved behind the appends it sums up
  c.send(msg('progress last'), 'progress');
  for (let i = 0; i < 1000; i++) c.send(msg(`append ${i} ${'y'.repeat(20)}`));
  const s = c.stats();
  assert.ok(s.queuedBytes <= 400, `queued ${s.queuedBytes} bytes`);
  assert.ok(s.resyncs >= 1);
  assert.equal(out.written.length, 1, 'nothing more reached the stalled socket');
  out.release();
  await new Promise((r) => setImmediate(r));
  assert.equal(snapshots, 1);
  assert.equal(out.written[1], msg('snapshot'), 'after the stall the client gets one fresh snapshot');
});

test('a closed client drops everything', () => {
  const out = new StalledSocket();
  const c = new SseClient(out, 1000, () => msg('snapshot'));
  out.destroy();
  c.close();
  c.send(msg('a'));
  assert.ok(c.isClosed);
  assert.equal(c.stats().queuedBytes, 0);
});
