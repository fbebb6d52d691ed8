import { describe, expect, it } from 'vitest';
import { averagePrecision } from '../../common/box-metrics.ts';

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
