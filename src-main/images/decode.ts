import sharp, { type Metadata, type Sharp } from 'sharp';
import { ArgusError } from '../contract/errors.ts';
import { bmpSize, decodeBmp, isBmp } from './bmp.ts';

/** Images above this many pixels are refused before decoding (decompression bombs). */
export const MAX_IMAGE_PIXELS = 100_000_000;

sharp.cache(false);

export interface ImageInfo {
  format: string;
  width: number;
  height: number;
  channels: number;
  bitDepth: number;
}

const bitDepthOf = (depth: string | undefined): number =>
  depth === 'ushort' || depth === 'short' ? 16 : depth === 'float' || depth === 'uint' || depth === 'int' ? 32 : 8;

/** A sharp pipeline over any supported image file, with explicit pixel limits and strict decoding. */
export function openImage(bytes: Uint8Array, maxPixels = MAX_IMAGE_PIXELS): Sharp {
  if (bytes.length === 0) throw new ArgusError('bad_input', 'The file is empty', { key: 'fileEmpty' });
  if (isBmp(bytes)) {
    const raw = decodeBmp(bytes, maxPixels);
    return sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels } });
  }
  return sharp(bytes, { failOn: 'truncated', limitInputPixels: maxPixels, sequentialRead: true });
}

/** Header-only facts about an image file (no pixel decoding). */
export async function readImageInfo(bytes: Uint8Array, maxPixels = MAX_IMAGE_PIXELS): Promise<ImageInfo> {
  if (bytes.length === 0) throw new ArgusError('bad_input', 'The file is empty', { key: 'fileEmpty' });
  if (isBmp(bytes)) {
    const { width, height } = bmpSize(bytes);
    if (width * height > maxPixels) throw overLimit(width, height, maxPixels);
    return { format: 'bmp', width, height, channels: 3, bitDepth: 8 };
  }
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw describeDecodeError(error);
  }
  if (!meta.width || !meta.height || !meta.format) throw new ArgusError('bad_input', 'Not a readable image', { key: 'imageUnsupported' });
  if (meta.width * meta.height > maxPixels) throw overLimit(meta.width, meta.height, maxPixels);
  return {
    format: meta.format,
    width: meta.width,
    height: meta.height,
    channels: meta.channels ?? 3,
    bitDepth: bitDepthOf(meta.depth),
  };
}

const overLimit = (width: number, height: number, maxPixels: number): ArgusError =>
  new ArgusError('bad_input', `Image is ${width}×${height} = ${width * height} pixels, over the limit of ${maxPixels}`, { key: 'imageTooLarge', params: { width, height, limit: maxPixels } });

/**
 * A decoder failure as a user-facing error. When the header was read but the pixels were not,
 * the file is damaged whatever the decoder's message says (libvips' text can be lost when several
 * images decode at once).
 */
export function describeDecodeError(error: unknown, phase: 'header' | 'pixels' = 'header'): ArgusError {
  if (error instanceof ArgusError) return error;
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  if (/pixel limit/i.test(message)) return new ArgusError('bad_input', 'Image is over the pixel limit', { key: 'imageOverLimit' });
  if (phase === 'pixels' || /premature end|truncated|unexpected end|read error|corrupt|not enough data/i.test(message)) {
    return new ArgusError('bad_input', `The image is truncated or corrupt (${message})`, { key: 'imageCorrupt' });
  }
  if (/unsupported image format/i.test(message)) return new ArgusError('bad_input', 'Not an image file, or an unsupported format', { key: 'imageUnsupported' });
  return new ArgusError('bad_input', `The image cannot be decoded (${message})`, { key: 'imageUnsupported' });
}

export const THUMBNAIL_SIZE = 256;

/**
 * Decodes the whole image (so a truncated or corrupt file is caught here, not later) and
 * returns its facts plus a JPEG thumbnail for the UI.
 */
export async function decodeForImport(bytes: Uint8Array): Promise<{ info: ImageInfo; thumbnail: Buffer }> {
  const info = await readImageInfo(bytes);
  try {
    const thumbnail = await openImage(bytes)
      .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .flatten({ background: '#ffffff' })
      .jpeg({ quality: 80 })
      .toBuffer();
    return { info, thumbnail };
  } catch (error) {
    throw describeDecodeError(error, 'pixels');
  }
}

/** An 8-bit single-channel label mask (0 = background, k = class index). */
export async function decodeLabelMask(bytes: Uint8Array): Promise<{ data: Buffer; width: number; height: number }> {
  try {
    const { data, info } = await openImage(bytes).extractChannel(0).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  } catch (error) {
    throw describeDecodeError(error, 'pixels');
  }
}
