import { fillPolygon } from '../common/geometry.ts';
import { decodeLabelMask } from './decode.ts';
import type { DatasetSample } from '../contract/dataset-sample.ts';

/**
 * Per-pixel class index (0 = background) of a sample at its own resolution: masks as they are,
 * polygons filled, and box-only defects as box-shaped regions. An import that describes the same
 * defects several ways (BSData: masks, polygons and boxes) is used at its most precise (masks,
 * else polygons, else boxes); everything drawn in Argus is used as drawn, later drawings on top.
 */
export async function labelMap(blobs: { get(sha256: string): Promise<Buffer> }, sample: DatasetSample): Promise<Uint8Array> {
  const { width, height } = sample;
  const out = new Uint8Array(width * height);
  const fromImport = <T extends { imported: boolean }>(items: T[]): T[] => items.filter((i) => i.imported);
  const importedMasks = fromImport(sample.masks);
  const importedPolygons = importedMasks.length ? [] : fromImport(sample.polygons);
  const importedBoxes = importedMasks.length || importedPolygons.length ? [] : fromImport(sample.boxes);
  const drawn = <T extends { imported: boolean }>(items: T[]): T[] => items.filter((i) => !i.imported);
  for (const { box, classIndex } of [...importedBoxes, ...drawn(sample.boxes)]) {
    const [x1, y1, x2, y2] = box.map((v) => Math.round(v));
    for (let y = Math.max(0, y1); y < Math.min(height, y2); y++) out.fill(classIndex, y * width + Math.max(0, x1), y * width + Math.min(width, x2));
  }
  for (const { points, classIndex } of [...importedPolygons, ...drawn(sample.polygons)]) fillPolygon(out, width, height, points, classIndex);
  const byBlob = new Map<string, Map<number, number>>();
  for (const m of [...importedMasks, ...drawn(sample.masks)]) byBlob.set(m.sha256, (byBlob.get(m.sha256) ?? new Map()).set(m.value, m.classIndex));
  for (const [sha256, classes] of byBlob) {
    const mask = await decodeLabelMask(await blobs.get(sha256));
    for (let i = 0; i < out.length; i++) {
      const c = classes.get(mask.data[i]);
      if (c !== undefined) out[i] = c;
    }
  }
  return out;
}
