import { decodeRgb } from '../../images/preprocess.ts';
import type { AnomalyAnalysis, ImageAnalyser } from '../../analysis/analysis.ts';
import { AnomalyScoreboard } from '../../analysis/scoreboard.ts';
import { type AnomalyMetrics } from '../../contract/contract.ts';
import { calibrate } from '../../analysis/thresholds.ts';
import type { ModelThresholds } from '../../contract/contract.ts';
import type { DatasetSample } from '../../contract/dataset-sample.ts';
import type { BlobReader } from '../model-mode.ts';
import { defectMask } from './ground-truth.ts';

/**
 * Analyses each labelled sample once (unlabelled ones are skipped), calling `visit` with the
 * analysis and the ground-truth mask, and returns the filled scoreboard.
 */
export async function scoreSamples(
  blobs: BlobReader, detector: ImageAnalyser, samples: DatasetSample[],
  onImage?: (done: number, total: number) => void, signal?: AbortSignal,
  visit?: (analysis: AnomalyAnalysis, truth: Uint8Array | null, sample: DatasetSample, ms: number) => void,
): Promise<AnomalyScoreboard> {
  const labelled = samples.filter((s) => s.label !== 'unlabeled');
  const board = new AnomalyScoreboard();
  for (const [i, sample] of labelled.entries()) {
    if (signal?.aborted) throw new Error('cancelled');
    const started = performance.now();
    const analysis = await detector.analyse(await decodeRgb(await blobs.get(sample.sha256)));
    const ms = performance.now() - started;
    const truth = sample.label === 'defect' ? await defectMask(blobs, sample) : null;
    board.add(analysis, sample.label === 'defect', truth, ms, sample.group);
    visit?.(analysis, truth, sample, ms);
    onImage?.(i + 1, labelled.length);
  }
  return board;
}

/** Sampling stride for the pixel scores used in calibration (every 4th pixel in x and y). */
const CALIBRATION_PIXEL_STRIDE = 4;

/** Another way of reading one analysis (a different heatmap of the same pass, say). */
export type AnalysisView = (analysis: AnomalyAnalysis) => AnomalyAnalysis;

/**
 * Thresholds for a freshly trained model from one pass over the validation split, which also
 * gives the validation metrics: image scores, and a strided sample of pixel scores with their truth.
 */
export async function calibrateOn(
  blobs: BlobReader, detector: ImageAnalyser, samples: DatasetSample[], onImage?: (done: number, total: number) => void, signal?: AbortSignal,
  falseRejectRate?: number,
): Promise<{ thresholds: ModelThresholds; metrics: AnomalyMetrics }> {
  const [calibrated] = await calibrateViewsOn(blobs, detector, samples, [(a) => a], onImage, signal, falseRejectRate);
  return calibrated;
}

/** calibrateOn for each of several views of the same analyses: one pass over the images, thresholds and metrics per view. */
export async function calibrateViewsOn(
  blobs: BlobReader, detector: ImageAnalyser, samples: DatasetSample[], views: AnalysisView[], onImage?: (done: number, total: number) => void, signal?: AbortSignal,
  falseRejectRate?: number,
): Promise<{ thresholds: ModelThresholds; metrics: AnomalyMetrics }[]> {
  const collected = views.map(() => ({ board: new AnomalyScoreboard(), pixelScores: [] as number[], pixelDefective: [] as number[], scoreIsMapMaximum: true }));
  await scoreSamples(blobs, detector, samples, onImage, signal, (original, truth, sample, ms) => {
    views.forEach((view, v) => {
      const analysis = view(original);
      if (!analysis.scoreIsMapMaximum) collected[v].scoreIsMapMaximum = false;
      const { board, pixelScores, pixelDefective } = collected[v];
      board.add(analysis, sample.label === 'defect', truth, ms, sample.group);
      for (let y = 0; y < analysis.height; y += CALIBRATION_PIXEL_STRIDE) {
        for (let x = 0; x < analysis.width; x += CALIBRATION_PIXEL_STRIDE) {
          const p = y * analysis.width + x;
          pixelScores.push(analysis.heatmap[p]);
          pixelDefective.push(truth?.[p] ?? 0);
        }
      }
    });
  });
  return collected.map(({ board, pixelScores, pixelDefective, scoreIsMapMaximum }) => {
    const thresholds = calibrate({
      goodScores: board.goodScores, defectScores: board.defectScores,
      pixelScores: Float32Array.from(pixelScores), pixelDefective: Uint8Array.from(pixelDefective), falseRejectRate,
      imageScoreIsMapMaximum: scoreIsMapMaximum,
    });
    return { thresholds, metrics: board.metrics(thresholds) };
  });
}
