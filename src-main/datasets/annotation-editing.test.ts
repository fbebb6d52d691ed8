import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgusService } from '../app/service.ts';
import { encodeRuns, fillPolygon, strokeSegment } from '../common/geometry.ts';
import { tempDir, writeBlemishDataset } from '../../test-support/fixtures.ts';
import { labelMap } from '../images/label-map.ts';

describe('editing an image\'s annotations', () => {
  const data = tempDir();
  const source = tempDir();
  let service: ArgusService;
  let datasetId: number;
  let imageId: number;
  const [W, H] = [96, 64];

  beforeAll(async () => {
    await writeBlemishDataset(source.path);
    service = new ArgusService({ dataDir: data.path, actor: 'qa-anna' });
    const job = await service.jobs.wait((await service.importDataset({ path: source.path })).id);
    datasetId = (job.result as { datasetId: number }).datasetId;
    imageId = (await service.listDatasetImages({ datasetId, label: 'good', split: 'train' })).items[0].imageId;
  });
  afterAll(async () => {
    await service?.close();
    data.cleanup();
    source.cleanup();
  });

  it('saves boxes, polygons and brush masks, keeps them by id, and the training labels follow pixel for pixel', async () => {
    expect((await service.getImageAnnotations({ datasetId, imageId })).annotations).toMatchObject([{ shape: 'good' }]);
    const brush = new Uint8Array(W * H);
    strokeSegment(brush, W, H, [60, 40], [80, 50], 3, 1);
    const saved = await service.saveImageAnnotations({
      datasetId, imageId, annotations: [
        { shape: 'box', classIndex: 1, box: [4, 5, 20, 18] },
        { shape: 'polygon', classIndex: 1, points: [[30, 10], [50, 12], [40, 30]] },
        { shape: 'mask', classIndex: 1, runs: encodeRuns(brush) },
      ],
    });
    expect(saved.label).toBe('defect');
    expect(saved.annotations.map((a) => a.shape)).toEqual(['box', 'polygon', 'mask']);
    expect(saved.annotations.every((a) => a.author === 'qa-anna')).toBe(true);
    const mask = saved.annotations[2];
    expect(mask.shape === 'mask' && mask.runs).toEqual(encodeRuns(brush));

    // Training sees exactly what was drawn: the box, the filled polygon and the painted pixels.
    const sample = service.store.datasets.samples(datasetId, 'train').find((s) => s.imageId === imageId)!;
    const expected = new Uint8Array(W * H);
    for (let y = 5; y < 18; y++) expected.fill(1, y * W + 4, y * W + 20);
    fillPolygon(expected, W, H, [[30, 10], [50, 12], [40, 30]], 1);
    brush.forEach((v, i) => v && (expected[i] = 1));
    expect(Array.from(await labelMap(service.store.blobs, sample))).toEqual(Array.from(expected));

    // Editing: move the box (same id), drop the polygon and the mask.
    const [box] = saved.annotations;
    const edited = await service.saveImageAnnotations({ datasetId, imageId, annotations: [{ ...box, box: [6, 5, 22, 18] } as typeof box] });
    expect(edited.annotations).toHaveLength(1);
    expect(edited.annotations[0]).toMatchObject({ id: box.id, shape: 'box', box: [6, 5, 22, 18] });
    expect((await service.listAuditLog({})).filter((e) => e.action === 'annotations.save').length).toBe(2);

    const cleared = await service.saveImageAnnotations({ datasetId, imageId, annotations: [] });
    expect(cleared).toMatchObject({ label: 'unlabeled', annotations: [] });
  });

  it('refuses unknown classes, masks of the wrong size, and good plus defect, changing nothing', async () => {
    await service.saveImageAnnotations({ datasetId, imageId, annotations: [{ shape: 'good' }] });
    await expect(service.saveImageAnnotations({ datasetId, imageId, annotations: [{ shape: 'box', classIndex: 7, box: [1, 1, 5, 5] }] })).rejects.toThrow(/class 7 is not a class/);
    await expect(service.saveImageAnnotations({ datasetId, imageId, annotations: [{ shape: 'mask', classIndex: 1, runs: [10, 5] }] })).rejects.toThrow(/cover 15 pixels/);
    await expect(service.saveImageAnnotations({ datasetId, imageId, annotations: [{ shape: 'good' }, { shape: 'box', classIndex: 1, box: [1, 1, 5, 5] }] })).rejects.toThrow(/marked good/);
    await expect(service.saveImageAnnotations({ datasetId, imageId: 999, annotations: [] })).rejects.toThrow(/not in dataset/);
    expect(await service.getImageAnnotations({ datasetId, imageId })).toMatchObject({ label: 'good', annotations: [{ shape: 'good' }] });
  });

  it('labels a whole image with one class beside its regions, and refuses two classes or a class on a good image', async () => {
    const saved = await service.saveImageAnnotations({ datasetId, imageId, annotations: [{ shape: 'class', classIndex: 1 }, { shape: 'box', classIndex: 1, box: [2, 2, 9, 9] }] });
    expect(saved).toMatchObject({ label: 'defect' });
    expect(saved.annotations.map((a) => a.shape).sort()).toEqual(['box', 'class']);
    const sample = (await service.store.datasets.samples(datasetId)).find((x) => x.imageId === imageId)!;
    expect(sample.imageClasses).toEqual([1]);
    await expect(service.saveImageAnnotations({ datasetId, imageId, annotations: [{ shape: 'class', classIndex: 1 }, { shape: 'class', classIndex: 1 }] })).rejects.toThrow(/at most one whole-image class/);
    await expect(service.saveImageAnnotations({ datasetId, imageId, annotations: [{ shape: 'good' }, { shape: 'class', classIndex: 1 }] })).rejects.toThrow(/marked good/);
    const classOnly = await service.saveImageAnnotations({ datasetId, imageId, annotations: [{ shape: 'class', classIndex: 1 }] });
    expect(classOnly).toMatchObject({ label: 'defect', annotations: [{ shape: 'class', classIndex: 1 }] });
  });
});
