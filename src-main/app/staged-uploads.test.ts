import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test-support/fixtures.ts';
import { collectUploadedDataset, collectUploads, stagedFile, stageUpload } from './staged-uploads.ts';

const stage = async (dataDir: string, name: string, text = name) => ({ ...(await stageUpload(dataDir, [Buffer.from(text)], 1000)), name });

describe('staged uploads', () => {
  it('keep a dataset folder\'s layout, every path inside the batch folder, and name it after the chosen folder', async () => {
    const dir = tempDir('argus-uploads-');
    try {
      const uploads = [
        await stage(dir.path, 'line-7/good/a.png'), await stage(dir.path, 'line-7/masks/b.png'), await stage(dir.path, 'line-7/manifest.json'),
        await stage(dir.path, 'line-7/../../../etc/passwd', 'escape'), await stage(dir.path, 'line-7\\good\\a.png', 'second a'),
      ];
      const { folder, root } = await collectUploadedDataset(dir.path, uploads);
      expect(relative(folder, root)).toBe('line-7');
      const files = (readdirSync(folder, { recursive: true, encoding: 'utf8' }) as string[]).filter((f) => /\.(png|json)$|passwd$/.test(f)).sort();
      expect(files).toEqual(['line-7/etc/passwd', 'line-7/good/1-a.png', 'line-7/good/a.png', 'line-7/manifest.json', 'line-7/masks/b.png']);
      expect(readFileSync(join(folder, 'line-7/etc/passwd'), 'utf8')).toBe('escape');
      // Taken uploads are gone from the staging folder.
      for (const u of uploads) expect(() => stagedFile(dir.path, u)).toThrow(/uploads are kept for a day/);
    } finally {
      dir.cleanup();
    }
  });

  it('reduce names to their base name unless folders are kept, and refuse an id that is not one', async () => {
    const dir = tempDir('argus-uploads-');
    try {
      const paths = await collectUploads(dir.path, [await stage(dir.path, 'x/part.png'), await stage(dir.path, 'y/part.png')], join(dir.path, 'batch'));
      expect(paths.map((p) => relative(dir.path, p))).toEqual(['batch/part.png', 'batch/1-part.png']);
      expect(() => stagedFile(dir.path, { id: '../../etc/passwd' })).toThrow(/No staged upload/);
      expect(existsSync(join(dir.path, 'batch', 'part.png'))).toBe(true);
    } finally {
      dir.cleanup();
    }
  });
});
