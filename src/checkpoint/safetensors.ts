/**
 * @file The safetensors format: an 8-byte little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__: {string: string}}`
 * padded with spaces to 8 bytes, then the raw little-endian tensor bytes.
 * Readable by the standard safetensors readers (Python `safetensors`, JS `safetensors`).
 */

export interface StoredTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array;
}

/** A file that is not valid safetensors; the message says what is wrong. */
export class SafetensorsError extends Error {}

/** the reference reader refuses larger headers */
const MAX_HEADER = 100_000_000;

export function encodeSafetensors(tensors: ReadonlyMap<string, StoredTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    const bytes = t.data.byteLength;
    header[name] = { dtype: t.data instanceof Float64Array ? 'F64' : 'F32', shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let headerBytes = enc.encode(json);
  const pad = (8 - (headerBytes.length % 8)) % 8;
  if (pad > 0) {
    json += ' '.repeat(pad);
    headerBytes = enc.encode(json);
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array): { tensors: Map<string, StoredTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new SafetensorsError(`file is ${bytes.length} bytes, too short for a safetensors header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > bytes.length) throw new SafetensorsError(`header length ${n} runs past the end of the ${bytes.length}-byte file (truncated?)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  } catch {
    throw new SafetensorsError('header is not valid JSON (corrupt file?)');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new SafetensorsError('header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, StoredTensor>();
  const ranges: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null) throw new SafetensorsError('__metadata__ is not an object');
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') throw new SafetensorsError(`metadata value ${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new SafetensorsError(`tensor ${name}: entry is not an object`);
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e.dtype !== 'F32' && e.dtype !== 'F64') throw new SafetensorsError(`tensor ${name}: dtype ${String(e.dtype)} is not supported (F32 or F64)`);
    const shape = e.shape, off = e.data_offsets;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new SafetensorsError(`tensor ${name}: bad shape`);
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0)) throw new SafetensorsError(`tensor ${name}: bad data_offsets`);
    const [begin, end] = off as [number, number];
    const width = e.dtype === 'F64' ? 8 : 4;
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end > dataLen) throw new SafetensorsError(`tensor ${name}: data [${begin}, ${end}) runs past the end of the file (truncated?)`);
    if (end - begin !== count * width) throw new SafetensorsError(`tensor ${name}: ${end - begin} bytes for shape [${shape.join(', ')}]`);
    ranges.push([begin, end, name]);
    // copy into an aligned buffer (the file's offsets need not be aligned in memory)
    // Uint8Array.prototype.slice copies even for a Node Buffer (whose own slice would share memory)
    const raw = Uint8Array.prototype.slice.call(bytes, dataStart + begin, dataStart + end);
    const data = e.dtype === 'F64' ? new Float64Array(raw.buffer) : new Float32Array(raw.buffer);
    tensors.set(name, { shape: shape as number[], data });
  }
  // as the reference reader requires: the tensors tile the data section, no gaps, no overlaps
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let covered = 0;
  for (const [begin, end, name] of ranges) {
    if (begin !== covered) throw new SafetensorsError(`tensor ${name}: data starts at ${begin}, expected ${covered} (gap or overlap)`);
    covered = end;
  }
  if (covered !== dataLen) throw new SafetensorsError(`the tensors cover ${covered} of the ${dataLen} data bytes (truncated or padded?)`);
  return { tensors, metadata };
}
