import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes a file so that readers (and a restart after a crash) see either the old content or the
 * new one in full: temporary file, flushed to disk, renamed into place.
 */
export async function writeFileAtomic(target: string, bytes: Uint8Array | Uint8Array[]): Promise<void> {
  mkdirSync(dirname(target), { recursive: true });
  const temporary = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    for (const chunk of Array.isArray(bytes) ? bytes : [bytes]) await handle.write(chunk);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(temporary, target);
}
