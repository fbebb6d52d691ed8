import type { Head } from '../model/heads.ts';
import { seededRandom } from '../model/init.ts';
import type { Value } from '../model/onnx-graph.ts';

export interface PatchFeatureConfig {
  /** Feature dimension after the random projection. */
  dim: number;
  /** Seed of the projection matrix (stored with the model so it is rebuilt identically). */
  seed: number;
}

export const PATCH_STRIDE = 8;

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
 * PatchCore-style patch descriptors: C3 and C4 each averaged over their 3×3 neighbourhood (so a
 * descriptor sees a little context), C4 upsampled bilinearly to C3's stride 8, both concatenated
 * (1536 channels) and projected to `dim` channels. Output "patch_features": [N, H/8, W/8, dim], patch-major,
 * ready for the memory bank and the scorer.
 */
export function patchFeatureHead(config: PatchFeatureConfig): Head {
  return {
    name: `patch-features:${config.dim}`,
    attach(g, { stages }) {
      const c3 = g.averagePool('patch.c3.avg', stages.c3, 3, 1, 1);
      const c4 = g.upsampleBilinear('patch.c4.up', g.averagePool('patch.c4.avg', stages.c4, 3, 1, 1), 2);
      const joined: Value = g.concatChannels('patch.concat', [c3, c4]);
      const channels = joined.shape[1] as number;
      const projection = g.initializer('patch.projection', projectionMatrix(channels, config.dim, config.seed), [config.dim, channels, 1, 1]);
      g.output(g.transpose('patch.nhwc', g.conv('patch.projection', joined, projection, null), [0, 2, 3, 1]), 'patch_features');
    },
  };
}
