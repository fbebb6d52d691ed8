import { decodeRgb } from '../../images/preprocess.ts';
import type { AnomalyAnalysis, ImageAnalyser } from '../../analysis/analysis.ts';
import { AnomalyScoreboard } from '../../analysis/scoreboard.ts';
import { type AnomalyMetrics } from '../../contract/contract.ts';
import { calibrate } from '../../analysis/thresholds.ts';
import type { ModelThresholds } from '../../contract/contract.ts';
import type { DatasetSample } from '../../contract/dataset-sample.ts';
import type { BlobReader } from '../model-mode.ts';
import { defectMask } from './ground-truth.ts';

/** What an analysed sample hands on: the analysis, its ground-truth mask, the sample and the milliseconds it took. */
type SampleVisitor = (analysis: AnomalyAnalysis, truth: Uint8Array | null, sample: DatasetSample, ms: number) => void;

/** Analyses each labelled sample once (unlabelled ones are skipped) and hands each analysis to `visit`. */
async function visitSamples(
  blobs: BlobReader, detector: ImageAnalyser, samples: DatasetSample[], visit: SampleVisitor,
  onImage?: (done: number, total: number) => void, signal?: AbortSignal,
): Promise<void> {
  const labelled = samples.filter((s) => s.label !== 'unlabeled');
  for (const [i, sample] of labelled.entries()) {
    if (signal?.aborted) throw new Error('cancelled');
    const started = performance.now();
    const analysis = await detector.analyse(await decodeRgb(await blobs.get(sample.sha256)));
    const ms = performance.now() - started;
    visit(analysis, sample.label === 'defect' ? await defectMask(blobs, sample) : null, sample, ms);
    onImage?.(i + 1, labelled.length);
  }
}

/**
 * Analyses each labelled sample once (unlabelled ones are skipped), calling `visit` with the
 * analysis and the ground-truth mask, and returns the filled scoreboard.
 */
export async function scoreSamples(
  blobs: BlobReader, detector: ImageAnalyser, samples: DatasetSample[],
  onImage?: (done: number, total: number) => void, signal?: AbortSignal,
  visit?: (analysis: AnomalyAnalysis, truth: Uint8Array | null, sample: DatasetSample) => void,
): Promise<AnomalyScoreboard> {
  const board = new AnomalyScoreboard();
  await visitSamples(blobs, detector, samples, (analysis, truth, sample, ms) => {
    board.add(analysis, sample.label === 'defect', truth, ms, sample.group);
    visit?.(analysis, truth, sample);
  }, onImage, signal);
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
  // One pass over the images; each view fills its own scoreboard.
  await visitSamples(blobs, detector, samples, (original, truth, sample, ms) => {
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
  }, onImage, signal);
  return collected.map(({ board, pixelScores, pixelDefective, scoreIsMapMaximum }) => {
    const thresholds = calibrate({
      goodScores: board.goodScores, defectScores: board.defectScores,
      pixelScores: Float32Array.from(pixelScores), pixelDefective: Uint8Array.from(pixelDefective), falseRejectRate,
      imageScoreIsMapMaximum: scoreIsMapMaximum,
    });
    return { thresholds, metrics: board.metrics(thresholds) };
  });
}
