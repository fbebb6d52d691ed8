import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { groupNorm } from './group-norm.ts';
import { GraphBuilder } from './onnx-graph.ts';

/** Group normalisation computed directly in float64, as PyTorch's nn.GroupNorm defines it. */
function reference(x: Float32Array, [n, c, h, w]: number[], groups: number, gamma: number[], beta: number[]): Float64Array {
  const out = new Float64Array(x.length);
  const span = (c / groups) * h * w;
  for (let b = 0; b < n; b++) {
    for (let k = 0; k < groups; k++) {
      const from = (b * c + (k * c) / groups) * h * w;
      let mean = 0;
      for (let i = 0; i < span; i++) mean += x[from + i] / span;
      let variance = 0;
      for (let i = 0; i < span; i++) variance += (x[from + i] - mean) ** 2 / span;
      for (let i = 0; i < span; i++) {
        const channel = Math.floor((from + i) / (h * w)) % c;
        out[from + i] = ((x[from + i] - mean) / Math.sqrt(variance + 1e-5)) * gamma[channel] + beta[channel];
      }
    }
  }
  return out;
}

describe('group normalisation graph', () => {
  it('matches the definition at fixed and at free input sizes', async () => {
    const gamma = [1, 0.5, 2, -1, 1.5, 0.25];
    const beta = [0, 1, -1, 0.5, 0, 2];
    for (const fixed of [true, false]) {
      const g = new GraphBuilder('gn');
      const x = g.input('x', 'float32', fixed ? [2, 6, 3, 5] : [{ sym: 'N', div: 1 }, 6, { sym: 'H', div: 1 }, { sym: 'W', div: 1 }]);
      g.output(groupNorm(g, 'gn', x, g.constFloats('gamma', gamma), g.constFloats('beta', beta), 3), 'y');
      const session = await ort.InferenceSession.create(g.toBytes());
      const shape = [2, 6, 3, 5];
      const data = Float32Array.from({ length: 180 }, (_, i) => Math.sin(i * 1.7) * 3 + (i % 7));
      const y = (await session.run({ x: new ort.Tensor('float32', data, shape) })).y.data as Float32Array;
      await session.release();
      const expected = reference(data, shape, 3, gamma, beta);
      for (let i = 0; i < y.length; i++) expect(y[i]).toBeCloseTo(expected[i], 4);
    }
  });

  it('refuses channels that do not split into the groups', () => {
    const g = new GraphBuilder('gn');
    const x = g.input('x', 'float32', [1, 6, 2, 2]);
    expect(() => groupNorm(g, 'gn', x, g.constFloats('gamma', [1, 1, 1, 1, 1, 1]), g.constFloats('beta', [0, 0, 0, 0, 0, 0]), 4)).toThrow(/do not split into 4 groups/);
  });
});
