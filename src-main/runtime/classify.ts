import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import type { ExecutionProviderChoice, ExecutionProviderReport } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';
import { resourcePath } from '../platform/resources.ts';
import { decodeCenterCrop } from '../images/preprocess.ts';
import { imagenetClassifierHead } from '../model/heads.ts';
import { buildNetwork } from '../model/network.ts';
import { loadResNet50Weights } from '../model/resnet50.ts';
import { createSession } from './sessions.ts';

export interface ClassifyResult {
  top5: { index: number; name: string; probability: number }[];
  provider: ExecutionProviderReport;
  ms: number;
}

let classNames: string[] | undefined;
const imagenetClasses = (): string[] =>
  (classNames ??= (JSON.parse(readFileSync(resourcePath('imagenet-classes.json'), 'utf8')) as { classes: string[] }).classes);

export function softmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

/**
 * ImageNet top-5 for an image with the given backbone weights: the user's check that an
 * imported weights file is sane (a photo of a cat must come out as a cat).
 */
export async function classifyImage(weightsPath: string, image: Uint8Array, provider: ExecutionProviderChoice, precision: 'fp32' | 'fp16' = 'fp32'): Promise<ClassifyResult> {
  const pixels = await decodeCenterCrop(image, 256, 224);
  const weights = loadResNet50Weights(weightsPath);
  if (!weights.hasClassifier) throw new ArgusError('bad_input', `${weightsPath} has no ImageNet classifier (fc.weight, fc.bias), so it cannot classify`);
  const model = buildNetwork({ name: 'imagenet-classifier', backbone: weights, input: 'pixels', heads: [imagenetClassifierHead(weights)] });
  const { session, report } = await createSession({ model, provider, precision, dims: { N: 1, H: 224, W: 224 } });
  try {
    const started = performance.now();
    const { logits } = await session.run({ image: new ort.Tensor('uint8', pixels.data, [1, 224, 224, 3]) });
    const probabilities = softmax(logits.data as Float32Array);
    const names = imagenetClasses();
    const top5 = [...probabilities.keys()].sort((a, b) => probabilities[b] - probabilities[a]).slice(0, 5)
      .map((index) => ({ index, name: names[index], probability: probabilities[index] }));
    return { top5, provider: report, ms: performance.now() - started };
  } finally {
    await session.release();
  }
}
