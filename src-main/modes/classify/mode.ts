import type { ModelVersionSummary } from '../../contract/contract.ts';
import { definedOptions, fineTuneOptions, type ModelModeDefinition } from '../model-mode.ts';
import { type ClassifyModelConfig, networkImage, pixelsTensor } from './detector.ts';
import { evaluateClassify } from './evaluate.ts';
import { loadClassifyDetector, trainClassify } from './train.ts';

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const labelling = (model: ModelVersionSummary) => {
  const config = model.config as unknown as ClassifyModelConfig;
  return { classes: model.classes, hasGood: config.hasGood, multiLabel: config.multiLabel };
};

/** Classification mode: ResNet-50 with a classifier over whole-image classes, its class activation map as the heatmap. */
export const classifyMode: ModelModeDefinition = {
  mode: 'classify',
  fineTuned: true,
  trainingConfig: (input) => ({ ...fineTuneOptions(input), ...definedOptions({ multiLabel: input.multiLabel }) }),
  train: trainClassify,
  loadDetector: loadClassifyDetector,
  evaluate: (blobs, detector, model, samples, onImage, signal) =>
    evaluateClassify(blobs, detector, model.thresholds, labelling(model), samples, onImage, signal),
  async guardMetrics(blobs, detector, model, samples, onImage, signal) {
    const metrics = await evaluateClassify(blobs, detector, model.thresholds, labelling(model), samples, onImage, signal);
    return { image_auroc: finite(metrics.image_auroc), pixel_iou: null, accuracy: metrics.accuracy };
  },
  optimisation: {
    role: 'network.onnx',
    networkInput: async (model, image) => pixelsTensor(await networkImage(model.config as unknown as ClassifyModelConfig, image)),
    recalibrate: false,
  },
};
