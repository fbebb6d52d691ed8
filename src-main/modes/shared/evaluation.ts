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
  visit?: (analysis: AnomalyAnalysis, truth: Uint8Array | null, sample: DatasetSample) => void,
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
    visit?.(analysis, truth, sample);
    onImage?.(i + 1, labelled.length);
  }
  return board;
}

/** Sampling stride for the pixel scores used in calibration (every 4th pixel in x and y). */
const CALIBRATION_PIXEL_STRIDE = 4;

/**
 * Thresholds for a freshly trained model from one pass over the validation split, which also
 * gives the validation metrics: image scores, and a strided sample of pixel scores with their truth.
 */
export async function calibrateOn(
  blobs: BlobReader, detector: ImageAnalyser, samples: DatasetSample[], onImage?: (done: number, total: number) => void, signal?: AbortSignal,
  falseRejectRate?: number,
): Promise<{ thresholds: ModelThresholds; metrics: AnomalyMetrics }> {
  const pixelScores: number[] = [];
  const pixelDefective: number[] = [];
  const board = await scoreSamples(blobs, detector, samples, onImage, signal, (analysis, truth) => {
    for (let y = 0; y < analysis.height; y += CALIBRATION_PIXEL_STRIDE) {
      for (let x = 0; x < analysis.width; x += CALIBRATION_PIXEL_STRIDE) {
        const p = y * analysis.width + x;
        pixelScores.push(analysis.heatmap[p]);
        pixelDefective.push(truth?.[p] ?? 0);
      }
    }
  });
  const thresholds = calibrate({
    goodScores: board.goodScores, defectScores: board.defectScores,
    pixelScores: Float32Array.from(pixelScores), pixelDefective: Uint8Array.from(pixelDefective), falseRejectRate,
  });
  return { thresholds, metrics: board.metrics(thresholds) };
}
