import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportResult } from '../contract/contract.ts';
import { pngOf, tempDir, texture, writeFile } from '../../test-support/fixtures.ts';
import { dispatch } from './dispatch.ts';
import { CallerSession } from './roles.ts';
import { ArgusService } from './service.ts';

describe('from the line back to the dataset', () => {
  const data = tempDir('argus-reviews-');
  const source = tempDir('argus-reviews-src-');
  let service: ArgusService;
  let datasetId: number;
  const inspected: number[] = [];

  beforeAll(async () => {
    writeFile(join(source.path, 'a.png'), await pngOf(texture(32, 24, 1), 32, 24));
    writeFile(join(source.path, 'manifest.json'), JSON.stringify({ name: 'line', classes: { 1: 'dent', 2: 'scratch' }, samples: [{ file: 'a.png', split: 'train', label: 'good' }] }));
    service = new ArgusService({ dataDir: data.path, actor: 'test' });
    datasetId = ((await service.jobs.wait((await service.importDataset({ path: source.path })).id)).result as ImportResult).datasetId;
    // Three results from the line, each with its own stored image.
    for (const [i, verdict] of (['NG', 'REVIEW', 'OK'] as const).entries()) {
      const bytes = await pngOf(texture(32, 24, 10 + i), 32, 24);
      const sha256 = await service.store.blobs.put(bytes);
      const image = service.store.datasets.upsertImage({ sha256, originalName: `p${i}.png`, format: 'png', width: 32, height: 24, channels: 3, bitDepth: 8, bytes: bytes.length, source: 'inspection' });
      inspected.push(service.store.history.record({
        imageId: image.id, sourcePath: `/line/p${i}.png`, modelVersionId: null, verdict, score: 0.5, rawScore: 1, regions: [], thresholds: {}, timings: {}, error: null, operator: 'line',
      }));
    }
  });
  afterAll(async () => {
    await service.close();
    data.cleanup();
    source.cleanup();
  });

  it('queues disputed and REVIEW results, adds one to the dataset with its corrected class, and keeps the rest out', async () => {
    const operator = new CallerSession();
    await service.setEngineerPin({ pin: '4711' });
    // An operator may confirm or dispute, not add to a dataset.
    expect(await dispatch(service, operator, 'reviewInspection', { inspectionId: inspected[0], opinion: 'disputed', correctLabel: 'scratch' })).toMatchObject({ ok: true });
    expect(await dispatch(service, operator, 'reviewInspection', { inspectionId: inspected[2], opinion: 'confirmed' })).toMatchObject({ ok: true });
    expect(await dispatch(service, operator, 'addToDataset', { inspectionId: inspected[0], datasetId, label: 'defect', classIndex: 2 })).toMatchObject({ ok: false, error: { code: 'forbidden' } });

    const queue = await service.listReviewQueue({});
    expect(queue.map((q) => [q.inspectionId, q.verdict, q.opinion, q.correctLabel])).toEqual([[inspected[1], 'REVIEW', null, null], [inspected[0], 'NG', 'disputed', 'scratch']]);

    await service.addToDataset({ inspectionId: inspected[0], datasetId, label: 'defect', classIndex: 2 });
    await service.dismissReview({ inspectionId: inspected[1] });
    expect(await service.listReviewQueue({})).toEqual([]);
    const added = service.store.datasets.samples(datasetId).find((s) => s.file.endsWith('p0.png'))!;
    expect(added).toMatchObject({ label: 'defect', imageClasses: [2] });
    expect(service.store.datasets.samples(datasetId)).toHaveLength(2);
    await expect(service.addToDataset({ inspectionId: inspected[0], datasetId, label: 'defect', classIndex: 7 })).rejects.toThrow(/class 7 is not a class/);
    const audit = (await service.listAuditLog({})).map((a) => a.action);
    expect(audit).toEqual(expect.arrayContaining(['inspection.dispute', 'inspection.confirm', 'inspection.add-to-dataset', 'inspection.dismiss-review']));
  });
});
