import { readFileSync, statSync, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ArgusError } from '../contract/errors.ts';

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

const capitalised = (text: string): string => `${text[0].toUpperCase()}${text.slice(1)}`;

/**
 * Checks a file the user named (weights, an image, a manifest) before it is read: it must be a
 * regular file of at most `maxBytes`, so a device such as /dev/zero, a pipe or a folder gets a
 * clear error at once instead of a read that never ends.
 */
function checkUserFile(path: string, what: string, maxBytes: number): void {
  let stat: Stats;
  try {
    stat = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ArgusError(code === 'ENOENT' ? 'not_found' : 'bad_input', `Cannot read ${what} ${path} (${code ?? (error as Error).message})`, { key: 'cannotRead', params: { path } });
  }
  if (!stat.isFile()) throw new ArgusError('bad_input', `${capitalised(what)} ${path} is ${kindOf(stat)}, not a file`, { key: 'notAFile', params: { path } });
  if (stat.size > maxBytes) throw new ArgusError('bad_input', `${capitalised(what)} ${path} is ${(stat.size / 2 ** 20).toFixed(0)} MB, more than the ${(maxBytes / 2 ** 20).toFixed(0)} MB allowed`, { key: 'fileTooLarge', params: { path, mb: Math.round(maxBytes / 2 ** 20) } });
}

/** A checked user file's bytes, read off the event loop (inspection and import read many). */
export async function readUserFile(path: string, what: string, maxBytes: number): Promise<Buffer> {
  checkUserFile(path, what, maxBytes);
  return readFile(path);
}

/** The same, for the synchronous parsers (weights, manifests, COCO files). */
export function readUserFileSync(path: string, what: string, maxBytes: number): Buffer {
  checkUserFile(path, what, maxBytes);
  return readFileSync(path);
}
