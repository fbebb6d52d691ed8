import type { Head } from '../../model/heads.ts';
import { seededRandom } from '../../model/init.ts';
import type { Value } from '../../model/onnx-graph.ts';

/** Which backbone stages describe a patch: layer2+layer3 (stride 8) or layer1+layer2 (stride 4). */
export type PatchLayers = 'c3+c4' | 'c2+c3';

export interface PatchFeatureConfig {
  layers: PatchLayers;
  /** Feature dimension after the random projection. */
  dim: number;
  /** Seed of the projection matrix (stored with the model so it is rebuilt identically). */
  seed: number;
}

/** Input pixels per patch cell, and the backbone depth each choice needs. */
export const PATCH_LAYERS: Record<PatchLayers, { stride: number; stages: 2 | 3 }> = {
  'c3+c4': { stride: 8, stages: 3 },
  'c2+c3': { stride: 4, stages: 2 },
};

/** A D×C Gaussian projection, entries N(0, 1/D): distances are preserved (Johnson–Lindenstrauss). */
export function projectionMatrix(inChannels: number, dim: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const data = new Float32Array(dim * inChannels);
  const scale = 1 / Math.sqrt(dim);
  for (let i = 0; i < data.length; i += 2) {
    // Box–Muller: two independent normal samples per pair of uniforms.
    const r = Math.sqrt(-2 * Math.log(1 - random()));
    const t = 2 * Math.PI * random();
    data[i] = r * Math.cos(t) * scale;
    if (i + 1 < data.length) data[i + 1] = r * Math.sin(t) * scale;
  }
  return data;
}

/**
 * PatchCore-style patch descriptors from two consecutive stages (C3+C4 by default): each averaged
 * over its 3×3 neighbourhood (so a descriptor sees a little context), the deeper one upsampled
 * bilinearly ×2 to the finer one's stride, both concatenated and projected to `dim` channels.
 * Pooling and upsampling act on each channel alike, so they commute with the projection: each
 * stage is projected first (its own columns of the matrix) and the two projections are added,
 * which gives the same descriptors with the pooling on `dim` channels and the deeper stage's
 * projection at its own, coarser resolution (half the multiply-adds of projecting the concatenation).
 * Output "patch_features": [N, H/s, W/s, dim] (s = 8, or 4 for C2+C3), patch-major, ready for the
 * memory bank and the scorer.
 */
export function patchFeatureHead(config: PatchFeatureConfig): Head {
  return {
    name: `patch-features:${config.layers}:${config.dim}`,
    attach(g, { stages }) {
      const [fine, coarse] = config.layers === 'c2+c3' ? [stages.c2, stages.c3] : [stages.c3, stages.c4];
      if (!fine || !coarse) throw new Error(`patch features ${config.layers}: stages missing`);
      const [fineChannels, coarseChannels] = [fine.shape[1] as number, coarse.shape[1] as number];
      const projection = projectionMatrix(fineChannels + coarseChannels, config.dim, config.seed);
      const columns = (from: number, count: number): Value => {
        const part = new Float32Array(config.dim * count);
        for (let d = 0; d < config.dim; d++) part.set(projection.subarray(d * (fineChannels + coarseChannels) + from, d * (fineChannels + coarseChannels) + from + count), d * count);
        return g.initializer(`patch.projection.${from === 0 ? 'fine' : 'coarse'}`, part, [config.dim, count, 1, 1]);
      };
      const a = g.averagePool('patch.fine.avg', g.conv('patch.fine.projection', fine, columns(0, fineChannels), null), 3, 1, 1);
      const b = g.upsample('patch.coarse.up', g.averagePool('patch.coarse.avg', g.conv('patch.coarse.projection', coarse, columns(fineChannels, coarseChannels), null), 3, 1, 1), 2, 'bilinear');
      g.output(g.transpose('patch.nhwc', g.add('patch.sum', a, b), [0, 2, 3, 1]), 'patch_features');
    },
  };
}
