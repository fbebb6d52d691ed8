import { describe, expect, it } from 'vitest';
import { decodeRuns, encodeRuns, fillPolygon, insidePolygon, type Point, strokeSegment } from './geometry.ts';

describe('polygon rasterisation', () => {
  /** Reference: a pixel is inside when its centre is (point by point, not the scanline fill). */
  const inside = (points: [number, number][], x: number, y: number): boolean => insidePolygon(points, x, y);

  it('fills exactly the pixels whose centres lie inside, for convex, concave and self-touching shapes', () => {
    const shapes: [number, number][][] = [
      [[2, 2], [20, 3.5], [17.2, 15], [4, 12.7]],
      [[1, 1], [22, 1], [22, 18], [12, 6], [1, 18]],
      [[0, 0], [24, 0], [24, 20], [0, 20], [0, 5], [12, 10], [0, 15]],
      [[3.3, 0.2], [7.9, 19.6], [11.1, 0.7], [15.5, 19.9], [20.2, 0.1]],
    ];
    const [w, h] = [24, 20];
    for (const points of shapes) {
      const out = new Uint8Array(w * h);
      fillPolygon(out, w, h, points, 3);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) expect(out[y * w + x], `pixel ${x},${y}`).toBe(inside(points, x + 0.5, y + 0.5) ? 3 : 0);
    }
  });
});

describe('brush strokes and mask round trips', () => {
  it('a stroke sets exactly the pixels whose centres are within the radius of the segment', () => {
    const [w, h] = [40, 30];
    const out = new Uint8Array(w * h);
    const a: Point = [5.2, 6.7];
    const b: Point = [31.4, 22.1];
    strokeSegment(out, w, h, a, b, 3.5, 2);
    const distance = (x: number, y: number): number => {
      const [dx, dy] = [b[0] - a[0], b[1] - a[1]];
      const t = Math.max(0, Math.min(1, ((x - a[0]) * dx + (y - a[1]) * dy) / (dx * dx + dy * dy)));
      return Math.hypot(x - a[0] - t * dx, y - a[1] - t * dy);
    };
    let set = 0;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      expect(out[y * w + x], `pixel ${x},${y}`).toBe(distance(x + 0.5, y + 0.5) <= 3.5 ? 2 : 0);
      if (out[y * w + x]) set++;
    }
    expect(set).toBeGreaterThan(150);
  });

  it('polygon and brush masks survive the run-length code pixel for pixel', () => {
    const [w, h] = [64, 48];
    const mask = new Uint8Array(w * h);
    fillPolygon(mask, w, h, [[3, 4], [40, 2.5], [30, 30], [8, 41]], 1);
    strokeSegment(mask, w, h, [45, 5], [60, 44], 2.2, 1);
    strokeSegment(mask, w, h, [0, 47], [0, 47], 1.5, 1);
    const runs = encodeRuns(mask);
    expect(runs.reduce((a, b) => a + b, 0)).toBe(w * h);
    expect(Array.from(decodeRuns(runs, w * h))).toEqual(Array.from(mask));
    expect(Array.from(decodeRuns(encodeRuns(new Uint8Array(12)), 12))).toEqual(new Array(12).fill(0));
    expect(Array.from(decodeRuns(encodeRuns(new Uint8Array(5).fill(1)), 5))).toEqual([1, 1, 1, 1, 1]);
    expect(() => decodeRuns([3, 4], 8)).toThrow(/cover 7 pixels/);
    expect(() => decodeRuns([3, -1, 6], 8)).toThrow(/do not fit/);
  });
});
