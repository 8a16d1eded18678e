import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type StoredTensor } from './safetensors.js';

function sample(): Map<string, StoredTensor> {
  return new Map<string, StoredTensor>([
    ['a.weight', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-30, -0]) }],
    ['b', { shape: [4], data: Float64Array.from([Math.PI, -1, 2 ** -1074, 1e300]) }],
    ['empty', { shape: [0, 5], data: new Float32Array(0) }],
  ]);
}

/** The file with its header JSON replaced (re-padded to 8 bytes). */
function withHeader(bytes: Uint8Array, edit: (h: Record<string, { data_offsets?: number[] }>) => void): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const h = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { data_offsets?: number[] }>;
  edit(h);
  let json = JSON.stringify(h);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + bytes.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  out.set(bytes.subarray(8 + n), 8 + head.length);
  return out;
}

test('encode then decode gives back every tensor bit for bit, and the metadata', () => {
  const bytes = encodeSafetensors(sample(), { note: 'hi' });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0, 'header padded to a multiple of 8');
  const { tensors, metadata } = decodeSafetensors(bytes);
  assert.deepEqual(metadata, { note: 'hi' });
  for (const [k, t] of sample()) {
    assert.deepEqual(tensors.get(k)!.shape, t.shape);
    assert.equal(tensors.get(k)!.data.constructor, t.data.constructor, k);
    assert.deepEqual(Array.from(tensors.get(k)!.data), Array.from(t.data), k);
  }
});

test('decode rejects truncation, trailing bytes, gaps, overlaps and bad entries with a message', () => {
  const bytes = encodeSafetensors(sample());
  assert.throws(() => decodeSafetensors(bytes.subarray(0, 4)), /too short/);
  assert.throws(() => decodeSafetensors(bytes.subarray(0, 20)), /runs past the end .*truncated/);
  assert.throws(() => decodeSafetensors(bytes.subarray(0, bytes.length - 1)), /runs past the end of the file \(truncated\?\)/);
  const longer = new Uint8Array(bytes.length + 4);
  longer.set(bytes);
  assert.throws(() => decodeSafetensors(longer), /cover \d+ of the \d+ data bytes/);
  assert.throws(() => decodeSafetensors(withHeader(bytes, (h) => (h.b!.data_offsets = [0, 32]))), /gap or overlap/);
  assert.throws(() => decodeSafetensors(withHeader(bytes, (h) => (h.b!.data_offsets = [32, 64]))), /runs past the end/);
  assert.throws(() => decodeSafetensors(withHeader(bytes, (h) => ((h.b as { dtype?: string }).dtype = 'I8'))), /dtype I8 is not supported/);
  assert.throws(() => decodeSafetensors(withHeader(bytes, (h) => ((h.b as { shape?: unknown }).shape = [-4]))), /bad shape/);
  for (const entry of [null, 3, 'x', []]) {
    assert.throws(() => decodeSafetensors(withHeader(bytes, (h) => ((h as Record<string, unknown>).b = entry))), (err: unknown) =>
      err instanceof SafetensorsError && /tensor b: entry is not an object/.test(err.message));
  }
});
