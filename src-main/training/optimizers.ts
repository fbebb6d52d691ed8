import type { GraphBuilder, Value } from '../model/onnx-graph.ts';

export type OptimizerKind = 'adamw' | 'sgd';

export interface OptimizerOptions {
  kind: OptimizerKind;
  weightDecay: number;
  /** AdamW betas; SGD uses beta1 as its momentum. */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Gradients are rescaled so their global L2 norm is at most this (0: no clipping). */
  clipNorm?: number;
}

/** Suffix of a step graph's gradient outputs: `<parameter>.grad`. */
export const GRAD = '.grad';

/** Makes each parameter's gradient an output of the step graph, named `<parameter>.grad`. */
export function outputGradients(g: GraphBuilder, params: Value[], grads: Map<string, Value>): void {
  for (const p of params) g.output(grads.get(p.name)!, `${p.name}${GRAD}`);
}

export interface TrainedTensor {
  name: string;
  /** Updated in place by every step. */
  data: Float32Array;
  dims: number[];
}

/**
 * The parameter update, applied in place on the host after the step graph has computed the
 * gradients. One fused pass per tensor reads each parameter, gradient and state value once; as
 * ONNX nodes the same update took ~15 full-size elementwise kernels per tensor plus copies of
 * every parameter and state tensor out of onnxruntime each step. AdamW (decoupled weight decay,
 * Loshchilov & Hutter) or SGD with momentum; weight decay skips biases (1-D tensors), as is usual
 * for conv nets; the global gradient norm is clipped first.
 */
export class Optimizer {
  /** State per parameter by `<parameter>.<state>` (AdamW: m, v; SGD: momentum), zero to start. */
  readonly state = new Map<string, Float32Array>();
  readonly stateNames: string[];

  constructor(private readonly options: OptimizerOptions, private readonly params: TrainedTensor[]) {
    this.stateNames = options.kind === 'adamw' ? ['m', 'v'] : ['momentum'];
    for (const p of params) for (const s of this.stateNames) this.state.set(`${p.name}.${s}`, new Float32Array(p.data.length));
  }

  /** One update with the learning rate at step t (1-based); returns the gradient norm before clipping. */
  step(gradientOf: (name: string) => Float32Array, lr: number, t: number): number {
    const grads = this.params.map((p) => {
      const grad = gradientOf(p.name);
      if (grad.length !== p.data.length) throw new Error(`gradient of ${p.name} has ${grad.length} values, the parameter ${p.data.length}`);
      return grad;
    });
    let squares = 0;
    for (const grad of grads) for (let i = 0; i < grad.length; i++) squares += grad[i] * grad[i];
    const norm = Math.sqrt(squares);
    const { clipNorm = 0, weightDecay } = this.options;
    const scale = clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1;
    this.params.forEach((p, k) => {
      const decay = p.dims.length > 1 ? weightDecay : 0;
      if (this.options.kind === 'adamw') this.adamw(p, grads[k], scale, decay, lr, t);
      else this.sgd(p, grads[k], scale, decay, lr);
    });
    return norm;
  }

  private adamw(p: TrainedTensor, grad: Float32Array, scale: number, decay: number, lr: number, t: number): void {
    const { beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8 } = this.options;
    const m = this.state.get(`${p.name}.m`)!;
    const v = this.state.get(`${p.name}.v`)!;
    const correction1 = 1 / (1 - beta1 ** t);
    const correction2 = 1 / (1 - beta2 ** t);
    const w = p.data;
    for (let i = 0; i < w.length; i++) {
      const g = grad[i] * scale;
      const mi = (m[i] = beta1 * m[i] + (1 - beta1) * g);
      const vi = (v[i] = beta2 * v[i] + (1 - beta2) * g * g);
      w[i] -= lr * ((mi * correction1) / (Math.sqrt(vi * correction2) + epsilon) + decay * w[i]);
    }
  }

  private sgd(p: TrainedTensor, grad: Float32Array, scale: number, decay: number, lr: number): void {
    const momentum = this.options.beta1 ?? 0.9;
    const velocity = this.state.get(`${p.name}.momentum`)!;
    const w = p.data;
    for (let i = 0; i < w.length; i++) {
      const vi = (velocity[i] = momentum * velocity[i] + grad[i] * scale + decay * w[i]);
      w[i] -= lr * vi;
    }
  }
}
