import { spawn } from 'node:child_process';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../store/store.ts';
import { bmpOf, jpegOf, maskOf, pngOf, tempDir, texture, writeFile, writeManifestDataset } from '../../test-support/fixtures.ts';
import { importDataset, splitFromDigest } from './importer.ts';
import { exportDataset } from './exporter.ts';

const REPO = join(import.meta.dirname, '../..');

describe('dataset import', () => {
  const dirs: { cleanup(): void }[] = [];
  const fresh = (): string => {
    const d = tempDir();
    dirs.push(d);
    return d.path;
  };
  afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));
  const rowCount = (store: Store, table: string): number => (store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

  it('imports a manifest dataset with splits, labels, masks and boxes, and re-importing adds nothing', async () => {
    const root = fresh();
    await writeManifestDataset(root, 4, 3);
    const store = new Store(fresh());
    const progress: string[] = [];
    const first = await importDataset(store, { path: root }, { actor: 'test', onProgress: (p) => progress.push(`${p.phase}:${p.done}/${p.total}`) });
    expect(first).toMatchObject({ format: 'manifest', images: 7, imagesAdded: 7 });
    // 4 good labels + 3 boxes + 3 masks
    expect(first.annotationsAdded).toBe(10);
    expect(progress[0]).toBe('reading:0/7');
    expect(progress).toContain('reading:7/7');
    expect(progress.at(-1)).toBe('saving:7/7');

    const dataset = store.datasets.get(first.datasetId);
    expect(dataset.counts).toEqual({ total: 7, train: 3, val: 2, test: 2, good: 4, defect: 3, unlabeled: 0 });
    // Each image's station, as the manifest names it: counted per group, and a filter.
    expect(dataset.groups).toEqual([{ name: 'station-1', images: 4 }, { name: 'station-2', images: 3 }]);
    const atStation2 = store.datasets.images({ datasetId: first.datasetId, group: 'station-2' });
    expect(atStation2.total).toBe(3);
    expect(atStation2.items.every((i) => i.group === 'station-2')).toBe(true);
    expect(store.datasets.images({ datasetId: first.datasetId, group: 'station-2', label: 'good' }).items.map((i) => i.file)).toEqual(['good/g1.png', 'good/g3.png']);
    expect(store.projects.get(first.projectId).classes.map((c) => c.name)).toEqual(['scratch']);
    const defects = store.datasets.images({ datasetId: first.datasetId, label: 'defect' });
    expect(defects.items.every((i) => i.classes.includes('scratch') && i.annotationCount === 2)).toBe(true);
    for (const item of defects.items) {
      expect(store.blobs.has(item.sha256)).toBe(true);
      expect(store.thumbnails.has(item.sha256)).toBe(true);
    }

    const again = await importDataset(store, { path: root }, { actor: 'test' });
    expect(again).toMatchObject({ datasetId: first.datasetId, imagesAdded: 0, annotationsAdded: 0 });
    expect(rowCount(store, 'images')).toBe(7);
    expect(rowCount(store, 'annotations')).toBe(10);
    expect(store.history.auditLog().filter((a) => a.action === 'dataset.import')).toHaveLength(2);
    store.close();
  });

  it('imports whole-image classes from a manifest\'s image_class and from a folder per class, and exports them again', async () => {
    const manifestRoot = fresh();
    const samples = [
      { file: 'a.png', split: 'train', image_class: 'dent' }, { file: 'b.png', split: 'train', image_class: 2 },
      { file: 'c.png', split: 'val', label: 'good' },
    ];
    for (const [i, sample] of samples.entries()) writeFile(join(manifestRoot, sample.file), await pngOf(texture(32, 24, i), 32, 24));
    writeFile(join(manifestRoot, 'manifest.json'), JSON.stringify({ name: 'parts', classes: { 1: 'dent', 2: 'scratch' }, samples }));
    const store = new Store(fresh());
    const first = await importDataset(store, { path: manifestRoot }, { actor: 'test' });
    const classesOf = (datasetId: number) => Object.fromEntries(store.datasets.samples(datasetId).map((x) => [x.file, [x.label, x.imageClasses]]));
    expect(classesOf(first.datasetId)).toEqual({ 'a.png': ['defect', [1]], 'b.png': ['defect', [2]], 'c.png': ['good', []] });
    expect((await importDataset(store, { path: manifestRoot }, { actor: 'test' })).annotationsAdded).toBe(0);

    const folderRoot = fresh();
    for (const [i, file] of ['good/1.png', 'good/2.png', 'scratch/3.png', 'dent/4.png', 'dent/5.png'].entries()) writeFile(join(folderRoot, file), await pngOf(texture(32, 24, 10 + i), 32, 24));
    const folder = await importDataset(store, { path: folderRoot, projectName: 'per class' }, { actor: 'test' });
    expect(store.projects.get(store.datasets.get(folder.datasetId).projectId).classes.map((c) => c.name)).toEqual(['dent', 'scratch']);
    expect(classesOf(folder.datasetId)).toEqual({
      'dent/4.png': ['defect', [1]], 'dent/5.png': ['defect', [1]], 'good/1.png': ['good', []], 'good/2.png': ['good', []], 'scratch/3.png': ['defect', [2]],
    });

    const out = join(fresh(), 'exported');
    await exportDataset(store, first.datasetId, out, 'manifest', () => undefined);
    const exported = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { samples: { file: string; image_class?: string }[] };
    expect(exported.samples.map((x) => [x.file, x.image_class])).toEqual([['a.png', 'dent'], ['b.png', 'scratch'], ['c.png', undefined]]);
  });

  it('re-importing a source that now names groups gives the images their groups and adds nothing else', async () => {
    const root = fresh();
    await writeManifestDataset(root, 2, 2);
    const manifestPath = join(root, 'manifest.json');
    const withGroups = readFileSync(manifestPath, 'utf8');
    const manifest = JSON.parse(withGroups) as { samples: { group?: string }[] };
    for (const s of manifest.samples) delete s.group;
    writeFileSync(manifestPath, JSON.stringify(manifest));
    const store = new Store(fresh());
    const first = await importDataset(store, { path: root }, { actor: 'test' });
    expect(store.datasets.get(first.datasetId).groups).toEqual([]);
    writeFileSync(manifestPath, withGroups);
    const again = await importDataset(store, { path: root }, { actor: 'test' });
    expect(again).toMatchObject({ datasetId: first.datasetId, imagesAdded: 0, annotationsAdded: 0 });
    expect(store.datasets.get(first.datasetId).groups).toEqual([{ name: 'station-1', images: 2 }, { name: 'station-2', images: 2 }]);
    store.close();
  });

  it('imports COCO boxes and polygons', async () => {
    const root = fresh();
    const raw = texture(80, 60, 1);
    writeFile(join(root, 'img/a.jpg'), await jpegOf(raw, 80, 60));
    writeFile(join(root, 'img/b.png'), await pngOf(texture(80, 60, 2), 80, 60));
    writeFile(join(root, 'annotations.json'), JSON.stringify({
      images: [{ id: 7, file_name: 'img/a.jpg', width: 80, height: 60 }, { id: 8, file_name: 'img/b.png', width: 80, height: 60 }],
      categories: [{ id: 3, name: 'dent' }, { id: 9, name: 'crack' }],
      annotations: [
        { id: 1, image_id: 7, category_id: 9, bbox: [10, 10, 20, 15] },
        { id: 2, image_id: 7, category_id: 3, segmentation: [[5, 5, 30, 5, 30, 25, 5, 25]], bbox: [5, 5, 25, 20] },
      ],
    }));
    const store = new Store(fresh());
    const result = await importDataset(store, { path: root }, { actor: 'test' });
    expect(result).toMatchObject({ format: 'coco', images: 2, imagesAdded: 2, annotationsAdded: 2 });
    expect(store.projects.get(result.projectId).classes.map((c) => [c.index, c.name])).toEqual([[1, 'dent'], [2, 'crack']]);
    const shapes = store.db.prepare('SELECT shape, geometry FROM annotations ORDER BY shape').all() as { shape: string; geometry: string }[];
    expect(shapes.map((s) => s.shape)).toEqual(['box', 'polygon']);
    expect(JSON.parse(shapes[0].geometry)).toEqual([10, 10, 30, 25]);
    const labels = store.datasets.images({ datasetId: result.datasetId }).items.map((i) => [i.file, i.label]);
    expect(labels).toEqual([['img/a.jpg', 'defect'], ['img/b.png', 'unlabeled']]);

    // Categories without boxes, and images' own image_class, label whole images.
    const classes = fresh();
    for (const [i, f] of ['c.png', 'd.png', 'e.png'].entries()) writeFile(join(classes, f), await pngOf(texture(40, 30, 30 + i), 40, 30));
    writeFile(join(classes, 'annotations.json'), JSON.stringify({
      images: [{ id: 1, file_name: 'c.png' }, { id: 2, file_name: 'd.png', image_class: 'crack' }, { id: 3, file_name: 'e.png', label: 'good' }, { id: 4, file_name: 'f.png', image_class: ['crack', 3] }],
      categories: [{ id: 3, name: 'dent' }, { id: 9, name: 'crack' }],
      // Several whole-image categories on one image: a part with several defects (multi-label).
      annotations: [{ id: 1, image_id: 1, category_id: 3 }, { id: 2, image_id: 1, category_id: 9 }],
    }));
    writeFile(join(classes, 'f.png'), await pngOf(texture(40, 30, 40), 40, 30));
    const whole = await importDataset(store, { path: classes, projectName: 'classes' }, { actor: 'test' });
    expect(store.datasets.samples(whole.datasetId).map((x) => [x.file, x.label, x.imageClasses])).toEqual([
      ['c.png', 'defect', [1, 2]], ['d.png', 'defect', [2]], ['e.png', 'good', []], ['f.png', 'defect', [2, 1]],
    ]);
    expect(store.datasets.images({ datasetId: whole.datasetId }).items.map((i) => i.imageClasses)).toEqual([['dent', 'crack'], ['crack'], [], ['crack', 'dent']]);
    store.close();
  });

  it('imports a plain folder of 8/16-bit PNG, grayscale, BMP, TIFF and JPEG with masks/', async () => {
    const root = fresh();
    const raw = texture(40, 30, 3);
    writeFile(join(root, 'ok/a.png'), await pngOf(raw, 40, 30));
    writeFile(join(root, 'b16.png'), await sharp(raw, { raw: { width: 40, height: 30, channels: 3 } }).toColourspace('rgb16').png().toBuffer());
    writeFile(join(root, 'gray.png'), await pngOf(Buffer.from(raw.filter((_, i) => i % 3 === 0)), 40, 30, 1));
    writeFile(join(root, 'frame.bmp'), bmpOf(texture(40, 30, 4), 40, 30));
    writeFile(join(root, 'scan.tiff'), await sharp(texture(40, 30, 5), { raw: { width: 40, height: 30, channels: 3 } }).tiff().toBuffer());
    writeFile(join(root, 'photo.jpg'), await jpegOf(texture(40, 30, 6), 40, 30));
    writeFile(join(root, 'masks/frame.png'), await maskOf(40, 30, { x: 10, y: 10, r: 3 }, 255));
    const store = new Store(fresh());
    const result = await importDataset(store, { path: root }, { actor: 'test' });
    expect(result).toMatchObject({ format: 'folder', images: 6, imagesAdded: 6 });
    const rows = store.db.prepare('SELECT original_name, format, bit_depth, channels FROM images ORDER BY original_name').all();
    expect(rows).toEqual([
      { original_name: 'a.png', format: 'png', bit_depth: 8, channels: 3 },
      { original_name: 'b16.png', format: 'png', bit_depth: 16, channels: 3 },
      { original_name: 'frame.bmp', format: 'bmp', bit_depth: 8, channels: 3 },
      { original_name: 'gray.png', format: 'png', bit_depth: 8, channels: 1 },
      { original_name: 'photo.jpg', format: 'jpeg', bit_depth: 8, channels: 3 },
      { original_name: 'scan.tiff', format: 'tiff', bit_depth: 8, channels: 3 },
    ]);
    const byFile = Object.fromEntries(store.datasets.images({ datasetId: result.datasetId }).items.map((i) => [i.file, i]));
    expect(byFile['ok/a.png'].label).toBe('good');
    expect(byFile['frame.bmp'].label).toBe('defect');
    expect(byFile['frame.bmp'].classes).toEqual(['defect']);
    expect(byFile['photo.jpg'].label).toBe('unlabeled');
    for (const item of Object.values(byFile)) expect(item.split).toBe(splitFromDigest(item.sha256));
    store.close();
  });

  it('refuses a dataset with bad entries, names every one of them, and imports nothing', async () => {
    const root = fresh();
    await writeManifestDataset(root, 3, 2);
    const manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8'));
    truncateSync(join(root, 'good/g1.png'), 200); // truncated image
    writeFileSync(join(root, 'good/g2.png'), 'not an image at all'); // wrong content
    writeFile(join(root, 'masks/d0.png'), await maskOf(10, 10, { x: 2, y: 2, r: 1 })); // mask of the wrong size
    manifest.samples.push({ file: 'images/missing.png', split: 'train', label: 'good' });
    manifest.samples.push({ file: '../../etc/passwd', split: 'train', label: 'good' });
    writeFileSync(join(root, 'manifest.json'), JSON.stringify(manifest));
    const store = new Store(fresh());
    const error = await importDataset(store, { path: root }, { actor: 'test' }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/^5 of 7 entries cannot be imported; nothing was imported/);
    expect(message).toMatch(/good\/g1\.png: The image is truncated or corrupt/);
    expect(message).toMatch(/good\/g2\.png: Not an image file/);
    expect(message).toMatch(/images\/d0\.png: mask masks\/d0\.png is 10×10 but the image is 96×64/);
    expect(message).toMatch(/images\/missing\.png: file not found/);
    expect(message).toMatch(/\.\.\/\.\.\/etc\/passwd: Path leaves the dataset folder/);
    for (const table of ['images', 'datasets', 'dataset_images', 'annotations', 'projects']) expect(rowCount(store, table)).toBe(0);
    store.close();
  });

  it('refuses a malformed manifest with the fields that are wrong', async () => {
    const root = fresh();
    writeFile(join(root, 'manifest.json'), JSON.stringify({ classes: { 1: 'x' }, samples: [{ file: 'a.png', split: 'training' }] }));
    const store = new Store(fresh());
    await expect(importDataset(store, { path: root }, { actor: 'test' })).rejects.toThrow(/not a valid manifest:\n {2}samples\.0\.split/);
    writeFile(join(root, 'manifest.json'), '{ "samples": [');
    await expect(importDataset(store, { path: root }, { actor: 'test' })).rejects.toThrow(/not valid JSON/);
    store.close();
  });

  it('survives SIGKILL during an import: the database stays intact and a re-run completes', async () => {
    const root = fresh();
    await writeManifestDataset(root, 30, 30, { width: 320, height: 240 });
    const dataDir = fresh();
    const run = (killOn?: RegExp) =>
      new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', 'dataset', 'import', root, '--data-dir', dataDir], { cwd: REPO });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          if (killOn && killOn.test(stderr)) child.kill('SIGKILL');
        });
        child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
      });
    const killed = await run(/reading [1-9]0%/);
    expect(killed.signal).toBe('SIGKILL');
    const db = new Database(join(dataDir, 'argus.db'));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect((db.prepare('SELECT count(*) AS n FROM dataset_images').get() as { n: number }).n).toBe(0);
    db.close();
    const completed = await run();
    expect(completed.code).toBe(0);
    const store = new Store(dataDir);
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(store.datasets.list()[0].counts.total).toBe(60);
    store.close();
  });
});
