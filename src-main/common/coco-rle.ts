import { decodeRuns, encodeRuns } from './geometry.ts';

/**
 * COCO run-length masks: runs over the image in column-major order (down each column, column
 * after column), alternating 0 and 1 and starting with a (possibly empty) run of 0. `counts` is a
 * list of numbers (uncompressed, as Argus writes it) or the compact string form that pycocotools
 * and most labelling tools write.
 */
export interface CocoRle {
  size: [height: number, width: number];
  counts: number[] | string;
}

/** The uncompressed RLE of a row-major mask (pixels ≠ 0 are set). */
export function encodeCocoRle(mask: Uint8Array, width: number, height: number): CocoRle {
  const columnMajor = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) columnMajor[x * height + y] = mask[y * width + x];
  return { size: [height, width], counts: encodeRuns(columnMajor) };
}

/** Run lengths from the compact string form (6-bit groups offset by 48, each count after the second a delta). */
export function decompressCounts(text: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < text.length) {
    let value = 0;
    let shift = 0;
    let more = true;
    let chunk = 0;
    while (more) {
      if (p >= text.length) throw new Error('RLE string ends inside a number');
      chunk = text.charCodeAt(p++) - 48;
      if (chunk < 0 || chunk > 63) throw new Error('RLE string has a character outside its alphabet');
      value |= (chunk & 0x1f) << shift;
      more = (chunk & 0x20) !== 0;
      shift += 5;
    }
    if (chunk & 0x10) value |= -1 << shift;
    if (counts.length > 2) value += counts[counts.length - 2];
    counts.push(value);
  }
  return counts;
}

/** The compact string form of run lengths (what decompressCounts reads). */
export function compressCounts(counts: number[]): string {
  let text = '';
  counts.forEach((count, i) => {
    let value = i > 2 ? count - counts[i - 2] : count;
    let more = true;
    while (more) {
      let chunk = value & 0x1f;
      value >>= 5;
      more = chunk & 0x10 ? value !== -1 : value !== 0;
      if (more) chunk |= 0x20;
      text += String.fromCharCode(chunk + 48);
    }
  });
  return text;
}

/** The row-major mask (1 where set) of an RLE; throws when it does not cover its size exactly. */
export function decodeCocoRle(rle: CocoRle): { mask: Uint8Array; width: number; height: number } {
  const [height, width] = rle.size;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) throw new Error('RLE size must be [height, width]');
  const columnMajor = decodeRuns(typeof rle.counts === 'string' ? decompressCounts(rle.counts) : rle.counts, width * height);
  const mask = new Uint8Array(width * height);
  for (let x = 0; x < width; x++) for (let y = 0; y < height; y++) mask[y * width + x] = columnMajor[x * height + y];
  return { mask, width, height };
}
