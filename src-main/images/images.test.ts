import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { bmpOf, jpegOf, pngBomb, pngOf, texture } from '../../test-support/fixtures.ts';
import { decodeBmp } from './bmp.ts';
import { colourStats, matchColour } from './colour-stats.ts';
import { decodeForImport, readImageInfo } from './decode.ts';
import { NO_JITTER, renderCrop, resizeAsTrained } from './augment.ts';
import { cropRgb, decodeRgb, resizeRgb } from './preprocess.ts';
import { planTiles, stitchTiles } from './tiling.ts';

describe('image decoding', () => {
  it('decodes BMP pixels exactly', async () => {
    const raw = texture(13, 7, 1); // odd width: rows are padded to 4 bytes
    const decoded = decodeBmp(bmpOf(raw, 13, 7), 1e6);
    expect(decoded).toMatchObject({ width: 13, height: 7, channels: 3 });
    expect(Buffer.compare(decoded.data, raw)).toBe(0);
    const viaPipeline = await decodeRgb(bmpOf(raw, 13, 7));
    expect(Buffer.compare(Buffer.from(viaPipeline.data), raw)).toBe(0);
  });

  it('turns 16-bit, grayscale, CMYK and alpha images into 8-bit RGB', async () => {
    const raw = texture(16, 8, 2);
    const rgb16 = await sharp(raw, { raw: { width: 16, height: 8, channels: 3 } }).toColourspace('rgb16').png().toBuffer();
    const gray = await pngOf(Buffer.from(raw.filter((_, i) => i % 3 === 0)), 16, 8, 1);
    const cmyk = await sharp(raw, { raw: { width: 16, height: 8, channels: 3 } }).toColourspace('cmyk').jpeg().toBuffer();
    const rgba = await sharp(raw, { raw: { width: 16, height: 8, channels: 3 } }).ensureAlpha().png().toBuffer();
    expect(await readImageInfo(rgb16)).toMatchObject({ bitDepth: 16, channels: 3 });
    expect(await readImageInfo(cmyk)).toMatchObject({ channels: 4 });
    for (const file of [rgb16, gray, cmyk, rgba]) {
      const out = await decodeRgb(file);
      expect(out.data.length).toBe(16 * 8 * 3);
    }
    const from16 = await decodeRgb(rgb16);
    expect(Math.max(...from16.data.map((v, i) => Math.abs(v - raw[i])))).toBeLessThanOrEqual(1);
    const fromGray = await decodeRgb(gray);
    expect(fromGray.data[0]).toBe(fromGray.data[1]);
  });

  it('refuses empty, truncated, non-image and oversized files with a clear message', async () => {
    const jpeg = await jpegOf(texture(64, 64, 3), 64, 64);
    await expect(decodeForImport(Buffer.alloc(0))).rejects.toThrow('The file is empty');
    await expect(decodeForImport(jpeg.subarray(0, jpeg.length / 2))).rejects.toThrow(/truncated or corrupt/);
    await expect(decodeForImport(Buffer.from('%PDF-1.7 not an image'))).rejects.toThrow(/Not an image file/);
    await expect(readImageInfo(pngBomb(50_000, 50_000))).rejects.toThrow('Image is 50000×50000 = 2500000000 pixels, over the limit of 100000000');
    await expect(decodeRgb(pngBomb(50_000, 50_000))).rejects.toThrow(/over the limit of 100000000/);
  });

  it('crops with edge replication outside the image', () => {
    const image = { data: Uint8Array.from([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]), width: 2, height: 2 };
    const crop = cropRgb(image, -1, 0, 3, 1);
    expect([...crop.data]).toEqual([1, 1, 1, 1, 1, 1, 2, 2, 2]);
  });
});

describe('network input at inspection', () => {
  it('is resized exactly as the training crops were, up and down', async () => {
    // A fine texture, where the kernel matters: a bilinear resize at inspection would feed a
    // fine-tuned network softer pixels than it learnt from.
    const file = await pngOf(texture(50, 40, 3), 50, 40, 3);
    const image = await decodeRgb(file);
    for (const scale of [1.12, 0.7]) {
      const width = Math.round(50 * scale);
      const height = Math.round(40 * scale);
      const crop = new Uint8Array(width * height * 3);
      await renderCrop(file, image, { scale, x0: 0, y0: 0, ...NO_JITTER }, width, height, crop, 0);
      const maxDifference = (pixels: Uint8Array): number => pixels.reduce((m, v, i) => Math.max(m, Math.abs(v - crop[i])), 0);
      expect(maxDifference((await resizeAsTrained(image, width, height)).data)).toBe(0);
      expect(maxDifference((await resizeRgb(image, width, height, 'linear')).data)).toBeGreaterThan(0);
    }
  });
});

describe('colour matching', () => {
  it('removes a global colour cast and exposure change but keeps local contrast', () => {
    const raw = texture(64, 48, 9, { x: 30, y: 20, r: 5 });
    const reference = colourStats({ data: raw, width: 64, height: 48 });
    const cast = Uint8Array.from(raw, (v, i) => Math.min(255, Math.round(v * (i % 3 === 2 ? 0.7 : 0.9) + 25)));
    const matched = matchColour({ data: cast, width: 64, height: 48 }, reference);
    const stats = colourStats(matched);
    for (let c = 0; c < 3; c++) {
      expect(Math.abs(stats.mean[c] - reference.mean[c])).toBeLessThan(1);
      expect(Math.abs(stats.std[c] - reference.std[c])).toBeLessThan(1);
    }
    const at = (x: number, y: number): number => matched.data[(y * 64 + x) * 3];
    expect(at(30, 20)).toBeLessThan(at(5, 5) - 60); // the dark blemish is still dark
    let maxError = 0;
    for (let i = 0; i < raw.length; i++) maxError = Math.max(maxError, Math.abs(matched.data[i] - raw[i]));
    expect(maxError).toBeLessThanOrEqual(3);
  });
});

describe('tiling', () => {
  it('covers the image with overlapping tiles that end at the borders', () => {
    const tiles = planTiles(1130, 460, 256, 256, 32);
    const xs = [...new Set(tiles.map((t) => t.x))];
    const ys = [...new Set(tiles.map((t) => t.y))];
    expect(xs[0]).toBe(0);
    expect(xs.at(-1)! + 256).toBe(1130);
    expect(ys.at(-1)! + 256).toBe(460);
    for (let i = 1; i < xs.length; i++) expect(xs[i - 1] + 256 - xs[i]).toBeGreaterThanOrEqual(32);
    expect(planTiles(100, 80, 256, 256, 32)).toEqual([{ x: 0, y: 0, width: 256, height: 256 }]);
    const aligned = planTiles(2704, 904, 1152, 480, 64, 8);
    expect(aligned.every((t) => t.x % 8 === 0 && t.y % 8 === 0)).toBe(true);
    expect(Math.max(...aligned.map((t) => t.x + t.width))).toBe(2704);
  });

  it('stitches per-tile maps without seams', () => {
    const width = 300, height = 170, tile = 128, overlap = 24;
    const f = (x: number, y: number): number => Math.sin(x / 17) + y / 50;
    const tiles = planTiles(width, height, tile, tile, overlap);
    const maps = tiles.map((t) => Float32Array.from({ length: tile * tile }, (_, i) => f(t.x + (i % tile), t.y + Math.floor(i / tile))));
    const stitched = stitchTiles(maps, tiles, width, height, overlap);
    let maxError = 0;
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) maxError = Math.max(maxError, Math.abs(stitched[y * width + x] - f(x, y)));
    expect(maxError).toBeLessThan(1e-5);
  });
});
