import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../model/onnx-graph.ts';
import type { BackboneStages } from '../../model/resnet50.ts';
import { seededRandom } from '../../model/init.ts';
import { patchFeatureHead, projectionMatrix } from './patch-features.ts';

describe('patch descriptors', () => {
  it('project each stage before pooling and upsampling, and give the descriptors of the projected concatenation', async () => {
    const [fineChannels, coarseChannels, dim, height, width] = [24, 40, 16, 12, 10];
    const config = { layers: 'c3+c4' as const, dim, seed: 5 };
    const head = new GraphBuilder('head');
    const fine = head.input('fine', 'float32', [1, fineChannels, height, width]);
    const coarse = head.input('coarse', 'float32', [1, coarseChannels, height / 2, width / 2]);
    patchFeatureHead(config).attach(head, { stages: { c3: fine, c4: coarse } as unknown as BackboneStages, fpn: () => { throw new Error('no FPN'); } });

    // The textbook order: pool, upsample, concatenate, then one projection of all channels.
    const reference = new GraphBuilder('reference');
    const f = reference.input('fine', 'float32', [1, fineChannels, height, width]);
    const c = reference.input('coarse', 'float32', [1, coarseChannels, height / 2, width / 2]);
    const joined = reference.concatChannels('concat', [reference.averagePool('fa', f, 3, 1, 1), reference.upsample('up', reference.averagePool('ca', c, 3, 1, 1), 2, 'bilinear')]);
    const matrix = reference.initializer('p', projectionMatrix(fineChannels + coarseChannels, dim, config.seed), [dim, fineChannels + coarseChannels, 1, 1]);
    reference.output(reference.transpose('nhwc', reference.conv('project', joined, matrix, null), [0, 2, 3, 1]), 'patch_features');

    const random = seededRandom(3);
    const feeds = {
      fine: new ort.Tensor('float32', Float32Array.from({ length: fineChannels * height * width }, () => random() * 4), [1, fineChannels, height, width]),
      coarse: new ort.Tensor('float32', Float32Array.from({ length: (coarseChannels * height * width) / 4 }, () => random() * 4), [1, coarseChannels, height / 2, width / 2]),
    };
    const run = async (bytes: Uint8Array) => (await (await ort.InferenceSession.create(bytes)).run(feeds)).patch_features;
    const [got, want] = [await run(head.toBytes()), await run(reference.toBytes())];
    expect(got.dims).toEqual([1, height, width, dim]);
    const scale = Math.max(...(want.data as Float32Array).map(Math.abs));
    (got.data as Float32Array).forEach((v, i) => expect(Math.abs(v - (want.data as Float32Array)[i])).toBeLessThan(1e-5 * scale));
  });
});
