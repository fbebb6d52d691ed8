import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgusService } from '../app/service.ts';
import { encodeRuns, strokeSegment } from '../common/geometry.ts';
import { tempDir, writeBlemishDataset } from '../../test-support/fixtures.ts';
import type { DatasetSample } from '../store/datasets.ts';
import { labelMap } from '../images/label-map.ts';

describe('dataset export', () => {
  const first = tempDir();
  const second = tempDir();
  const source = tempDir();
  const out = tempDir();
  let a: ArgusService;
  let b: ArgusService;
  beforeAll(async () => {
    await writeBlemishDataset(source.path);
    a = new ArgusService({ dataDir: first.path, actor: 'qa' });
    b = new ArgusService({ dataDir: second.path, actor: 'qa' });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    for (const d of [first, second, source, out]) d.cleanup();
  });

  it('writes a manifest folder that imports back to the same images, splits, labels and pixel labels', async () => {
    const imported = await a.jobs.wait((await a.importDataset({ path: source.path })).id);
    const datasetId = (imported.result as { datasetId: number }).datasetId;
    // Labels drawn in Argus on a good image: a box, a polygon and a brush stroke.
    const good = (await a.listDatasetImages({ datasetId, label: 'good', limit: 1 })).items[0];
    const brush = new Uint8Array(96 * 64);
    strokeSegment(brush, 96, 64, [60, 40], [80, 50], 3, 1);
    await a.saveImageAnnotations({ datasetId, imageId: good.imageId, annotations: [
      { shape: 'box', classIndex: 1, box: [4, 5, 20, 18] },
      { shape: 'polygon', classIndex: 1, points: [[30, 10], [50, 12], [40, 30]] },
      { shape: 'mask', classIndex: 1, runs: encodeRuns(brush) },
    ] });

    const target = join(out.path, 'blemish-export');
    const job = await a.jobs.wait((await a.exportDataset({ datasetId, path: target })).id);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.result).toMatchObject({ images: 18, masks: 13 });
    expect(JSON.parse(readFileSync(join(target, 'manifest.json'), 'utf8'))).toMatchObject({ name: 'blemish', classes: { 1: 'blemish' } });
    // Exporting over it again is refused: nothing is overwritten.
    expect((await a.jobs.wait((await a.exportDataset({ datasetId, path: target })).id)).error?.message).toMatch(/not empty/);

    await expectSameDataset(target, datasetId, 'manifest');

    // COCO: the same content as annotations.json, pixel labels as RLE masks.
    const cocoTarget = join(out.path, 'blemish-coco');
    const coco = await a.jobs.wait((await a.exportDataset({ datasetId, path: cocoTarget, format: 'coco' })).id);
    expect(coco.state, JSON.stringify(coco.error)).toBe('succeeded');
    expect(coco.result).toMatchObject({ format: 'coco', images: 18, masks: 13 });
    const json = JSON.parse(readFileSync(join(cocoTarget, 'annotations.json'), 'utf8'));
    expect(json.categories).toEqual([{ id: 1, name: 'blemish' }]);
    expect(json.images[0]).toMatchObject({ id: 1, width: 96, height: 64, split: expect.any(String) });
    const drawn = json.annotations.filter((x: { image_id: number }) => json.images[x.image_id - 1].file_name === good.file);
    // The drawn image: its pixels as one RLE mask (box + polygon + stroke) and the box on its own.
    expect(drawn).toHaveLength(2);
    expect(drawn[0]).toMatchObject({ category_id: 1, segmentation: { size: [64, 96], counts: expect.any(Array) } });
    expect(drawn[1]).toMatchObject({ category_id: 1, bbox: [4, 5, 16, 13] });
    await expectSameDataset(cocoTarget, datasetId, 'coco');
  });

  /** Imports an export into the second data directory and compares it with the original, pixel label by pixel label. */
  async function expectSameDataset(folder: string, datasetId: number, format: 'manifest' | 'coco'): Promise<void> {
    const again = await b.jobs.wait((await b.importDataset({ path: folder, name: `copy-${format}`, projectName: `copy-${format}` })).id);
    expect(again.state, JSON.stringify(again.error)).toBe('succeeded');
    expect(again.result).toMatchObject({ format });
    const copyId = (again.result as { datasetId: number }).datasetId;
    const original = a.store.datasets.samples(datasetId);
    const copy = b.store.datasets.samples(copyId);
    const row = (s: DatasetSample) => [s.file, s.sha256, s.split, s.label, s.group];
    expect(copy.map(row)).toEqual(original.map(row));
    expect(new Set(original.map((s) => s.group))).toEqual(new Set(['cam-a', 'cam-b', null]));
    for (const [i, sample] of original.entries()) {
      expect(Buffer.from(await labelMap(b.store.blobs, copy[i])).equals(Buffer.from(await labelMap(a.store.blobs, sample))), sample.file).toBe(true);
    }
  }
});
