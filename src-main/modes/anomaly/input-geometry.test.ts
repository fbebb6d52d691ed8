import { describe, expect, it } from 'vitest';
import { anomalyInputGeometry, defectShortSides, MAX_ANALYSED_PIXELS, MAX_INPUT_PIXELS } from './input-geometry.ts';

const sizes = (...pairs: [number, number][]) => pairs.map(([width, height]) => ({ width, height }));

describe('anomaly input geometry from the data', () => {
  it('keeps small images at their native scale (never upscaled without labelled defects)', () => {
    const small = anomalyInputGeometry(sizes([300, 280], [420, 510], [600, 250], [250, 600], [380, 400]), [], 8);
    expect(small.scale).toBe(1);
    // The input holds the larger training images whole.
    expect(small.inputWidth).toBeGreaterThanOrEqual(512);
    expect(small.inputHeight).toBeGreaterThanOrEqual(512);
    expect(small.reason).toBe('native pixel scale');
    const tiny = anomalyInputGeometry(sizes([200, 200], [200, 200]), [], 8);
    expect(tiny).toMatchObject({ scale: 1, inputWidth: 224, inputHeight: 224 });
  });

  it('line frames keep their pixels; the input never exceeds its pixel budget', () => {
    const frames = anomalyInputGeometry(sizes([1130, 460], [1130, 460], [1130, 460]), [], 8);
    expect(frames).toMatchObject({ scale: 1, inputWidth: 1152, inputHeight: 480 });
    const photos = anomalyInputGeometry(sizes([4000, 3000], [4000, 3000]), [], 8);
    expect(photos.scale).toBeCloseTo(Math.sqrt(MAX_ANALYSED_PIXELS / 12e6), 6);
    expect(photos.inputWidth * photos.inputHeight).toBeLessThanOrEqual(MAX_INPUT_PIXELS);
    expect(photos.inputWidth % 32).toBe(0);
    expect(photos.inputWidth / photos.inputHeight).toBeCloseTo(4 / 3, 1);
  });

  it('small labelled defects keep large images from being scaled down, and may enlarge tiny ones', () => {
    const photos = sizes([4000, 3000], [4000, 3000]);
    const budget = anomalyInputGeometry(photos, [], 8).scale;
    const kept = anomalyInputGeometry(photos, [12, 13, 30, 50], 8);
    expect(kept.scale).toBeGreaterThan(budget);
    expect(kept.scale).toBeLessThan(1);
    expect(kept.reason).toMatch(/span 1 patch cell/);
    const grains = anomalyInputGeometry(sizes([300, 300]), [3, 3, 4, 10], 8);
    expect(grains.scale).toBe(2);
    expect(grains.reason).toMatch(/small labelled defects \(3 px\)/);
    // Defects of a patch cell or more change nothing.
    expect(anomalyInputGeometry(sizes([300, 300]), [12, 20, 40], 8).scale).toBe(1);
  });

  it('reads defect sizes from box labels', () => {
    expect(defectShortSides([{ boxes: [{ box: [10, 10, 30, 14] }, { box: [0, 0, 5, 50] }] }, { boxes: [] }])).toEqual([4, 5]);
  });
});
