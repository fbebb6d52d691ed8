import { fineTuneOptions, type ModelModeDefinition } from '../model-mode.ts';
import { networkImage, pixelsTensor, type SegmentModelConfig } from './detector.ts';
import { evaluateSegment } from './evaluate.ts';
import { loadSegmentDetector, trainSegment } from './train.ts';
import type { SegmentTrainingConfig } from './trainer.ts';

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Segmentation mode: ResNet-50 + FPN + semantic head fine-tuned on masks, polygons or boxes. */
export const segmentMode: ModelModeDefinition = {
  mode: 'segment',
  fineTuned: true,
  trainingConfig: fineTuneOptions,
  train: (store, input, ctx) => trainSegment(store, { ...input, config: input.config as Partial<SegmentTrainingConfig> }, ctx),
  loadDetector: loadSegmentDetector,
  evaluate: (store, detector, model, samples, onImage, signal) =>
    evaluateSegment(store, detector, model.thresholds, model.classes, samples, onImage, signal),
  async guardMetrics(store, detector, model, samples, onImage, signal) {
    const metrics = await evaluateSegment(store, detector, model.thresholds, model.classes, samples, onImage, signal);
    const ious = Object.values(metrics.pixel_iou).filter((v) => Number.isFinite(v));
    return { image_auroc: finite(metrics.image_auroc), pixel_iou: ious.length ? ious.reduce((a, b) => a + b, 0) / ious.length : null };
  },
  optimisation: {
    role: 'network.onnx',
    networkInput: async (model, image) => pixelsTensor([await networkImage(model.config as unknown as SegmentModelConfig, image)]),
    recalibrate: false,
  },
};
