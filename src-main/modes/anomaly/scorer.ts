import * as ort from 'onnxruntime-node';
import { ArgusError } from '../../contract/errors.ts';
import { GraphBuilder } from '../../model/onnx-graph.ts';
import { decodeModel, initializerFloats } from '../../model/onnx-model.ts';

/**
 * The nearest-neighbour scorer as an ONNX graph, so it runs on the backbone's execution provider:
 * for patches X [P, D] and the memory bank B [M, D],
 *   d²(x) = ‖x‖² + min_m (‖b_m‖² − 2 x·b_m),
 * where the inner part is one Gemm (X · (−2Bᵀ) + ‖B‖²) followed by ReduceMin. Output
 * "distance" [P, 1] = √max(d², 0).
 */
export function buildScorer(bank: Float32Array, dim: number): Uint8Array {
  const size = bank.length / dim;
  const g = new GraphBuilder('anomaly-scorer');
  const patches = g.input('patches', 'float32', [{ sym: 'P', div: 1 }, dim]);
  const minusTwoBankT = new Float32Array(dim * size);
  const bankNorms = new Float32Array(size);
  for (let m = 0; m < size; m++) {
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      const v = bank[m * dim + d];
      minusTwoBankT[d * size + m] = -2 * v;
      norm += v * v;
    }
    bankNorms[m] = norm;
  }
  const P = patches.shape[0];
  const cross = g.node('Gemm', [patches, g.initializer('bank.minus_two_t', minusTwoBankT, [dim, size]), g.initializer('bank.norms', bankNorms, [1, size])], {}, [P, size], 'scorer.gemm');
  const nearest = g.node('ReduceMin', [cross], { axes: [1], keepdims: 1 }, [P, 1], 'scorer.min');
  const selfNorm = g.node('ReduceSumSquare', [patches], { axes: [1], keepdims: 1 }, [P, 1], 'scorer.norm');
  const squared = g.node('Relu', [g.node('Add', [nearest, selfNorm], {}, [P, 1], 'scorer.add')], {}, [P, 1], 'scorer.clamp');
  g.output(g.node('Sqrt', [squared], {}, [P, 1], 'scorer.sqrt'), 'distance');
  return g.toBytes();
}

/** The memory bank [M, D] a scorer graph was built from (its −2Bᵀ initialiser, transposed back). */
export function bankOf(scorerModel: Uint8Array): { bank: Float32Array; dim: number; size: number } {
  const tensor = decodeModel(scorerModel).graph?.initializer?.find((t) => t.name === 'bank.minus_two_t');
  if (!tensor?.dims || tensor.dims.length !== 2) throw new ArgusError('bad_input', 'The scorer model holds no memory bank');
  const [dim, size] = tensor.dims.map(Number);
  const minusTwoBankT = initializerFloats(tensor);
  const bank = new Float32Array(size * dim);
  for (let d = 0; d < dim; d++) for (let m = 0; m < size; m++) bank[m * dim + d] = -0.5 * minusTwoBankT[d * size + m];
  return { bank, dim, size };
}

/**
 * Scores patches [P, D] in chunks, so the P×M distance matrix stays within `budgetBytes`
 * however large the image and the bank are.
 */
export async function scorePatches(session: ort.InferenceSession, patches: Float32Array, dim: number, bankSize: number, budgetBytes = 64 * 2 ** 20): Promise<Float32Array> {
  const count = patches.length / dim;
  const rowsPerChunk = Math.max(1, Math.floor(budgetBytes / (4 * bankSize)));
  const out = new Float32Array(count);
  for (let start = 0; start < count; start += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, count - start);
    const chunk = patches.subarray(start * dim, (start + rows) * dim);
    const { distance } = await session.run({ patches: new ort.Tensor('float32', chunk, [rows, dim]) });
    out.set(distance.data as Float32Array, start);
  }
  return out;
}
