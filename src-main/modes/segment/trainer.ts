import * as ort from 'onnxruntime-node';
import type { TrainingValidation } from '../../contract/contract.ts';
import type { BackboneWeights, TensorLookup } from '../../model/resnet50.ts';
import type { BlobReader } from '../model-mode.ts';
import type { FineTuneBatch, FineTuneSchedule, FineTuneTask, ValidationAccumulator } from '../../training/fine-tuner.ts';
import { LOGIT_STRIDE, SegmentBatcher, type TrainingImage } from './data.ts';
import { buildFrozenFeatureModel, buildTrainingGraphs, frozenOutputs, type SegmentNetworkConfig } from './network.ts';

export interface SegmentTrainingConfig extends SegmentNetworkConfig, FineTuneSchedule {
  /** Image → network scale (the training images' median fit to the input size). */
  scale: number;
  /** Loss weight per class, background first. */
  classWeights: number[];
}

/** Segmentation as a fine-tuning task: focal + Dice loss on 1/4-resolution one-hot targets, pixel IoU per class on validation. */
export function segmentTask(blobs: BlobReader, backbone: BackboneWeights, initial: TensorLookup, config: SegmentTrainingConfig, train: TrainingImage[], validation: TrainingImage[]): FineTuneTask {
  const geometry = { inputWidth: config.inputWidth, inputHeight: config.inputHeight, numClasses: config.classes.length, scale: config.scale };
  const targetDims = [config.batchSize, config.classes.length + 1, config.inputHeight / LOGIT_STRIDE, config.inputWidth / LOGIT_STRIDE];
  const asTask = async (batch: Promise<{ pixels: Uint8Array; target: Float32Array }>): Promise<FineTuneBatch> => {
    const { pixels, target } = await batch;
    return { pixels, targets: { target: new ort.Tensor('float32', target, targetDims) } };
  };
  const validationBatches = new SegmentBatcher(blobs, validation, geometry, () => 0);
  return {
    graphs: buildTrainingGraphs(backbone, initial, config, config.batchSize, config.classWeights),
    frozenModel: buildFrozenFeatureModel(backbone, config),
    frozenOutputs: frozenOutputs(config),
    trainingBatches: (random) => {
      const batcher = new SegmentBatcher(blobs, train, geometry, random);
      return (size) => asTask(batcher.trainingBatch(size));
    },
    validationBatch: (from, size) => asTask(validationBatches.validationBatch(from, size)),
    validationCount: validation.length,
    validation: () => pixelIou(config.classes),
  };
}

/** Pixel IoU per defect class at 1/4 resolution (argmax of the logits against the one-hot target). */
function pixelIou(classes: string[]): ValidationAccumulator {
  const planes = classes.length + 1;
  const intersection = new Float64Array(planes);
  const union = new Float64Array(planes);
  return {
    add(batch, outputs, valid) {
      const logits = outputs.seg_logits.data as Float32Array;
      const target = batch.targets.target.data as Float32Array;
      const plane = logits.length / (batch.targets.target.dims[0] * planes);
      for (let b = 0; b < valid; b++) {
        for (let p = 0; p < plane; p++) {
          let predicted = 0;
          let truth = 0;
          for (let c = 0; c < planes; c++) {
            const i = (b * planes + c) * plane + p;
            if (logits[i] > logits[(b * planes + predicted) * plane + p]) predicted = c;
            if (target[i] === 1) truth = c;
          }
          for (let c = 1; c < planes; c++) {
            if (predicted === c && truth === c) intersection[c]++;
            if (predicted === c || truth === c) union[c]++;
          }
        }
      }
    },
    result(loss): TrainingValidation {
      const iou: Record<string, number> = {};
      classes.forEach((name, i) => (iou[name] = union[i + 1] ? intersection[i + 1] / union[i + 1] : 0));
      return { loss, iou };
    },
  };
}
