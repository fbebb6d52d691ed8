import { MAX_FILE_BYTES, readUserFileSync } from '../platform/user-file.ts';
import { ArgusError } from '../contract/errors.ts';

export type SafetensorsDType = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I8' | 'U8' | 'BOOL';

const BYTES_PER: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export interface TensorEntry {
  dtype: SafetensorsDType;
  shape: number[];
  /** Byte range inside the data section. */
  begin: number;
  end: number;
}

/** A float32 tensor in row-major order. */
export interface Float32Tensor {
  data: Float32Array;
  dims: number[];
}

export const numel = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/** Serialises float32 tensors (and string metadata) in the safetensors layout: header length, JSON header, data. */
export function encodeSafetensors(tensors: Map<string, Float32Tensor>, metadata: Record<string, string> = {}): Uint8Array[] {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: 'F32', shape: t.dims, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return [prefix, Buffer.from(json, 'utf8'), ...[...tensors.values()].map((t) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))];
}

/**
 * A safetensors file held in memory: header checked on open (every tensor's range lies inside the
 * file and matches its dtype and shape), tensors converted to float32 when read.
 */
export class SafetensorsFile {
  readonly tensors: Map<string, TensorEntry>;
  readonly metadata: Record<string, string>;
  private readonly data: Buffer;

  private constructor(tensors: Map<string, TensorEntry>, metadata: Record<string, string>, data: Buffer) {
    this.tensors = tensors;
    this.metadata = metadata;
    this.data = data;
  }

  static read(path: string): SafetensorsFile {
    return SafetensorsFile.parse(readUserFileSync(path, 'weights file', MAX_FILE_BYTES.weights), path);
  }

  static parse(bytes: Buffer, label = 'weights file'): SafetensorsFile {
    const fail: (why: string) => never = (why) => {
      throw new ArgusError('bad_input', `${label} is not a valid safetensors file: ${why}`, { key: 'notSafetensors', params: { file: label, reason: why } });
    };
    if (bytes.length < 8) fail('shorter than its 8-byte header length');
    const headerLength = Number(bytes.readBigUInt64LE(0));
    if (headerLength < 2 || headerLength > 100_000_000 || 8 + headerLength > bytes.length) {
      fail(`header length ${headerLength} does not fit in ${bytes.length} bytes`);
    }
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
    } catch {
      return fail('the header is not JSON');
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header is not a JSON object');
    const data = bytes.subarray(8 + headerLength);
    const tensors = new Map<string, TensorEntry>();
    let metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(header)) {
      if (name === '__metadata__') {
        metadata = (value ?? {}) as Record<string, string>;
        continue;
      }
      const entry = value as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
      const size = BYTES_PER[entry?.dtype ?? ''];
      if (!size) fail(`tensor ${name} has unsupported dtype ${entry?.dtype}`);
      if (!Array.isArray(entry.shape) || !entry.shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor ${name} has an invalid shape`);
      const [begin, end] = entry.data_offsets ?? [NaN, NaN];
      if (!(Number.isInteger(begin) && Number.isInteger(end) && begin >= 0 && end >= begin)) fail(`tensor ${name} has invalid data offsets`);
      if (end > data.length) {
        throw new ArgusError('bad_input', `${label} is truncated: tensor ${name} ends at byte ${end} of a ${data.length}-byte data section`, { key: 'fileTruncated', params: { file: label } });
      }
      if (end - begin !== numel(entry.shape) * size) fail(`tensor ${name}: ${end - begin} bytes for shape [${entry.shape}] of ${entry.dtype}`);
      tensors.set(name, { dtype: entry.dtype as SafetensorsDType, shape: entry.shape, begin, end });
    }
    return new SafetensorsFile(tensors, metadata, data);
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  /** The tensor as float32 (converted from F16/BF16/F64 when stored so). */
  float32(name: string): Float32Tensor {
    const entry = this.tensors.get(name);
    if (!entry) throw new ArgusError('bad_input', `Weights file has no tensor ${name}`);
    const raw = this.data.subarray(entry.begin, entry.end);
    const n = numel(entry.shape);
    const out = new Float32Array(n);
    switch (entry.dtype) {
      case 'F32':
        for (let i = 0; i < n; i++) out[i] = raw.readFloatLE(i * 4);
        break;
      case 'F16':
        for (let i = 0; i < n; i++) out[i] = halfToFloat(raw[i * 2] | (raw[i * 2 + 1] << 8));
        break;
      case 'BF16': {
        const bits = new Uint32Array(out.buffer);
        for (let i = 0; i < n; i++) bits[i] = (raw[i * 2] | (raw[i * 2 + 1] << 8)) << 16;
        break;
      }
      case 'F64':
        for (let i = 0; i < n; i++) out[i] = raw.readDoubleLE(i * 8);
        break;
      default:
        throw new ArgusError('bad_input', `Tensor ${name} is ${entry.dtype}, not a floating-point tensor`);
    }
    return { data: out, dims: [...entry.shape] };
  }
}

const HALF_TABLE = (() => {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) table[h] = sign * 2 ** -14 * (mantissa / 1024);
    else if (exponent === 31) table[h] = mantissa ? NaN : sign * Infinity;
    else table[h] = sign * 2 ** (exponent - 15) * (1 + mantissa / 1024);
  }
  return table;
})();

export const halfToFloat = (bits: number): number => HALF_TABLE[bits];
