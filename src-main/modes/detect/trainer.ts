import * as ort from 'onnxruntime-node';
import { averagePrecision, type Box, type ScoredBox } from '../../common/box-metrics.ts';
import type { BackboneWeights, TensorLookup } from '../../model/resnet50.ts';
import type { BlobReader } from '../model-mode.ts';
import type { FineTuneBatch, FineTuneSchedule, FineTuneTask, ValidationAccumulator } from '../../training/fine-tuner.ts';
import { type DetectBatch, DetectBatcher, type DetectImage } from './data.ts';
import { decodeLevels, type LevelMaps, nonMaximumSuppression } from './decode.ts';
import { DECODE } from './detector.ts';
import { buildFrozenFeatureModel, buildTrainingGraphs, frozenOutputs, type DetectNetworkConfig, levelSizes } from './network.ts';
import { type LevelSize, positionCount } from './targets.ts';

export interface DetectTrainingConfig extends DetectNetworkConfig, FineTuneSchedule {
  /** Image → network scale. */
  scale: number;
}

/** Detection as a fine-tuning task: FCOS targets, focal + GIoU + centreness loss, box AP@0.5 per class on validation. */
export function detectTask(blobs: BlobReader, backbone: BackboneWeights, initial: TensorLookup, config: DetectTrainingConfig, train: DetectImage[], validation: DetectImage[]): FineTuneTask {
  const levels = levelSizes(config.inputWidth, config.inputHeight);
  const geometry = { inputWidth: config.inputWidth, inputHeight: config.inputHeight, numClasses: config.classes.length, scale: config.scale, levels };
  const positions = positionCount(levels);
  const n = config.batchSize;
  const asTask = async (pending: Promise<DetectBatch>): Promise<FineTuneBatch & { boxes: DetectBatch['boxes'] }> => {
    const { pixels, targets, boxes } = await pending;
    const scalar = (v: number): ort.Tensor => new ort.Tensor('float32', Float32Array.of(v), [1, 1, 1]);
    return {
      pixels, boxes,
      targets: {
        target_cls: new ort.Tensor('float32', targets.cls, [n, config.classes.length, positions]),
        target_box: new ort.Tensor('float32', targets.box, [n, 4, positions]),
        target_ctr: new ort.Tensor('float32', targets.ctr, [n, 1, positions]),
        target_positive: new ort.Tensor('float32', targets.positive, [n, 1, positions]),
        target_inv_positives: scalar(1 / Math.max(1, targets.positives)),
        target_inv_centreness: scalar(1 / Math.max(1e-6, targets.centreness)),
      },
    };
  };
  const validationBatches = new DetectBatcher(blobs, validation, geometry, () => 0);
  return {
    graphs: buildTrainingGraphs(backbone, initial, config, n),
    frozenModel: buildFrozenFeatureModel(backbone, config),
    frozenOutputs: frozenOutputs(config),
    trainingBatches: (random) => {
      const batcher = new DetectBatcher(blobs, train, geometry, random);
      return (size) => asTask(batcher.trainingBatch(size));
    },
    validationBatch: (from, size) => asTask(validationBatches.validationBatch(from, size)),
    validationCount: validation.length,
    validation: () => boxAp(config, levels),
  };
}

/** The flattened head outputs of one image, cut back into levels. */
export function imageLevels(outputs: ort.InferenceSession.OnnxValueMapType, levels: LevelSize[], numClasses: number, image: number): LevelMaps[] {
  const cls = outputs.cls_scores.data as Float32Array;
  const box = outputs.box_strides.data as Float32Array;
  const ctr = outputs.centreness.data as Float32Array;
  const total = positionCount(levels);
  let offset = 0;
  return levels.map((level) => {
    const plane = level.width * level.height;
    const take = (data: Float32Array, channels: number): Float32Array => {
      const out = new Float32Array(channels * plane);
      for (let c = 0; c < channels; c++) out.set(data.subarray((image * channels + c) * total + offset, (image * channels + c) * total + offset + plane), c * plane);
      return out;
    };
    const maps = { level, cls: take(cls, numClasses), box: take(box, 4), ctr: take(ctr, 1) };
    offset += plane;
    return maps;
  });
}

/** Box AP@0.5 per class over the validation crops. */
function boxAp(config: DetectTrainingConfig, levels: LevelSize[]): ValidationAccumulator {
  const found = config.classes.map(() => [] as ScoredBox[]);
  const truth = config.classes.map(() => new Map<number, Box[]>());
  let image = 0;
  return {
    add(batch, outputs, valid) {
      const boxes = (batch as FineTuneBatch & { boxes: DetectBatch['boxes'] }).boxes;
      for (let b = 0; b < valid; b++, image++) {
        const decoded = decodeLevels(imageLevels(outputs, levels, config.classes.length, b), {
          numClasses: config.classes.length, minProbability: DECODE.minProbability, topK: DECODE.topK,
          scale: 1, offsetX: 0, offsetY: 0, width: config.inputWidth, height: config.inputHeight,
        });
        for (const d of nonMaximumSuppression(decoded, DECODE.nmsIou, DECODE.maxDetections)) found[d.classIndex - 1].push({ image, score: d.score, box: d.box });
        for (const t of boxes[b]) (truth[t.classIndex - 1].get(image) ?? truth[t.classIndex - 1].set(image, []).get(image)!).push(t.box);
      }
    },
    result(loss) {
      const ap50: Record<string, number> = {};
      config.classes.forEach((name, c) => (ap50[name] = averagePrecision(found[c], truth[c]) || 0));
      return { loss, ap50 };
    },
  };
}
