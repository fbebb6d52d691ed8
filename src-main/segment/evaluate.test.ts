import { describe, expect, it } from 'vitest';
import { fillPolygon } from '../datasets/label-map.ts';
import { averagePrecision } from './evaluate.ts';

describe('box average precision at IoU 0.5', () => {
  const truth = new Map<number, [number, number, number, number][]>([
    [0, [[0, 0, 10, 10]]],
    [1, [[20, 20, 30, 30], [40, 40, 50, 50]]],
  ]);

  it('is 1 when every box is found and nothing else is reported', () => {
    const found = [
      { image: 0, score: 0.9, box: [1, 0, 10, 10] as [number, number, number, number] },
      { image: 1, score: 0.8, box: [20, 21, 30, 30] as [number, number, number, number] },
      { image: 1, score: 0.7, box: [40, 40, 49, 50] as [number, number, number, number] },
    ];
    expect(averagePrecision(found, truth)).toBeCloseTo(1, 10);
  });

  it('counts a duplicate and a miss against the model', () => {
    const found = [
      { image: 0, score: 0.9, box: [0, 0, 10, 10] as [number, number, number, number] },
      { image: 0, score: 0.85, box: [0, 0, 10, 10] as [number, number, number, number] }, // duplicate: false positive
      { image: 1, score: 0.8, box: [20, 20, 30, 30] as [number, number, number, number] },
      { image: 1, score: 0.7, box: [60, 60, 70, 70] as [number, number, number, number] }, // nothing there
    ];
    // Recall steps 1/3 at precision 1, then 2/3 at precision 2/3 (monotone envelope): 1/3 + 1/3·2/3.
    expect(averagePrecision(found, truth)).toBeCloseTo(1 / 3 + (1 / 3) * (2 / 3), 10);
  });
});

describe('polygon rasterisation', () => {
  /** Reference: a pixel is inside when its centre is, by the even-odd rule. */
  const inside = (points: [number, number][], x: number, y: number): boolean => {
    let result = false;
    for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
      const [xi, yi] = points[i];
      const [xj, yj] = points[j];
      if (yi > y !== yj > y && x < xi + ((y - yi) / (yj - yi)) * (xj - xi)) result = !result;
    }
    return result;
  };

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
