import { describe, expect, it } from 'vitest';
import type { AnomalyMetrics } from '../../contract/contract.ts';
import { canChooseOn, choosePreprocessing, type MeasuredPreprocessing } from './preprocessing-choice.ts';

const measured = (matchColour: boolean, heatmapAboveMedian: boolean, image: number, pixel: number): MeasuredPreprocessing =>
  ({ matchColour, heatmapAboveMedian, metrics: { image_auroc: image, pixel_auroc: pixel } as AnomalyMetrics });

describe('choosing the preprocessing on validation', () => {
  it('needs good and defective validation images on both sides', () => {
    const images = (good: number, defect: number) => [...Array(good).fill({ label: 'good' }), ...Array(defect).fill({ label: 'defect' })];
    expect(canChooseOn(images(20, 5))).toBe(true);
    expect(canChooseOn(images(20, 4))).toBe(false);
    expect(canChooseOn(images(4, 20))).toBe(false);
  });

  it('takes colour matching by image AUROC and the heatmap by pixel AUROC', () => {
    const { chosen, reason } = choosePreprocessing([
      measured(false, false, 0.85, 0.70), measured(false, true, 0.85, 0.60),
      measured(true, false, 0.95, 0.72), measured(true, true, 0.95, 0.80),
    ]);
    expect(chosen).toMatchObject({ matchColour: true, heatmapAboveMedian: true });
    expect(reason).toMatch(/^chosen on validation: colour matched, map above median: image AUROC 0.950, pixel 0.800 \(measured: raw colour, raw map/);
  });

  it('keeps the plain recipe unless a transformation measured clearly better', () => {
    const { chosen } = choosePreprocessing([
      measured(false, false, 0.900, 0.700), measured(false, true, 0.900, 0.703),
      measured(true, false, 0.903, 0.650), measured(true, true, 0.903, 0.800),
    ]);
    expect(chosen).toMatchObject({ matchColour: false, heatmapAboveMedian: false });
  });

  it('drops colour matching where it hurts, whatever it does to the map', () => {
    const { chosen } = choosePreprocessing([
      measured(false, false, 0.96, 0.70), measured(false, true, 0.96, 0.75),
      measured(true, false, 0.85, 0.90), measured(true, true, 0.85, 0.95),
    ]);
    expect(chosen).toMatchObject({ matchColour: false, heatmapAboveMedian: true });
  });
});

describe('the image score\'s scales', () => {
  const measured = (pyramid: boolean, image: number, pixel = 0.9) => ({ matchColour: false, heatmapAboveMedian: false, pyramid, metrics: { image_auroc: image, pixel_auroc: pixel } as AnomalyMetrics });

  it('keeps the scale pyramid unless the own scale alone ranked validation better beyond a tie', () => {
    expect(choosePreprocessing([measured(true, 0.9), measured(false, 0.903)]).chosen.pyramid).toBe(true);
    expect(choosePreprocessing([measured(true, 0.9), measured(false, 0.93)]).chosen.pyramid).toBe(false);
    expect(choosePreprocessing([measured(true, 0.95), measured(false, 0.9)]).reason).toMatch(/pyramid score.*own-scale score/);
    expect(choosePreprocessing([measured(true, 0.9), measured(false, 0.93)]).reason).toMatch(/^chosen on validation: raw colour, own-scale score, raw map: image AUROC 0.930/);
  });
});
