import { fineTuneOptions, type ModelModeDefinition } from '../model-mode.ts';
import { networkImage, pixelsTensor, type SegmentModelConfig } from './detector.ts';
import { evaluateSegment } from './evaluate.ts';
import { loadSegmentDetector, trainSegment } from './train.ts';

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Segmentation mode: ResNet-50 + FPN + semantic head fine-tuned on masks, polygons or boxes. */
export const segmentMode: ModelModeDefinition = {
  mode: 'segment',
  fineTuned: true,
  trainingConfig: fineTuneOptions,
  train: trainSegment,
  loadDetector: loadSegmentDetector,
  evaluate: (blobs, detector, model, samples, onImage, signal) =>
    evaluateSegment(blobs, detector, model.thresholds, model.classes, samples, onImage, signal),
  async guardMetrics(blobs, detector, model, samples, onImage, signal) {
    const metrics = await evaluateSegment(blobs, detector, model.thresholds, model.classes, samples, onImage, signal);
    const ious = Object.values(metrics.pixel_iou).filter((v) => Number.isFinite(v));
    return { image_auroc: finite(metrics.image_auroc), pixel_iou: ious.length ? ious.reduce((a, b) => a + b, 0) / ious.length : null };
  },
  optimisation: {
    role: 'network.onnx',
    networkInput: async (model, image) => pixelsTensor([await networkImage(model.config as unknown as SegmentModelConfig, image)]),
    recalibrate: false,
  },
};
