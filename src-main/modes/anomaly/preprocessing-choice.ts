import type { AnomalyMetrics } from '../../contract/contract.ts';

/** How images and maps are prepared: the two choices validation decides when it holds defects. */
export interface Preprocessing {
  /** Each image's colour statistics mapped onto the training images' average before the network. */
  matchColour: boolean;
  /** The heatmap shows each place's distance above the image's median rather than the raw distance. */
  heatmapAboveMedian: boolean;
  /** The image score is the scale pyramid's (false: the model's own scale alone). Only where the model has coarser levels. */
  pyramid?: boolean;
}

export interface MeasuredPreprocessing extends Preprocessing {
  metrics: AnomalyMetrics;
}

/** Fewer labelled validation images than this on either side cannot tell the options apart. */
export const MIN_IMAGES_PER_SIDE_TO_CHOOSE = 5;
/** Differences in validation AUROC below this are noise: the plainer option is kept. */
const TIE = 0.005;

/** The plain recipe (raw images, raw distances): what is used when nothing measured says otherwise. */
export const PLAIN_PREPROCESSING: Preprocessing = { matchColour: false, heatmapAboveMedian: false };

/** Whether the validation split has enough good and defective images to choose the preprocessing on. */
export function canChooseOn(validation: { label: string }[]): boolean {
  const count = (label: string): number => validation.filter((s) => s.label === label).length;
  return count('good') >= MIN_IMAGES_PER_SIDE_TO_CHOOSE && count('defect') >= MIN_IMAGES_PER_SIDE_TO_CHOOSE;
}

/**
 * The candidate that ranked validation best: colour matching by image AUROC (it changes the
 * features, so the image score), then the image score's scales by image AUROC, then the heatmap
 * by pixel AUROC (it changes only the map). A transformation is kept only where it measured
 * better than without it by more than TIE; the scale pyramid is the default and its own scale
 * alone replaces it only where that measured better.
 */
export function choosePreprocessing<T extends MeasuredPreprocessing>(candidates: T[]): { chosen: T; reason: string } {
  if (candidates.length === 0) throw new RangeError('choosePreprocessing needs at least one candidate');
  const imageAuroc = (c: MeasuredPreprocessing): number => c.metrics.image_auroc ?? 0;
  const pixelAuroc = (c: MeasuredPreprocessing): number => c.metrics.pixel_auroc ?? 0;
  const better = (a: number, b: number): boolean => a > b + TIE;
  const bestOf = (options: T[], value: (c: T) => number, plain: (c: T) => boolean): T => {
    const plainOption = options.find(plain) ?? options[0];
    return options.reduce((best, c) => (better(value(c), value(best)) ? c : best), plainOption);
  };
  const defaultScales = (c: T): boolean => c.pyramid !== false;
  const colourBest = bestOf(candidates, imageAuroc, (c) => !c.matchColour && !c.heatmapAboveMedian && defaultScales(c));
  const sameColour = candidates.filter((c) => c.matchColour === colourBest.matchColour);
  const scalesBest = bestOf(sameColour, imageAuroc, (c) => !c.heatmapAboveMedian && defaultScales(c));
  const sameScales = sameColour.filter((c) => c.pyramid === scalesBest.pyramid);
  const chosen = bestOf(sameScales, pixelAuroc, (c) => !c.heatmapAboveMedian);
  const scales = (c: MeasuredPreprocessing): string => (c.pyramid === undefined ? '' : c.pyramid ? ', pyramid score' : ', own-scale score');
  const describe = (c: MeasuredPreprocessing): string =>
    `${c.matchColour ? 'colour matched' : 'raw colour'}${scales(c)}, ${c.heatmapAboveMedian ? 'map above median' : 'raw map'}: image AUROC ${imageAuroc(c).toFixed(3)}, pixel ${pixelAuroc(c).toFixed(3)}`;
  return { chosen, reason: `chosen on validation: ${describe(chosen)} (measured: ${candidates.map(describe).join('; ')})` };
}
