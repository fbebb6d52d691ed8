import type { ExecutionProviderReport, Verdict } from '../contract/contract.ts';
import { extractRegions } from '../common/regions.ts';
import type { RgbImage } from '../images/preprocess.ts';
import { normalizeScore, verdictOf } from './thresholds.ts';
import type { ModelThresholds } from '../contract/contract.ts';

export interface AnomalyAnalysis {
  rawScore: number;
  /** Raw anomaly score per image pixel, row-major. */
  heatmap: Float32Array;
  width: number;
  height: number;
  ms: { network: number; scoring: number; map: number };
  /** Anomaly models: the median of the smoothed patch-distance map, the image's usual level. */
  mapMedian?: number;
  /** The raw score is the heatmap's maximum, on the heatmap's scale (calibration keeps the pixel threshold at or below NG). */
  scoreIsMapMaximum?: boolean;
  /** Anomaly models with a scale pyramid: the image score at the model's own scale alone (what training compares the pyramid's with). */
  singleLevelScore?: number;
  /** Segmentation models: the most likely defect class per pixel (1-based) and the class names. */
  classMap?: Uint8Array;
  classNames?: string[];
  /** Detection models: every decoded box after NMS (the heatmap is their scores as a map). */
  boxes?: DetectedBox[];
  /**
   * Classification models: the probability of each class, the most probable one ("good" for a
   * multi-label model that finds no class), and every class the model says the image carries.
   */
  classProbabilities?: Record<string, number>;
  predictedClass?: string;
  predictedClasses?: string[];
}

/** A box a detection model found: class name, raw score (√(class probability × centreness)) and image pixels. */
export interface DetectedBox {
  class: string;
  score: number;
  box: [number, number, number, number];
}

/** Anything that turns an image into an analysis: a model of any mode. */
export interface ImageAnalyser {
  readonly provider: ExecutionProviderReport;
  analyse(image: RgbImage): Promise<AnomalyAnalysis>;
  release(): Promise<void>;
}

export interface Judgement {
  verdict: Verdict;
  /** Normalised image score in [0, 1]; the NG threshold is 0.5. */
  score: number;
  rawScore: number;
  /** score and mean_score: the normalised maximum and mean pixel score inside the region. */
  regions: { class: string; score: number; mean_score: number; box: [number, number, number, number]; area: number }[];
}

/** Verdict, normalised score and regions of an analysed image under the model's thresholds. */
export function judge(analysis: AnomalyAnalysis, thresholds: ModelThresholds, minRegionArea: number): Judgement {
  const pixel = thresholds.pixel;
  if (analysis.boxes) return judgeBoxes(analysis, analysis.boxes, thresholds);
  return {
    verdict: verdictOf(analysis.rawScore, thresholds),
    score: normalizeScore(analysis.rawScore, thresholds.image.ng, thresholds.image.goodMedian),
    rawScore: analysis.rawScore,
    regions: extractRegions(analysis.heatmap, analysis.width, analysis.height, pixel.threshold, minRegionArea).map((r) => ({
      class: regionClass(analysis, r.box, pixel.threshold),
      score: normalizeScore(r.maxScore, pixel.threshold, pixel.goodMedian),
      mean_score: normalizeScore(r.meanScore, pixel.threshold, pixel.goodMedian),
      box: r.box,
      area: r.area,
    })),
  };
}

/**
 * A detection model's judgement: the regions are its boxes at or above their class's threshold
 * (or the NG threshold, where that is lower), each scored against its class threshold.
 */
function judgeBoxes(analysis: AnomalyAnalysis, boxes: DetectedBox[], thresholds: ModelThresholds): Judgement {
  const { image, pixel } = thresholds;
  const regions = boxes.flatMap((b) => {
    const threshold = thresholds.classes?.[b.class] ?? pixel.threshold;
    if (b.score < Math.min(threshold, image.ng)) return [];
    const score = normalizeScore(b.score, threshold, pixel.goodMedian);
    const box = b.box.map((v) => Math.round(v)) as [number, number, number, number];
    return [{ class: b.class, score, mean_score: score, box, area: (box[2] - box[0]) * (box[3] - box[1]) }];
  });
  return {
    verdict: verdictOf(analysis.rawScore, thresholds),
    score: normalizeScore(analysis.rawScore, image.ng, image.goodMedian),
    rawScore: analysis.rawScore,
    regions,
  };
}

/** The class of most above-threshold pixels in the region's box ("anomaly" for anomaly models). */
function regionClass(analysis: AnomalyAnalysis, [x1, y1, x2, y2]: [number, number, number, number], threshold: number): string {
  const { classMap, classNames } = analysis;
  if (!classMap || !classNames) return 'anomaly';
  const votes = new Uint32Array(classNames.length + 1);
  for (let y = y1; y < y2; y++) {
    for (let x = x1; x < x2; x++) {
      const p = y * analysis.width + x;
      if (analysis.heatmap[p] >= threshold) votes[classMap[p]]++;
    }
  }
  let best = 1;
  for (let c = 2; c < votes.length; c++) if (votes[c] > votes[best]) best = c;
  return classNames[best - 1] ?? 'defect';
}
