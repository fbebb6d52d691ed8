export interface Region {
  /** [x1, y1, x2, y2] in pixels, x2/y2 exclusive. */
  box: [number, number, number, number];
  area: number;
  maxScore: number;
  meanScore: number;
}

/**
 * Connected components (8-connected) of the pixels whose score is ≥ threshold, dropping those
 * smaller than minArea. Largest maximum score first.
 */
export function extractRegions(scores: Float32Array, width: number, height: number, threshold: number, minArea = 1): Region[] {
  const labels = new Int32Array(width * height).fill(-1);
  const stack = new Int32Array(width * height);
  const regions: Region[] = [];
  for (let start = 0; start < scores.length; start++) {
    if (labels[start] !== -1 || !(scores[start] >= threshold)) continue;
    let top = 0;
    stack[top++] = start;
    labels[start] = regions.length;
    let x1 = width, y1 = height, x2 = 0, y2 = 0, area = 0, max = -Infinity, sum = 0;
    while (top > 0) {
      const p = stack[--top];
      const px = p % width;
      const py = (p - px) / width;
      area++;
      sum += scores[p];
      if (scores[p] > max) max = scores[p];
      if (px < x1) x1 = px;
      if (px >= x2) x2 = px + 1;
      if (py < y1) y1 = py;
      if (py >= y2) y2 = py + 1;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = py + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = px + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (labels[q] === -1 && scores[q] >= threshold) {
            labels[q] = regions.length;
            stack[top++] = q;
          }
        }
      }
    }
    regions.push({ box: [x1, y1, x2, y2], area, maxScore: max, meanScore: sum / area });
  }
  return regions.filter((r) => r.area >= minArea).sort((a, b) => b.maxScore - a.maxScore);
}
