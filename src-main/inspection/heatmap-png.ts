import sharp from 'sharp';
import { normalizeScore } from '../analysis/thresholds.ts';

/**
 * The heatmap as a 16-bit grayscale PNG at the image's resolution: 0–65535 is the normalised
 * pixel score 0–1, where 0.5 (32768) is the pixel threshold and 0 the median of good pixels.
 */
export function heatmapPng(heatmap: Float32Array, width: number, height: number, threshold: number, goodMedian: number): Promise<Buffer> {
  const levels = new Uint16Array(width * height);
  for (let i = 0; i < levels.length; i++) levels[i] = Math.round(normalizeScore(heatmap[i], threshold, goodMedian) * 65535);
  // A Uint16Array input tells sharp the raw samples are 16-bit.
  return sharp(levels, { raw: { width, height, channels: 1 } })
    .toColourspace('grey16')
    .png({ compressionLevel: 6 })
    .toBuffer();
}
