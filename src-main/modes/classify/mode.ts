import { fineTuneOptions, type ModelModeDefinition } from '../model-mode.ts';
import { type ClassifyModelConfig, networkImage, pixelsTensor } from './detector.ts';
import { evaluateClassify } from './evaluate.ts';
import { loadClassifyDetector, trainClassify } from './train.ts';

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const hasGood = (config: Record<string, unknown>): boolean => (config as unknown as ClassifyModelConfig).hasGood;

/** Classification mode: ResNet-50 with a classifier over whole-image classes, its class activation map as the heatmap. */
export const classifyMode: ModelModeDefinition = {
  mode: 'classify',
  fineTuned: true,
  trainingConfig: fineTuneOptions,
  train: trainClassify,
  loadDetector: loadClassifyDetector,
  evaluate: (blobs, detector, model, samples, onImage, signal) =>
    evaluateClassify(blobs, detector, model.thresholds, model.classes, hasGood(model.config), samples, onImage, signal),
  async guardMetrics(blobs, detector, model, samples, onImage, signal) {
    const metrics = await evaluateClassify(blobs, detector, model.thresholds, model.classes, hasGood(model.config), samples, onImage, signal);
    return { image_auroc: finite(metrics.image_auroc), pixel_iou: null, accuracy: metrics.accuracy };
  },
  optimisation: {
    role: 'network.onnx',
    networkInput: async (model, image) => pixelsTensor(await networkImage(model.config as unknown as ClassifyModelConfig, image)),
    recalibrate: false,
  },
};
