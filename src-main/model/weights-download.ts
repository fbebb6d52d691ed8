import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { ArgusError } from '../contract/errors.ts';

/**
 * Downloads a file to `destination`, verifying its SHA-256 against the expected digest while it
 * streams. A mismatch, an HTTP error or an interrupted transfer leaves nothing at `destination`.
 */
export async function downloadVerified(url: string, expectedSha256: string, destination: string, onProgress?: (received: number, total: number) => void, signal?: AbortSignal): Promise<void> {
  const expected = expectedSha256.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(expected)) throw new ArgusError('invalid_argument', 'The expected SHA-256 must be 64 hex digits');
  let response: Response;
  try {
    response = await fetch(url, { signal, redirect: 'follow' });
  } catch (error) {
    throw new ArgusError('unsupported', `Cannot download ${url}: ${(error as Error).message} (no network? copy the file over and use "weights import")`, { key: 'downloadFailed', params: { url, reason: (error as Error).message } });
  }
  if (!response.ok || !response.body) throw new ArgusError('not_found', `Cannot download ${url}: HTTP ${response.status}`, { key: 'downloadFailed', params: { url, reason: `HTTP ${response.status}` } });
  const total = Number(response.headers.get('content-length') ?? 0);
  const temporary = `${destination}.part`;
  const hash = createHash('sha256');
  const file = createWriteStream(temporary);
  let received = 0;
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      received += chunk.length;
      if (!file.write(chunk)) await new Promise<void>((r) => file.once('drain', () => r()));
      onProgress?.(received, total);
    }
    await new Promise<void>((resolve, reject) => file.end((error?: Error | null) => (error ? reject(error) : resolve())));
    const actual = hash.digest('hex');
    if (actual !== expected) throw new ArgusError('bad_input', `Downloaded file does not match the expected SHA-256 (got ${actual}); it was discarded`, { key: 'downloadMismatch' });
    await rename(temporary, destination);
  } catch (error) {
    file.destroy();
    await rm(temporary, { force: true });
    throw error;
  }
}
