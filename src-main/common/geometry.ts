// Pixel geometry of annotations, shared by the engine (training labels) and the renderer (the
// annotation canvas), so what a QA engineer draws is exactly what training sees.

export type Point = [number, number];

/** Whether a point lies inside the polygon, by the even-odd rule. */
export function insidePolygon(points: Point[], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [xi, yi] = points[i];
    const [xj, yj] = points[j];
    if (yi > y !== yj > y && x < xi + ((y - yi) / (yj - yi)) * (xj - xi)) inside = !inside;
  }
  return inside;
}

/** Even-odd scanline fill of the pixels whose centres lie inside the polygon. */
export function fillPolygon(out: Uint8Array, width: number, height: number, points: Point[], value: number): void {
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

/**
 * A brush stroke segment: sets every pixel whose centre lies within `radius` of the segment
 * from `a` to `b` (a round brush dragged in a straight line).
 */
export function strokeSegment(out: Uint8Array, width: number, height: number, a: Point, b: Point, radius: number, value: number): void {
  const [ax, ay] = a;
  const [dx, dy] = [b[0] - ax, b[1] - ay];
  const length2 = dx * dx + dy * dy;
  const x0 = Math.max(0, Math.floor(Math.min(a[0], b[0]) - radius));
  const x1 = Math.min(width - 1, Math.ceil(Math.max(a[0], b[0]) + radius));
  const y0 = Math.max(0, Math.floor(Math.min(a[1], b[1]) - radius));
  const y1 = Math.min(height - 1, Math.ceil(Math.max(a[1], b[1]) + radius));
  const r2 = radius * radius;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const px = x + 0.5 - ax;
      const py = y + 0.5 - ay;
      const t = length2 > 0 ? Math.max(0, Math.min(1, (px * dx + py * dy) / length2)) : 0;
      const ex = px - t * dx;
      const ey = py - t * dy;
      if (ex * ex + ey * ey <= r2) out[y * width + x] = value;
    }
  }
}

/**
 * Run-length code of a binary mask (row-major): lengths of alternating runs of 0 and non-zero,
 * starting with a (possibly empty) run of 0. Compact for the few defects a part has.
 */
export function encodeRuns(mask: Uint8Array): number[] {
  const runs: number[] = [];
  let current = 0;
  let length = 0;
  for (let i = 0; i < mask.length; i++) {
    const v = mask[i] ? 1 : 0;
    if (v !== current) {
      runs.push(length);
      current = v;
      length = 0;
    }
    length++;
  }
  runs.push(length);
  return runs;
}

/** The mask (1 where set) of a run-length code; throws when the runs do not cover `size` pixels exactly. */
export function decodeRuns(runs: number[], size: number): Uint8Array {
  const mask = new Uint8Array(size);
  let offset = 0;
  runs.forEach((length, i) => {
    if (!Number.isInteger(length) || length < 0 || offset + length > size) throw new Error('mask runs do not fit the image');
    if (i % 2 === 1) mask.fill(1, offset, offset + length);
    offset += length;
  });
  if (offset !== size) throw new Error(`mask runs cover ${offset} pixels, the image has ${size}`);
  return mask;
}
