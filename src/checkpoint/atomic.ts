/**
 * @file Writes that never leave a damaged file behind.
 *
 *   writeFilesAtomic   each file goes to a temporary file beside its target and is flushed
 *                      to disk; only when every one is written are they renamed over their
 *                      targets. A failure while writing (a full disk, say) renames nothing.
 *   appendFileSafely   appends a line; a failed append is cut back to the old length.
 *
 * For tests, the option `faults` makes a chosen write fail part-way as a full disk would.
 */
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** A file could not be written; the message is one line naming the file and the cause. */
export class WriteError extends Error {
  override name = 'WriteError';
}

/** A simulated failure: the `nth` write (from 1) to a path ending in `suffix` fails with `code`. */
export interface WriteFault {
  readonly code: 'ENOSPC' | 'EIO' | 'EACCES';
  readonly suffix: string;
  readonly nth: number;
}

/**
 * A simulated failure as it goes: counts the writes to matching files. Made once (for a run,
 * say) and passed to each write in WriteOptions.faults.
 */
export class WriteFaults {
  private count = 0;
  constructor(readonly fault: WriteFault) {}

  /** The code the write to `target` fails with, or null (it counts the writes that match). */
  failure(target: string): WriteFault['code'] | null {
    return target.endsWith(this.fault.suffix) && ++this.count === this.fault.nth ? this.fault.code : null;
  }
}

export interface WriteOptions {
  /** a simulated failure, for tests of the failure paths */
  readonly faults?: WriteFaults;
  /**
   * flush each file to disk before it replaces its target (default true). Off, a write is still
   * whole or not there at all for every reader, and survives the process being killed, but not
   * the machine losing power: for scratch copies whose durable copy is kept elsewhere (a queue
   * worker's runs, shipped to Redis).
   */
  readonly durable?: boolean;
}

/** Parses `CODE:SUFFIX[:N]`, e.g. `ENOSPC:last.safetensors:2`, as the CLI reads it from ENGRAM_TEST_WRITE_FAULT. */
export function parseWriteFault(spec: string): WriteFault {
  const [code, suffix, nth] = spec.split(':');
  if ((code !== 'ENOSPC' && code !== 'EIO' && code !== 'EACCES') || !suffix) {
    throw new WriteError(`write fault "${spec}" is not CODE:SUFFIX[:N] with CODE one of ENOSPC, EIO, EACCES`);
  }
  return { code, suffix, nth: nth === undefined ? 1 : Number(nth) };
}

/** Writes `bytes` to fd; a simulated fault writes half of them and then fails. */
function writeAll(fd: number, bytes: Uint8Array, target: string, writes: WriteOptions): void {
  let end = bytes.length;
  const failWith = writes.faults?.failure(target) ?? null;
  if (failWith !== null) end = bytes.length >> 1;
  let off = 0;
  while (off < end) off += writeSync(fd, bytes, off, end - off);
  if (failWith !== null) {
    throw Object.assign(new Error(`${failWith}: simulated failure, write '${target}'`), { code: failWith });
  }
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? new TextEncoder().encode(data) : data;
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // some filesystems cannot fsync a directory; the renames have happened either way
  }
}

/**
 * Replaces every `[path, data]` in order. All temporary files are written and flushed before
 * the first rename, so a failure while writing leaves every target as it was.
 */
export function writeFilesAtomic(files: readonly (readonly [string, Uint8Array | string])[], writes: WriteOptions = {}): void {
  const temps: string[] = [];
  let current = files[0]?.[0] ?? '';
  try {
    for (const [path, data] of files) {
      current = path;
      const tmp = `${path}.tmp-${process.pid}`;
      temps.push(tmp);
      const fd = openSync(tmp, 'w');
      try {
        writeAll(fd, toBytes(data), path, writes);
        if (writes.durable !== false) fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    for (let i = 0; i < files.length; i++) {
      current = files[i]![0];
      renameSync(temps[i]!, current);
      temps[i] = '';
    }
  } catch (err) {
    for (const tmp of temps) {
      try {
        if (tmp !== '') rmSync(tmp, { force: true });
      } catch {
        // it was never created (its directory is missing or not a directory)
      }
    }
    throw new WriteError(describeFsError(err, current));
  }
  if (writes.durable !== false) for (const dir of new Set(files.map(([p]) => dirname(p)))) fsyncDir(dir);
}

export function writeFileAtomic(path: string, data: Uint8Array | string, writes: WriteOptions = {}): void {
  writeFilesAtomic([[path, data]], writes);
}

/** Appends `text` and flushes it (unless `durable` is off); if that fails part-way, the file is cut back to its old length. */
export function appendFileSafely(path: string, text: string, writes: WriteOptions = {}): void {
  let fd: number;
  try {
    fd = openSync(path, 'a');
  } catch (err) {
    throw new WriteError(describeFsError(err, path));
  }
  let size = 0;
  try {
    size = fstatSync(fd).size;
    writeAll(fd, toBytes(text), path, writes);
    if (writes.durable !== false) fsyncSync(fd);
  } catch (err) {
    try {
      ftruncateSync(fd, size);
    } catch {
      // nothing more can be done; the message below still says what failed
    }
    throw new WriteError(describeFsError(err, path));
  } finally {
    closeSync(fd);
  }
}

/** One line naming the file and the cause, for the common errno codes. */
export function describeFsError(err: unknown, path: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `no space left on the device while writing ${path}; free some space (the previous files are kept)`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied writing ${path}; choose a writable --run-dir`;
    case 'EROFS':
      return `${path} is on a read-only filesystem; choose a writable --run-dir`;
    case 'ENOENT':
      return `cannot write ${path}: its directory does not exist`;
    case 'ENOTDIR':
      return `cannot write ${path}: a part of that path is a file, not a directory`;
    case 'EISDIR':
      return `cannot write ${path}: it is a directory`;
    case 'EEXIST':
      return `cannot create ${path}: a file of that name exists`;
    default:
      return `cannot write ${path}: ${String((err as Error).message).split('\n')[0]}`;
  }
}

/**
 * `mkdir -p` one folder at a time. Node's own `mkdirSync(dir, { recursive: true })` never
 * returns where mkdir fails with ENOENT under a parent that exists (`/proc/x`: it retries the
 * parent, which exists, then the child, for ever); here every failure is a WriteError.
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue; // made by someone else meanwhile
      throw new WriteError(code === 'ENOENT'
        ? `cannot create the folder ${d}: ${dirname(d)} refuses new folders (a special file system such as /proc?); choose another folder`
        : describeFsError(err, resolve(dir)));
    }
  }
  if (!statSync(dir).isDirectory()) throw new WriteError(`cannot create the folder ${dir}: a file of that name exists`);
}
