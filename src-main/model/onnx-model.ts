import onnxProto from 'onnx-proto';
import { ArgusError } from '../contract/errors.ts';

const { onnx } = onnxProto;

/** Parses serialised ONNX; anything else is a clear bad-input error. */
export function decodeModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new ArgusError('bad_input', `Not an ONNX model: ${(error as Error).message}`);
  }
}

/** The values of a float32 initialiser (raw bytes or the repeated field), as a copy. */
export function initializerFloats(tensor: onnxProto.onnx.ITensorProto): Float32Array {
  if (tensor.dataType !== onnx.TensorProto.DataType.FLOAT) throw new ArgusError('bad_input', `Initializer ${tensor.name} is not float32`);
  if (tensor.rawData?.byteLength) {
    const raw = tensor.rawData;
    return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  }
  return Float32Array.from(tensor.floatData ?? []);
}
