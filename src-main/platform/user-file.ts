import { closeSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { ArgusError } from '../api/errors.ts';

/** Largest files Argus reads from the user's disk, by kind. */
export const MAX_FILE_BYTES = {
  image: 512 * 2 ** 20,
  weights: 2 * 2 ** 30,
  json: 256 * 2 ** 20,
} as const;

function kindOf(stat: Stats): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFIFO()) return 'a pipe (FIFO)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Reads a file the user named (weights, an image, a manifest) after checking that it is a
 * regular file of at most `maxBytes`: a device such as /dev/zero, a pipe or a folder gets a clear
 * error at once instead of a read that never ends.
 */
export function readUserFile(path: string, what: string, maxBytes: number): Buffer {
  let stat: Stats;
  try {
    stat = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ArgusError(code === 'ENOENT' ? 'not_found' : 'bad_input', `Cannot read ${what} ${path} (${code ?? (error as Error).message})`);
  }
  if (!stat.isFile()) throw new ArgusError('bad_input', `${what[0].toUpperCase()}${what.slice(1)} ${path} is ${kindOf(stat)}, not a file`);
  if (stat.size > maxBytes) throw new ArgusError('bad_input', `${what[0].toUpperCase()}${what.slice(1)} ${path} is ${(stat.size / 2 ** 20).toFixed(0)} MB, more than the ${(maxBytes / 2 ** 20).toFixed(0)} MB allowed`);
  const fd = openSync(path, 'r');
  try {
    // Read what the file holds now (it may have grown since the check), never more than the limit.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(Math.max(stat.size - total, 1 << 16), maxBytes + 1 - total));
      const n = chunk.length > 0 ? readSync(fd, chunk, 0, chunk.length, null) : 0;
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > maxBytes) throw new ArgusError('bad_input', `${what[0].toUpperCase()}${what.slice(1)} ${path} grew past the ${(maxBytes / 2 ** 20).toFixed(0)} MB allowed while it was read`);
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}
