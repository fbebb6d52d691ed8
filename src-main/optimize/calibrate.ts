import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { ArgusError } from '../contract/errors.ts';
import { decodeModel } from '../model/onnx-model.ts';
import type { TensorRange } from './quantize.ts';

const { onnx } = onnxProto;

/**
 * How an activation's range is chosen from what the calibration images produced: the extremes
 * ('minmax'), or the 0.01% / 99.99% quantiles ('percentile'), which ignore the rare outliers that
 * would otherwise stretch the 256 levels over values almost never seen.
 */
export type CalibrationMethod = 'minmax' | 'percentile';

export const PERCENTILE = 0.9999;
const BINS = 2048;

/** A float model that also outputs the given intermediate tensors. */
function withOutputs(modelBytes: Uint8Array, tensors: string[]): Uint8Array {
  const model = decodeModel(modelBytes);
  const graph = model.graph!;
  const existing = new Set((graph.output ?? []).map((o) => o.name!));
  for (const name of tensors) {
    if (!existing.has(name)) graph.output!.push({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } });
  }
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Observes activation ranges by running the float model on calibration inputs. 'percentile' needs
 * a second pass: a histogram per tensor over the range the first pass found.
 */
export async function collectRanges(
  modelBytes: Uint8Array,
  tensors: string[],
  inputs: () => AsyncIterable<Record<string, ort.Tensor>>,
  method: CalibrationMethod,
  onProgress: (pass: number, done: number) => void = () => undefined,
): Promise<Map<string, TensorRange>> {
  const session = await ort.InferenceSession.create(withOutputs(modelBytes, tensors), { executionProviders: ['cpu'], graphOptimizationLevel: 'basic', logSeverityLevel: 4 });
  try {
    const ranges = new Map(tensors.map((t) => [t, { min: Infinity, max: -Infinity }]));
    let images = 0;
    for await (const feeds of inputs()) {
      const outputs = await session.run(feeds, tensors);
      for (const name of tensors) {
        const data = outputs[name].data as Float32Array;
        const range = ranges.get(name)!;
        let { min, max } = range;
        for (let i = 0; i < data.length; i++) {
          const v = data[i];
          if (v < min) min = v;
          if (v > max) max = v;
        }
        range.min = min;
        range.max = max;
      }
      onProgress(1, ++images);
    }
    if (images === 0) throw new ArgusError('bad_input', 'No calibration images', { key: 'noCalibrationImages' });
    if (method === 'minmax') return ranges;

    const histograms = new Map(tensors.map((t) => [t, new Float64Array(BINS)]));
    images = 0;
    for await (const feeds of inputs()) {
      const outputs = await session.run(feeds, tensors);
      for (const name of tensors) {
        const data = outputs[name].data as Float32Array;
        const { min, max } = ranges.get(name)!;
        const histogram = histograms.get(name)!;
        const perBin = max > min ? BINS / (max - min) : 0;
        for (let i = 0; i < data.length; i++) histogram[Math.min(BINS - 1, Math.floor((data[i] - min) * perBin))]++;
      }
      onProgress(2, ++images);
    }
    return new Map(tensors.map((name) => {
      const { min, max } = ranges.get(name)!;
      const histogram = histograms.get(name)!;
      const total = histogram.reduce((a, b) => a + b, 0);
      const width = (max - min) / BINS;
      let lowBin = 0;
      for (let seen = 0; lowBin < BINS && (seen += histogram[lowBin]) < total * (1 - PERCENTILE); lowBin++);
      let highBin = BINS - 1;
      for (let seen = 0; highBin > 0 && (seen += histogram[highBin]) < total * (1 - PERCENTILE); highBin--);
      return [name, { min: min + lowBin * width, max: min + (highBin + 1) * width }];
    }));
  } finally {
    await session.release();
  }
}
