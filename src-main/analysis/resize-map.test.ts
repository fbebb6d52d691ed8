import { describe, expect, it } from 'vitest';
import { extractRegions } from '../common/regions.ts';
import { resizeMap } from './resize-map.ts';

describe('regions', () => {
  it('finds 8-connected components above the threshold with box, area, max and mean', () => {
    const width = 8, height = 5;
    const map = new Float32Array(width * height);
    const set = (x: number, y: number, v: number): void => void (map[y * width + x] = v);
    set(1, 1, 0.9); set(2, 2, 0.7); // diagonal neighbours: one region
    set(6, 3, 0.6); set(6, 4, 0.8); set(7, 4, 0.55);
    set(4, 0, 0.51); // single pixel, dropped by minArea 2
    const regions = extractRegions(map, width, height, 0.5, 2);
    expect(regions).toEqual([
      { box: [1, 1, 3, 3], area: 2, maxScore: expect.closeTo(0.9, 6), meanScore: expect.closeTo(0.8, 6) },
      { box: [6, 3, 8, 5], area: 3, maxScore: expect.closeTo(0.8, 6), meanScore: expect.closeTo(0.65, 6) },
    ]);
    expect(extractRegions(map, width, height, 0.5, 1)).toHaveLength(3);
    expect(extractRegions(map, width, height, 0.95)).toEqual([]);
  });
});

describe('resizeMap', () => {
  it('is the identity at the same size and matches bilinear (align_corners=False) when upsampling', () => {
    const src = Float32Array.from([0, 1, 2, 3]);
    expect([...resizeMap(src, 2, 2, 2, 2)]).toEqual([0, 1, 2, 3]);
    const up = resizeMap(Float32Array.from([0, 4]), 2, 1, 4, 1);
    // PyTorch F.interpolate([0, 4], size=4, mode='linear', align_corners=False) = [0, 1, 3, 4]
    expect([...up]).toEqual([0, 1, 3, 4]);
  });
});
