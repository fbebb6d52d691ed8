import { type AnomalyConfig, levelScorerRole, networkImage, preparedImage } from './detector.ts';
import { evaluateAnomaly } from './evaluate.ts';
import { scoreSamples } from '../shared/evaluation.ts';
import { anomalyScorerFiles, loadAnomalyDetector, trainAnomaly } from './train.ts';
import { pixelsTensor } from '../segment/detector.ts';
import { definedOptions, modelFile, type ModelModeDefinition } from '../model-mode.ts';
import { adaptAnomaly } from './adapt.ts';

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Anomaly mode: PatchCore-style memory bank of good patches; learns from good images only. */
export const anomalyMode: ModelModeDefinition = {
  mode: 'anomaly',
  fineTuned: false,
  trainingConfig: (input) => definedOptions({
    inputWidth: input.inputSize?.[0], inputHeight: input.inputSize?.[1], coresetSize: input.coresetSize, layers: input.layers, ignoredBorder: input.ignoredBorder,
    falseRejectRate: input.falseRejectRate,
  }),
  train: trainAnomaly,
  loadDetector: loadAnomalyDetector,
  evaluate: (blobs, detector, model, samples, onImage, signal) => evaluateAnomaly(blobs, detector, model.thresholds, samples, onImage, signal),
  async guardMetrics(blobs, detector, model, samples, onImage, signal) {
    // The anomalous area at the pixel threshold against the marked defects.
    const thresholds = model.thresholds;
    let intersection = 0;
    let union = 0;
    const board = await scoreSamples(blobs, detector, samples, onImage, signal, (analysis, truth) => {
      for (let p = 0; p < analysis.heatmap.length; p++) {
        const predicted = analysis.heatmap[p] >= thresholds.pixel.threshold;
        const actual = truth?.[p] === 1;
        if (predicted && actual) intersection++;
        if (predicted || actual) union++;
      }
    });
    return { image_auroc: finite(board.metrics(thresholds).image_auroc), pixel_iou: union ? intersection / union : null };
  },
  async adapt(model, files, frames) {
    const config = model.config as unknown as AnomalyConfig & { bankSize: number };
    const levels = config.levels ?? [];
    const adapted = await adaptAnomaly({
      config, featureModel: modelFile(model, files, 'features.onnx'), scorerModels: anomalyScorerFiles(model, files), thresholds: model.thresholds,
      frameCount: frames.count, loadFrame: frames.load, falseRejectRate: frames.falseRejectRate, provider: frames.provider, onProgress: frames.onProgress, signal: frames.signal,
    });
    const [bankSize] = adapted.bankSizes;
    return {
      files: new Map(adapted.scorerModels.map((scorer, k) => [levelScorerRole(k), scorer])),
      config: levels.length > 0 ? { bankSize, levels: levels.map((level, k) => ({ ...level, bankSize: adapted.bankSizes[k] })) } : { bankSize },
      thresholds: adapted.thresholds, bankSize: adapted.bankSizes.reduce((a, b) => a + b, 0), fromGroup: adapted.fromGroup,
    };
  },
  optimisation: {
    role: 'features.onnx',
    async networkInput(model, image) {
      const config = model.config as unknown as AnomalyConfig;
      return pixelsTensor([await networkImage(config, preparedImage(config, image))]);
    },
    recalibrate: true,
  },
};
