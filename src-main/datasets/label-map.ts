import { decodeLabelMask } from '../images/decode.ts';
import type { DatasetSample } from '../store/datasets.ts';
import type { Store } from '../store/store.ts';

/**
 * Per-pixel class index (0 = background) of a sample at its own resolution. Masks are used as
 * they are; polygons are filled; defects labelled only with boxes become box-shaped regions.
 * An image with masks takes its labels from them alone (its polygons, if any, describe the same defects).
 */
export async function labelMap(store: Store, sample: DatasetSample): Promise<Uint8Array> {
  const { width, height } = sample;
  const out = new Uint8Array(width * height);
  if (sample.masks.length > 0) {
    const byBlob = new Map<string, Map<number, number>>();
    for (const m of sample.masks) byBlob.set(m.sha256, (byBlob.get(m.sha256) ?? new Map()).set(m.value, m.classIndex));
    for (const [sha256, classes] of byBlob) {
      const mask = await decodeLabelMask(await store.blobs.get(sha256));
      for (let i = 0; i < out.length; i++) {
        const c = classes.get(mask.data[i]);
        if (c !== undefined) out[i] = c;
      }
    }
    return out;
  }
  for (const { points, classIndex } of sample.polygons) fillPolygon(out, width, height, points, classIndex);
  for (const { box, classIndex } of sample.boxes) {
    const [x1, y1, x2, y2] = box.map((v) => Math.round(v));
    for (let y = Math.max(0, y1); y < Math.min(height, y2); y++) out.fill(classIndex, y * width + Math.max(0, x1), y * width + Math.min(width, x2));
  }
  return out;
}

/** Even-odd scanline fill of the pixels whose centres lie inside the polygon. */
export function fillPolygon(out: Uint8Array, width: number, height: number, points: [number, number][], value: number): void {
  const crossings: number[] = [];
  for (let y = 0; y < height; y++) {
    const cy = y + 0.5;
    crossings.length = 0;
    for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
      const [xi, yi] = points[i];
      const [xj, yj] = points[j];
      if (yi > cy !== yj > cy) crossings.push(xi + ((cy - yi) / (yj - yi)) * (xj - xi));
    }
    crossings.sort((a, b) => a - b);
    for (let k = 0; k + 1 < crossings.length; k += 2) {
      // Pixel x is inside when its centre x + 0.5 lies in [from, to).
      const from = Math.max(0, Math.ceil(crossings[k] - 0.5));
      const to = Math.min(width, Math.ceil(crossings[k + 1] - 0.5));
      if (to > from) out.fill(value, y * width + from, y * width + to);
    }
  }
}
