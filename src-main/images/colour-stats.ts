import type { RgbImage } from './preprocess.ts';

/** Per-channel mean and standard deviation of an RGB image. */
export interface ColourStats {
  mean: [number, number, number];
  std: [number, number, number];
}

export function colourStats(image: RgbImage): ColourStats {
  const sum = [0, 0, 0];
  const squares = [0, 0, 0];
  const n = image.width * image.height;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const v = image.data[i * 3 + c];
      sum[c] += v;
      squares[c] += v * v;
    }
  }
  const mean = sum.map((s) => s / n) as [number, number, number];
  const std = squares.map((s, c) => Math.sqrt(Math.max(s / n - mean[c] ** 2, 1e-6))) as [number, number, number];
  return { mean, std };
}

/**
 * Maps the image's per-channel mean and spread onto the reference's (x' = (x − m)/s · s_ref +
 * m_ref): a global colour cast or exposure change disappears, local contrast (a dark pit on a
 * bright surface) stays.
 */
export function matchColour(image: RgbImage, reference: ColourStats): RgbImage {
  const own = colourStats(image);
  const gain = own.std.map((s, c) => reference.std[c] / s);
  const offset = own.mean.map((m, c) => reference.mean[c] - m * gain[c]);
  const data = new Uint8Array(image.data.length);
  for (let i = 0; i < data.length; i++) {
    const c = i % 3;
    data[i] = Math.min(255, Math.max(0, Math.round(image.data[i] * gain[c] + offset[c])));
  }
  return { data, width: image.width, height: image.height };
}
