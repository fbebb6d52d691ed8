import { describe, expect, it } from 'vitest';
import { seededRandom } from '../model/init.ts';
import { Optimizer } from './optimizers.ts';

const random = seededRandom(11);
const values = (n: number, positive = false): Float32Array => Float32Array.from({ length: n }, () => (positive ? 0.5 + random() : random() * 2 - 1));

describe('optimizer update', () => {
  for (const kind of ['adamw', 'sgd'] as const) {
    it(`${kind} updates weights (with decay) and biases (without) in place as its formula says, over several steps`, () => {
      const w = values(6);
      const b = values(3);
      const params = [{ name: 'w', data: w.slice(), dims: [2, 3] }, { name: 'b', data: b.slice(), dims: [3] }];
      const optimizer = new Optimizer({ kind, weightDecay: 0.1, beta1: 0.9, beta2: 0.99, epsilon: 1e-8 }, params);
      // Float64 reference of the same updates (PyTorch's AdamW and SGD with momentum and decay).
      const reference = params.map((p) => ({ w: Float64Array.from(p.data), m: new Float64Array(p.data.length), v: new Float64Array(p.data.length), decay: p.dims.length > 1 ? 0.1 : 0 }));
      for (let t = 1; t <= 3; t++) {
        const grads = params.map((p) => values(p.data.length));
        const lr = 0.01 * t;
        optimizer.step((name) => grads[params.findIndex((p) => p.name === name)], lr, t);
        reference.forEach((r, k) => {
          for (let i = 0; i < r.w.length; i++) {
            const g = grads[k][i];
            if (kind === 'adamw') {
              r.m[i] = 0.9 * r.m[i] + 0.1 * g;
              r.v[i] = 0.99 * r.v[i] + 0.01 * g * g;
              r.w[i] -= lr * ((r.m[i] / (1 - 0.9 ** t)) / (Math.sqrt(r.v[i] / (1 - 0.99 ** t)) + 1e-8) + r.decay * r.w[i]);
            } else {
              r.m[i] = 0.9 * r.m[i] + g + r.decay * r.w[i];
              r.w[i] -= lr * r.m[i];
            }
          }
        });
      }
      params.forEach((p, k) => p.data.forEach((v, i) => expect(v).toBeCloseTo(reference[k].w[i], 5)));
      expect(optimizer.state.get(kind === 'adamw' ? 'w.m' : 'w.momentum')![0]).toBeCloseTo(reference[0].m[0], 5);
    });
  }

  it('clips the global gradient norm and reports it unclipped', () => {
    const params = [{ name: 'a', data: new Float32Array(2), dims: [2] }, { name: 'b', data: new Float32Array(1), dims: [1] }];
    const sgd = new Optimizer({ kind: 'sgd', weightDecay: 0, beta1: 0, clipNorm: 1 }, params);
    const grads: Record<string, Float32Array> = { a: Float32Array.of(3, 0), b: Float32Array.of(4) };
    expect(sgd.step((name) => grads[name], 1, 1)).toBeCloseTo(5, 6);
    // The step is the gradient scaled to norm 1: (0.6, 0, 0.8).
    expect([...params[0].data, ...params[1].data].map((v) => +v.toFixed(6))).toEqual([-0.6, 0, -0.8]);
    expect(() => sgd.step(() => new Float32Array(5), 1, 2)).toThrow(/gradient of a has 5 values/);
  });
});
