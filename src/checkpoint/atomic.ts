/**
 * @file Atomic file writes: write a temporary file beside the target, flush it to disk,
 * then rename it over the target. A failure at any point leaves the old file intact.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export class WriteError extends Error {}

export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'w');
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== null) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new WriteError(describeFsError(err, path));
  }
  try {
    const dfd = openSync(dirname(path), 'r');
    fsyncSync(dfd);
    closeSync(dfd);
  } catch {
    // some filesystems cannot fsync a directory; the rename has happened either way
  }
}

/** One line naming the file and the cause, for the common errno codes. */
export function describeFsError(err: unknown, path: string): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOSPC':
      return `no space left on the device while writing ${path}; free some space (the previous file is kept)`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied writing ${path}; choose a writable --run-dir`;
    case 'EROFS':
      return `${path} is on a read-only filesystem; choose a writable --run-dir`;
    case 'ENOENT':
      return `cannot write ${path}: its directory does not exist`;
    default:
      return `cannot write ${path}: ${(err as Error).message}`;
  }
}
