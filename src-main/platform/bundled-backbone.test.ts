import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test-support/fixtures.ts';
import { bundledBackbone, verifyBundledBackbone } from './bundled-backbone.ts';

describe('bundled backbone', () => {
  it('ships with the app: the manifest pins the file that is there', async () => {
    const backbone = bundledBackbone();
    expect(backbone).toMatchObject({ sha256: 'ad1987b9274fa6d2d2dbad7cecee8d60de84877e8eb4c0c5ad63234be24a3dc5', bytes: 51_459_032, license: 'Apache-2.0' });
    await expect(verifyBundledBackbone(backbone!)).resolves.toBeUndefined();
  });

  it('refuses a file that does not match its pinned SHA-256', async () => {
    const dir = tempDir();
    try {
      const path = join(dir.path, 'weights.safetensors');
      writeFileSync(path, 'not the weights');
      const wrong = { path, sha256: createHash('sha256').update('the weights').digest('hex'), bytes: 11, name: 'x', license: 'x' };
      await expect(verifyBundledBackbone(wrong)).rejects.toThrow(/does not match its SHA-256/);
      const right = { ...wrong, sha256: createHash('sha256').update('not the weights').digest('hex') };
      await expect(verifyBundledBackbone(right)).resolves.toBeUndefined();
    } finally {
      dir.cleanup();
    }
  });
});
