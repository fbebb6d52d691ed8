import { resizeMap } from '../../analysis/resize-map.ts';
import { quantile } from '../../analysis/metrics.ts';

/** Separable Gaussian blur with edge replication. */
export function gaussianBlur(map: Float32Array, width: number, height: number, sigma: number): Float32Array {
  if (sigma <= 0) return map.slice();
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = Float32Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const total = kernel.reduce((a, b) => a + b, 0);
  kernel.forEach((v, i) => (kernel[i] = v / total));
  const clamp = (v: number, max: number): number => (v < 0 ? 0 : v > max ? max : v);
  const horizontal = new Float32Array(map.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = -radius; k <= radius; k++) s += kernel[k + radius] * map[y * width + clamp(x + k, width - 1)];
      horizontal[y * width + x] = s;
    }
  }
  const out = new Float32Array(map.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = -radius; k <= radius; k++) s += kernel[k + radius] * horizontal[clamp(y + k, height - 1) * width + x];
      out[y * width + x] = s;
    }
  }
  return out;
}


/**
 * Takes the outer `cellsX` columns and `cellsY` rows of a patch-distance map out of inspection, in
 * place: they get the lowest distance inside, so they never carry the image score or a region. A
 * border that would leave nothing inside is ignored.
 */
export function excludeBorder(distances: Float32Array, width: number, height: number, cellsX: number, cellsY: number): void {
  if (cellsX <= 0 && cellsY <= 0) return;
  if (2 * cellsX >= width || 2 * cellsY >= height) return;
  const inside = (x: number, y: number): boolean => x >= cellsX && x < width - cellsX && y >= cellsY && y < height - cellsY;
  let lowest = Infinity;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if (inside(x, y)) lowest = Math.min(lowest, distances[y * width + x]);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if (!inside(x, y)) distances[y * width + x] = lowest;
}

/** Sets the heatmap to 0 within `border` pixels of every edge, in place: not inspected, so shown as nothing found. */
export function clearBorder(heatmap: Float32Array, width: number, height: number, border: number): void {
  if (2 * border >= width || 2 * border >= height) return;
  for (let y = 0; y < height; y++) {
    if (y < border || y >= height - border) heatmap.fill(0, y * width, (y + 1) * width);
    else {
      heatmap.fill(0, y * width, y * width + border);
      heatmap.fill(0, (y + 1) * width - border, (y + 1) * width);
    }
  }
}

/**
 * Patch distances (feature resolution) → smoothed anomaly map; the image score is its maximum,
 * the heatmap is the smoothed map resized to the image's own size. With `aboveMedian` the heatmap
 * shows how far each place lies above the image's median patch distance (never below 0): where
 * the part differs from its own usual surface, so an unfamiliar but uniform part does not light
 * up everywhere. The image score stays absolute. `median` is that baseline (whichever map is shown).
 */
export function anomalyMap(distances: Float32Array, featureWidth: number, featureHeight: number, imageWidth: number, imageHeight: number, sigma: number, aboveMedian = false) {
  const smooth = gaussianBlur(distances, featureWidth, featureHeight, sigma);
  let score = -Infinity;
  for (const v of smooth) if (v > score) score = v;
  const median = quantile(smooth, 0.5);
  const heatmap = resizeMap(smooth, featureWidth, featureHeight, imageWidth, imageHeight);
  return { score, median, heatmap: aboveMedian ? heatmapAboveMedian(heatmap, median) : heatmap };
}

/** A raw heatmap as each place's distance above the image's median patch distance (never below 0). */
export function heatmapAboveMedian(heatmap: Float32Array, median: number): Float32Array {
  return heatmap.map((v) => (v > median ? v - median : 0));
}
