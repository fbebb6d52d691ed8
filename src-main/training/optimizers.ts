import type { GraphBuilder, Value } from '../model/onnx-graph.ts';
import { shapeOf } from './autodiff.ts';

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

/** What a step graph takes besides the data: per-parameter state tensors and the scalar inputs. */
export interface OptimizerState {
  /** State inputs per parameter, e.g. AdamW's m and v, in the order of the returned `stateNames`. */
  stateNames: string[];
  /** Names of the scalar inputs: learning rate and (AdamW) the two bias corrections. */
  scalars: string[];
}

export const NEXT = '.next';

/**
 * Appends the optimizer update to a step graph: for each parameter p with gradient dp it adds
 * state inputs and outputs `p.next` (and `state.next`) with the updated values.
 * AdamW (decoupled weight decay, Loshchilov & Hutter) or SGD with momentum; weight decay skips
 * biases (1-D tensors), as is usual for conv nets.
 */
export function addOptimizer(g: GraphBuilder, params: Value[], grads: Map<string, Value>, options: OptimizerOptions): OptimizerState {
  const scalarInput = (name: string): Value => g.input(name, 'float32', []);
  const lr = scalarInput('lr');
  const node = (op: string, inputs: Value[], shape: Value['shape'], layer: string): Value => g.node(op, inputs, {}, shape, layer);
  const constant = (name: string, v: number): Value => g.constFloats(name, [v], []);

  let clipScale: Value | undefined;
  if (options.clipNorm && options.clipNorm > 0) {
    // scale = clip / max(clip, ‖g‖): 1 unless the global norm exceeds the limit.
    const squares = params.map((p) => g.node('ReduceSumSquare', [grads.get(p.name)!], { keepdims: 0 }, [], 'optimizer.clip'));
    const total = squares.reduce((a, b) => node('Add', [a, b], [], 'optimizer.clip'));
    const norm = node('Sqrt', [total], [], 'optimizer.clip');
    const clip = constant('optimizer.clip_norm', options.clipNorm);
    clipScale = node('Div', [clip, node('Max', [clip, norm], [], 'optimizer.clip')], [], 'optimizer.clip');
    g.output(norm, 'grad_norm');
  }
  const beta1 = options.beta1 ?? 0.9;
  const beta2 = options.beta2 ?? 0.999;
  const bias1 = options.kind === 'adamw' ? scalarInput('bias_correction1') : undefined;
  const bias2 = options.kind === 'adamw' ? scalarInput('bias_correction2') : undefined;
  const stateNames = options.kind === 'adamw' ? ['m', 'v'] : ['momentum'];

  for (const p of params) {
    const layer = `optimizer/${p.name}`;
    const shape = shapeOf(p);
    let grad = grads.get(p.name)!;
    if (clipScale) grad = node('Mul', [grad, clipScale], shape, layer);
    const decay = shape.length > 1 && options.weightDecay > 0 ? constant(`${layer}.wd`, options.weightDecay) : undefined;
    const state = stateNames.map((s) => g.input(`${p.name}.${s}`, 'float32', shape));
    let step: Value;
    if (options.kind === 'adamw') {
      const [m, v] = state;
      const m1 = node('Add', [node('Mul', [m, constant(`${layer}.b1`, beta1)], shape, layer), node('Mul', [grad, constant(`${layer}.1-b1`, 1 - beta1)], shape, layer)], shape, layer);
      const gg = node('Mul', [grad, grad], shape, layer);
      const v1 = node('Add', [node('Mul', [v, constant(`${layer}.b2`, beta2)], shape, layer), node('Mul', [gg, constant(`${layer}.1-b2`, 1 - beta2)], shape, layer)], shape, layer);
      const mHat = node('Mul', [m1, bias1!], shape, layer);
      const vHat = node('Sqrt', [node('Mul', [v1, bias2!], shape, layer)], shape, layer);
      step = node('Div', [mHat, node('Add', [vHat, constant(`${layer}.eps`, options.epsilon ?? 1e-8)], shape, layer)], shape, layer);
      if (decay) step = node('Add', [step, node('Mul', [p, decay], shape, layer)], shape, layer);
      g.output(m1, `${m.name}${NEXT}`);
      g.output(v1, `${v.name}${NEXT}`);
    } else {
      const [momentum] = state;
      let direction = grad;
      if (decay) direction = node('Add', [direction, node('Mul', [p, decay], shape, layer)], shape, layer);
      step = node('Add', [node('Mul', [momentum, constant(`${layer}.mu`, beta1)], shape, layer), direction], shape, layer);
      g.output(step, `${momentum.name}${NEXT}`);
    }
    g.output(node('Sub', [p, node('Mul', [step, lr], shape, layer)], shape, layer), `${p.name}${NEXT}`);
  }
  return { stateNames, scalars: options.kind === 'adamw' ? ['lr', 'bias_correction1', 'bias_correction2'] : ['lr'] };
}
