import sharp, { type Sharp } from 'sharp';
import { describeDecodeError, MAX_IMAGE_PIXELS, openImage, readImageInfo } from './decode.ts';

/** 8-bit RGB pixels, row-major, interleaved (HWC): what the network's 'pixels' input takes. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Any supported file (8/16-bit, grayscale, CMYK, alpha) → 8-bit sRGB RGB, optionally resized. */
async function toRgb(pipeline: Sharp, bytes?: Uint8Array): Promise<RgbImage> {
  try {
    const { data, info } = await pipeline
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  } catch (error) {
    // Distinguish a file that is no image at all from one whose pixels are damaged.
    if (bytes) await readImageInfo(bytes);
    throw describeDecodeError(error, bytes ? 'pixels' : 'header');
  }
}

export function decodeRgb(bytes: Uint8Array, maxPixels = MAX_IMAGE_PIXELS): Promise<RgbImage> {
  return toRgb(openImage(bytes, maxPixels), bytes);
}

/** ImageNet evaluation crop: shorter side to `resize`, centre crop `crop`×`crop`. */
export async function decodeCenterCrop(bytes: Uint8Array, resize: number, crop: number): Promise<RgbImage> {
  const full = await decodeRgb(bytes);
  const scale = resize / Math.min(full.width, full.height);
  const width = Math.round(full.width * scale);
  const height = Math.round(full.height * scale);
  const resized = await toRgb(
    sharp(full.data, { raw: { width: full.width, height: full.height, channels: 3 } }).resize(width, height, { kernel: 'linear' }),
  );
  return cropRgb(resized, Math.floor((width - crop) / 2), Math.floor((height - crop) / 2), crop, crop);
}

/**
 * Copies a width×height window starting at (x, y). Parts outside the image repeat its edge
 * pixels, so a tile at the border never sees artificial black.
 */
export function cropRgb(image: RgbImage, x: number, y: number, width: number, height: number): RgbImage {
  const out = new Uint8Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    const sy = Math.min(image.height - 1, Math.max(0, y + row));
    for (let col = 0; col < width; col++) {
      const sx = Math.min(image.width - 1, Math.max(0, x + col));
      const s = (sy * image.width + sx) * 3;
      const d = (row * width + col) * 3;
      out[d] = image.data[s];
      out[d + 1] = image.data[s + 1];
      out[d + 2] = image.data[s + 2];
    }
  }
  return { data: out, width, height };
}

/** The resampling kernels Argus resizes with. */
export type ResizeKernel = 'linear' | 'lanczos3';

/** How a kernel is called where people read it (the export sidecar). */
export const KERNEL_NAMES: Record<ResizeKernel, string> = { linear: 'bilinear', lanczos3: 'Lanczos-3' };

/** Resizes decoded pixels (bilinear unless told), e.g. to the network input. */
export async function resizeRgb(image: RgbImage, width: number, height: number, kernel: ResizeKernel = 'linear'): Promise<RgbImage> {
  if (image.width === width && image.height === height) return image;
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}
