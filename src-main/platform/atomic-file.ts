import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ArgusError } from '../contract/errors.ts';

/**
 * Flushes a directory's entries (a rename or a new file in it) to disk. Windows cannot open a
 * directory for flushing; NTFS journals renames, so there is nothing more to do there.
 */
export function fsyncDirectory(directory: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A temporary name beside `target` that no other writer (thread or process) will use. */
export const temporaryNameFor = (target: string): string => `${target}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`;

/**
 * Writes a file so that readers (and a restart after a crash or a power cut) see either the old
 * content or the new one in full: temporary file, flushed to disk, renamed into place, and the
 * directory flushed so the rename itself survives.
 */
export async function writeFileAtomic(target: string, bytes: Uint8Array | string | (Uint8Array | string)[]): Promise<void> {
  const chunks = (Array.isArray(bytes) ? bytes : [bytes]).map((chunk) => (typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
  await writeStreamAtomic(target, chunks, Infinity);
}

/**
 * Streams bytes to `target` durably (temporary file, flushed, renamed, folder flushed), refusing
 * more than `maxBytes`: the temporary file is then removed and nothing appears under the
 * target's name.
 */
export async function writeStreamAtomic(target: string, body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, maxBytes: number): Promise<number> {
  mkdirSync(dirname(target), { recursive: true });
  const temporary = temporaryNameFor(target);
  const handle = await open(temporary, 'w');
  let total = 0;
  try {
    for await (const chunk of body) {
      total += chunk.length;
      if (total > maxBytes) throw new ArgusError('invalid_argument', `Larger than the ${Math.round(maxBytes / 2 ** 20)} MB allowed`, { key: 'uploadTooLarge', params: { mb: Math.round(maxBytes / 2 ** 20) } });
      await handle.write(chunk);
    }
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(temporary, target);
  fsyncDirectory(dirname(target));
  return total;
}

/** Appends text and flushes it to disk before returning (a result line that was reported is kept). */
export async function appendDurably(path: string, text: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const handle = await open(path, 'a');
  try {
    await handle.write(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Moves a file and flushes both directories, so the move is on disk before anything records it. */
export async function renameDurably(source: string, target: string): Promise<void> {
  mkdirSync(dirname(target), { recursive: true });
  await rename(source, target);
  fsyncDirectory(dirname(target));
  if (dirname(source) !== dirname(target)) fsyncDirectory(dirname(source));
}
