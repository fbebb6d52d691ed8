import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgusService } from '../app/service.ts';
import { sha256Hex } from '../store/blob-store.ts';
import { hasShared, SHARED_WEIGHTS, tempDir } from '../../test-support/fixtures.ts';
import { downloadVerified } from './weights-download.ts';

describe('weights download', () => {
  const dir = tempDir();
  const payload = Buffer.from('weights '.repeat(5000));
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/w.bin') return void res.end(payload);
      if (req.url === '/resnet50.safetensors' && hasShared) return void res.end(readFileSync(SHARED_WEIGHTS));
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    dir.cleanup();
  });

  it('keeps a file whose SHA-256 matches and discards one that does not', async () => {
    const good = join(dir.path, 'good.bin');
    await downloadVerified(`${base}/w.bin`, sha256Hex(payload), good);
    expect(readFileSync(good)).toEqual(payload);
    const bad = join(dir.path, 'bad.bin');
    await expect(downloadVerified(`${base}/w.bin`, 'a'.repeat(64), bad)).rejects.toThrow(/does not match the expected SHA-256/);
    expect(existsSync(bad) || existsSync(`${bad}.part`)).toBe(false);
    await expect(downloadVerified(`${base}/missing`, 'a'.repeat(64), bad)).rejects.toThrow(/HTTP 404/);
  });

  it.skipIf(!hasShared)('downloads, verifies and adopts backbone weights through the engine', async () => {
    const service = new ArgusService({ dataDir: join(dir.path, 'data') });
    try {
      const sha256 = sha256Hex(readFileSync(SHARED_WEIGHTS));
      const job = await service.jobs.wait((await service.downloadBackboneWeights({ url: `${base}/resnet50.safetensors`, sha256 })).id);
      expect(job).toMatchObject({ state: 'succeeded', result: { sha256, hasClassifier: true } });
      expect(service.store.settings.get('backbone')).toEqual({ sha256 });
    } finally {
      await service.close();
    }
  });
});
