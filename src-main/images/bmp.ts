import { ArgusError } from '../contract/errors.ts';

export interface RawPixels {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

export const isBmp = (bytes: Uint8Array): boolean => bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d;

/** Reads only the BMP header: width and height, without decoding pixels. */
export function bmpSize(bytes: Uint8Array): { width: number; height: number } {
  if (bytes.length < 26) throw new ArgusError('bad_input', 'BMP file is truncated (no header)', { key: 'imageCorrupt' });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerSize = view.getUint32(14, true);
  if (headerSize === 12) return { width: view.getUint16(18, true), height: view.getUint16(20, true) };
  return { width: view.getInt32(18, true), height: Math.abs(view.getInt32(22, true)) };
}

/**
 * Decodes uncompressed Windows bitmaps (1/4/8-bit palette, 24-bit, 32-bit BI_RGB or
 * BI_BITFIELDS), the forms industrial cameras and frame grabbers write. libvips has no BMP
 * loader in sharp's prebuilt binaries, hence this.
 */
export function decodeBmp(bytes: Uint8Array, maxPixels: number): RawPixels {
  if (!isBmp(bytes) || bytes.length < 54) throw new ArgusError('bad_input', 'Not a BMP file or truncated header', { key: 'imageCorrupt' });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pixelOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  if (headerSize < 40) throw new ArgusError('unsupported', 'OS/2 bitmaps are not supported', { key: 'imageUnsupported' });
  const width = view.getInt32(18, true);
  const rawHeight = view.getInt32(22, true);
  const bitsPerPixel = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  const height = Math.abs(rawHeight);
  const topDown = rawHeight < 0;
  if (width <= 0 || height <= 0) throw new ArgusError('bad_input', `BMP has invalid size ${width}×${rawHeight}`, { key: 'imageCorrupt' });
  if (width * height > maxPixels) {
    throw new ArgusError('bad_input', `Image is ${width}×${height} = ${width * height} pixels, over the limit of ${maxPixels}`, { key: 'imageTooLarge', params: { width, height, limit: maxPixels } });
  }
  if (compression !== 0 && !(compression === 3 && (bitsPerPixel === 32 || bitsPerPixel === 16))) {
    throw new ArgusError('unsupported', `Compressed BMP (compression ${compression}) is not supported`, { key: 'imageUnsupported' });
  }
  const rowBytes = Math.ceil((width * bitsPerPixel) / 32) * 4;
  if (pixelOffset + rowBytes * height > bytes.length) throw new ArgusError('bad_input', 'BMP pixel data is truncated', { key: 'imageCorrupt' });

  let palette: Uint8Array | null = null;
  if (bitsPerPixel <= 8) {
    const colours = view.getUint32(46, true) || 1 << bitsPerPixel;
    palette = bytes.subarray(14 + headerSize, 14 + headerSize + colours * 4);
  }
  const masks = compression === 3
    ? [view.getUint32(54, true), view.getUint32(58, true), view.getUint32(62, true)]
    : bitsPerPixel === 16 ? [0x7c00, 0x03e0, 0x001f] : [0xff0000, 0x00ff00, 0x0000ff];
  const channelFromMask = (value: number, mask: number): number => {
    if (mask === 0) return 0;
    const shift = Math.clz32(mask & -mask) ^ 31;
    const max = mask >>> shift;
    return Math.round((((value & mask) >>> shift) * 255) / max);
  };

  const out = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    const srcRow = pixelOffset + (topDown ? y : height - 1 - y) * rowBytes;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      let r: number, g: number, b: number;
      if (palette) {
        const bitOffset = x * bitsPerPixel;
        const byte = bytes[srcRow + (bitOffset >> 3)];
        const index = (byte >> (8 - bitsPerPixel - (bitOffset & 7))) & ((1 << bitsPerPixel) - 1);
        b = palette[index * 4]; g = palette[index * 4 + 1]; r = palette[index * 4 + 2];
      } else if (bitsPerPixel === 24) {
        const p = srcRow + x * 3;
        b = bytes[p]; g = bytes[p + 1]; r = bytes[p + 2];
      } else {
        const value = bitsPerPixel === 32 ? view.getUint32(srcRow + x * 4, true) : view.getUint16(srcRow + x * 2, true);
        r = channelFromMask(value, masks[0]); g = channelFromMask(value, masks[1]); b = channelFromMask(value, masks[2]);
      }
      out[o] = r; out[o + 1] = g; out[o + 2] = b;
    }
  }
  return { data: out, width, height, channels: 3 };
}
