import * as ort from 'onnxruntime-node';
import type { DetectMetrics } from '../../contract/contract.ts';
import { resizeAsTrained } from '../../images/augment.ts';
import { fineTuneOptions, type ModelModeDefinition } from '../model-mode.ts';
import type { DetectModelConfig } from './detector.ts';
import { collectDetections, detectionMetrics } from './evaluate.ts';
import { loadDetectDetector, trainDetect } from './train.ts';

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Detection mode: FCOS-style boxes with class and score on ResNet-50 + FPN P3–P7. */
export const detectMode: ModelModeDefinition = {
  mode: 'detect',
  fineTuned: true,
  trainingConfig: fineTuneOptions,
  train: trainDetect,
  loadDetector: loadDetectDetector,
  async evaluate(blobs, detector, model, samples, onImage, signal) {
    const record = await collectDetections(blobs, detector, model.classes, samples, onImage, signal);
    return detectionMetrics(record, model.classes, model.thresholds);
  },
  async guardMetrics(blobs, detector, model, samples, onImage, signal) {
    const metrics = (await detectMode.evaluate(blobs, detector, model, samples, onImage, signal)) as DetectMetrics;
    return { image_auroc: finite(metrics.image_auroc), pixel_iou: null, box_map50: finite(metrics.mean_box_ap50) };
  },
  optimisation: {
    role: 'network.onnx',
    async networkInput(model, image) {
      // The image's first tile at the training scale, as inspection feeds it.
      const config = model.config as unknown as DetectModelConfig;
      const width = Math.min(config.inputWidth, Math.ceil((image.width * config.scale) / 32) * 32);
      const height = Math.min(config.inputHeight, Math.ceil((image.height * config.scale) / 32) * 32);
      const scaled = await resizeAsTrained(image, width, height);
      return new ort.Tensor('uint8', scaled.data, [1, height, width, 3]);
    },
    recalibrate: false,
  },
};
