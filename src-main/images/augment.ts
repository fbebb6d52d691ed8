import { openImage } from './decode.ts';
import { type ResizeKernel, resizeRgb, type RgbImage } from './preprocess.ts';

/** The kernel training crops are resized with (sharper than bilinear for fine texture). */
export const TRAINING_KERNEL: ResizeKernel = 'lanczos3';

/**
 * Decoded pixels resized as the training crops were: inspection of a fine-tuned model must feed
 * its network the sharpness it learnt from (a bilinear resize blurs fine cracks and pits).
 */
export const resizeAsTrained = (image: RgbImage, width: number, height: number): Promise<RgbImage> => resizeRgb(image, width, height, TRAINING_KERNEL);

/** Where a training crop lies in its image (resized by `scale`) and how it is jittered. */
export interface CropPlacement {
  scale: number;
  /** Top-left corner of the crop in the resized image (negative: the crop reaches past the image). */
  x0: number;
  y0: number;
  flipX: boolean;
  flipY: boolean;
  contrast: number;
  brightness: number;
}

/** A random scale around `base` (0.8–1.25×), flips, contrast 0.8–1.2 and brightness ±20. */
export function randomJitter(base: number, random: () => number): Omit<CropPlacement, 'x0' | 'y0'> {
  return {
    scale: base * Math.exp(Math.log(0.8) + random() * Math.log(1.25 / 0.8)),
    flipX: random() < 0.5, flipY: random() < 0.5, contrast: 0.8 + 0.4 * random(), brightness: (random() - 0.5) * 40,
  };
}

/** No jitter: the image at the base scale (validation crops). */
export const NO_JITTER = { flipX: false, flipY: false, contrast: 1, brightness: 0 } as const;

/** An image's size once resized by a scale. */
export function scaledSize(size: { width: number; height: number }, scale: number): { width: number; height: number } {
  return { width: Math.max(1, Math.round(size.width * scale)), height: Math.max(1, Math.round(size.height * scale)) };
}

/** The resized image's pixel (x, y) that crop pixel (x, y) shows (flips applied); may lie outside the image. */
export function sourceOf(crop: CropPlacement, x: number, y: number, cropWidth: number, cropHeight: number): { x: number; y: number } {
  return { x: crop.x0 + (crop.flipX ? cropWidth - 1 - x : x), y: crop.y0 + (crop.flipY ? cropHeight - 1 - y : y) };
}

/**
 * Renders a crop of an encoded image, resized by the placement's scale (Lanczos), flipped and
 * jittered, into `out` (uint8 RGB) at `offset`; pixels past the image are black.
 */
export async function renderCrop(bytes: Buffer, size: { width: number; height: number }, crop: CropPlacement, cropWidth: number, cropHeight: number, out: Uint8Array, offset: number): Promise<void> {
  const { width, height } = scaledSize(size, crop.scale);
  const scaled = await openImage(bytes).removeAlpha().toColourspace('srgb').resize(width, height, { fit: 'fill', kernel: TRAINING_KERNEL }).raw().toBuffer();
  for (let y = 0; y < cropHeight; y++) {
    for (let x = 0; x < cropWidth; x++) {
      const source = sourceOf(crop, x, y, cropWidth, cropHeight);
      const inside = source.x >= 0 && source.y >= 0 && source.x < width && source.y < height;
      const o = offset + (y * cropWidth + x) * 3;
      for (let c = 0; c < 3; c++) {
        const v = inside ? scaled[(source.y * width + source.x) * 3 + c] : 0;
        out[o + c] = Math.max(0, Math.min(255, Math.round((v - 128) * crop.contrast + 128 + crop.brightness)));
      }
    }
  }
}
