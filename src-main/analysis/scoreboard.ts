import type { AnomalyMetrics, ImageScores } from '../contract/contract.ts';
import type { AnomalyAnalysis } from './analysis.ts';
import { heatmapPeak } from './heatmap-peak.ts';
import { auroc, HistogramAuroc, quantile } from './metrics.ts';
import { normalizeScore, thresholdsFor, verdictOf } from './thresholds.ts';
import type { ModelThresholds } from '../contract/contract.ts';

/**
 * Collects what the metrics need while images are analysed once: image scores, every pixel's
 * score against the ground truth (image resolution), and timings. Thresholds come in only when
 * the metrics are read, so calibration and validation can share one pass.
 */
export class AnomalyScoreboard {
  private readonly scores: number[] = [];
  private readonly defective: boolean[] = [];
  private readonly times: number[] = [];
  private readonly sizes: string[] = [];
  private readonly groups: (string | null)[] = [];
  private readonly pixels = new HistogramAuroc(1);
  private peaksOnDefect = 0;
  private marked = 0;

  add(analysis: AnomalyAnalysis, isDefective: boolean, truth: Uint8Array | null, ms: number, group: string | null = null): void {
    this.scores.push(analysis.rawScore);
    this.sizes.push(`${analysis.width}x${analysis.height}`);
    this.groups.push(group);
    this.defective.push(isDefective);
    this.times.push(ms);
    this.pixels.add(analysis.heatmap, (p) => truth !== null && truth[p] === 1);
    if (isDefective && truth?.includes(1)) {
      this.marked++;
      if (peakOnDefect(analysis, truth)) this.peaksOnDefect++;
    }
  }

  get goodScores(): number[] {
    return this.scores.filter((_, i) => !this.defective[i]);
  }

  get defectScores(): number[] {
    return this.scores.filter((_, i) => this.defective[i]);
  }

  /** Each image's score on the normalised scale (NG threshold 0.5) under its group's thresholds. */
  private judgedScores(thresholds: ModelThresholds): number[] {
    return this.scores.map((score, i) => {
      const { image } = thresholdsFor(thresholds, this.groups[i]);
      return normalizeScore(score, image.ng, image.goodMedian);
    });
  }

  /** Every image's score on the normalised scale (NG threshold 0.5), good and defective apart, for histograms. */
  imageScores(thresholds: ModelThresholds): ImageScores {
    const judged = this.judgedScores(thresholds);
    return {
      good: judged.filter((_, i) => !this.defective[i]), defective: judged.filter((_, i) => this.defective[i]),
      ng: 0.5, review: normalizeScore(thresholds.image.review, thresholds.image.ng, thresholds.image.goodMedian),
    };
  }

  /** Image indices by key (null keys left out), only the keys holding both good and defective images. */
  private mixedBy(keys: (string | null)[]): Map<string, number[]> {
    const byKey = new Map<string, number[]>();
    keys.forEach((key, i) => key !== null && byKey.set(key, [...(byKey.get(key) ?? []), i]));
    return new Map([...byKey].filter(([, g]) => g.some((i) => this.defective[i]) && g.some((i) => !this.defective[i])));
  }

  private aurocOf(indices: number[]): number {
    return auroc(indices.map((i) => this.scores[i]), indices.map((i) => this.defective[i]));
  }

  private sameSizeAuroc(): number | null {
    const mixed = [...this.mixedBy(this.sizes).values()];
    if (mixed.length === 0) return null;
    return this.aurocOf(mixed.reduce((a, b) => (b.length > a.length ? b : a)));
  }

  private groupAurocs(): Record<string, number> | null {
    const mixed = this.mixedBy(this.groups);
    if (mixed.size === 0) return null;
    return Object.fromEntries([...mixed].sort(([a], [b]) => a.localeCompare(b)).map(([group, indices]) => [group, this.aurocOf(indices)]));
  }

  /**
   * Decisions under each image's group thresholds (model-wide where its group has none); the
   * pooled image AUROC ranks the scores a station reports, i.e. normalised by those thresholds.
   */
  metrics(thresholds: ModelThresholds): AnomalyMetrics {
    const counts = { tp: 0, fp: 0, fn: 0, tn: 0, review: 0 };
    this.scores.forEach((score, i) => {
      const verdict = verdictOf(score, thresholdsFor(thresholds, this.groups[i]));
      if (verdict === 'REVIEW') counts.review++;
      const rejected = verdict === 'NG';
      if (rejected && this.defective[i]) counts.tp++;
      else if (rejected) counts.fp++;
      else if (this.defective[i]) counts.fn++;
      else counts.tn++;
    });
    const good = counts.fp + counts.tn;
    const defective = counts.tp + counts.fn;
    const precision = counts.tp + counts.fp ? counts.tp / (counts.tp + counts.fp) : 0;
    const recall = defective ? counts.tp / defective : 0;
    const byGroup = this.groupAurocs();
    const groupValues = byGroup ? Object.values(byGroup) : [];
    return {
      images: this.scores.length,
      good,
      defective,
      image_auroc: auroc(thresholds.groups ? this.judgedScores(thresholds) : this.scores, this.defective),
      image_auroc_same_size: this.sameSizeAuroc(),
      image_auroc_within_group: byGroup ? groupValues.reduce((a, b) => a + b, 0) / groupValues.length : null,
      image_auroc_by_group: byGroup,
      pixel_auroc: this.pixels.value(),
      precision,
      recall,
      f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
      false_reject_rate: good ? counts.fp / good : 0,
      miss_rate: defective ? counts.fn / defective : 0,
      review_rate: this.scores.length ? counts.review / this.scores.length : 0,
      peak_on_defect_rate: this.marked ? this.peaksOnDefect / this.marked : null,
      ms_per_image: quantile(this.times, 0.5),
    };
  }
}

/** How far (image pixels) the heatmap's hottest pixel may lie from a marked pixel and still count as on the defect: one feature cell. */
export const PEAK_TOLERANCE_PX = 8;

/** Whether the heatmap's hottest pixel lies on a marked pixel of `truth`, or within PEAK_TOLERANCE_PX of one. */
export function peakOnDefect(analysis: AnomalyAnalysis, truth: Uint8Array): boolean {
  const { heatmap, width, height } = analysis;
  const { x: px, y: py } = heatmapPeak(heatmap, width);
  for (let y = Math.max(0, py - PEAK_TOLERANCE_PX); y <= Math.min(height - 1, py + PEAK_TOLERANCE_PX); y++) {
    for (let x = Math.max(0, px - PEAK_TOLERANCE_PX); x <= Math.min(width - 1, px + PEAK_TOLERANCE_PX); x++) {
      if (truth[y * width + x] === 1) return true;
    }
  }
  return false;
}
