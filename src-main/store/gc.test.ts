import { utimesSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgusService } from '../app/service.ts';
import { encodeRuns, strokeSegment } from '../common/geometry.ts';
import { tempDir, writeBlemishDataset } from '../../test-support/fixtures.ts';

describe('removing unreferenced stored files', () => {
  const data = tempDir();
  const source = tempDir();
  let service: ArgusService;
  beforeAll(async () => {
    await writeBlemishDataset(source.path);
    service = new ArgusService({ dataDir: data.path, actor: 'admin' });
    await service.jobs.wait((await service.importDataset({ path: source.path })).id);
  });
  afterAll(async () => {
    await service.close();
    data.cleanup();
    source.cleanup();
  });

  const age = (sha256: string): void => {
    const old = new Date(Date.now() - 2 * 3600_000);
    utimesSync(service.store.blobs.pathOf(sha256), old, old);
  };

  it('keeps everything referenced (images, masks, snapshot masks) and removes old orphans only', async () => {
    const datasetId = service.store.datasets.list()[0].id;
    const [image] = (await service.listDatasetImages({ datasetId, label: 'defect', limit: 1 })).items;
    const before = await service.getImageAnnotations({ datasetId, imageId: image.imageId });
    const oldMask = before.annotations.find((a) => a.shape === 'mask')!;
    const oldSha = (service.store.annotations.forImage(service.store.datasets.get(datasetId).projectId, image.imageId).find((a) => a.shape === 'mask')!.geometry as { sha256: string }).sha256;
    // The mask is part of a training snapshot, then replaced by an edit: the snapshot still needs it.
    service.store.datasets.snapshot(datasetId);
    const brush = new Uint8Array(96 * 64);
    strokeSegment(brush, 96, 64, [10, 10], [30, 20], 3, 1);
    await service.saveImageAnnotations({ datasetId, imageId: image.imageId, annotations: [{ ...oldMask, runs: encodeRuns(brush) } as typeof oldMask] });
    const orphanOld = await service.store.blobs.put(Buffer.from('left over from a failed import'));
    const orphanNew = await service.store.blobs.put(Buffer.from('written a moment ago'));
    age(orphanOld);
    age(oldSha);
    age(image.sha256);

    expect(service.collectGarbage({ dryRun: true })).toEqual({ files: 1, bytes: 30 });
    expect(service.store.blobs.has(orphanOld)).toBe(true);
    expect(service.collectGarbage()).toEqual({ files: 1, bytes: 30 });
    expect(service.store.blobs.has(orphanOld)).toBe(false);
    expect(service.store.blobs.has(orphanNew)).toBe(true);
    expect(service.store.blobs.has(oldSha)).toBe(true);
    expect(service.store.blobs.has(image.sha256)).toBe(true);
    expect((await service.listAuditLog({}))[0]).toMatchObject({ action: 'blobs.gc', details: { files: 1, bytes: 30 } });
  });
});
