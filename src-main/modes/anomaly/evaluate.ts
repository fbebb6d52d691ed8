import type { AnomalyMetrics, ImageScores } from '../../contract/contract.ts';
import type { ImageAnalyser } from '../../analysis/analysis.ts';
import type { ModelThresholds } from '../../contract/contract.ts';
import type { DatasetSample } from '../../contract/dataset-sample.ts';
import type { BlobReader } from '../model-mode.ts';
import { scoreSamples } from '../shared/evaluation.ts';

/** Image AUROC, pixel AUROC over every pixel at image resolution, and the decisions of the thresholds. */
export async function evaluateAnomaly(
  blobs: BlobReader, detector: ImageAnalyser, thresholds: ModelThresholds, samples: DatasetSample[],
  onImage?: (done: number, total: number) => void, signal?: AbortSignal,
): Promise<AnomalyMetrics & { image_scores: ImageScores }> {
  const board = await scoreSamples(blobs, detector, samples, onImage, signal);
  return { ...board.metrics(thresholds), image_scores: board.imageScores(thresholds) };
}
