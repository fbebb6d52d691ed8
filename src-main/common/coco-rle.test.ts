import { describe, expect, it } from 'vitest';
import { compressCounts, decodeCocoRle, decompressCounts, encodeCocoRle } from './coco-rle.ts';

describe('COCO RLE', () => {
  it('runs down columns, starting with zeros', () => {
    // 2 rows × 3 columns; set: (x=0,y=1), (x=1,y=0), (x=1,y=1).
    const mask = Uint8Array.of(0, 1, 0, 1, 1, 0);
    const rle = encodeCocoRle(mask, 3, 2);
    expect(rle).toEqual({ size: [2, 3], counts: [1, 3, 2] });
    expect(decodeCocoRle(rle)).toEqual({ mask: Uint8Array.of(0, 1, 0, 1, 1, 0), width: 3, height: 2 });
    expect(encodeCocoRle(Uint8Array.of(1, 1), 2, 1).counts).toEqual([0, 2]);
  });

  it('reads and writes the compact string form, deltas and negative chunks included', () => {
    expect(compressCounts([6])).toBe('6');
    expect(decompressCounts('6')).toEqual([6]);
    const counts = [0, 5, 1000, 3, 70000, 2, 1, 123456, 0];
    expect(decompressCounts(compressCounts(counts))).toEqual(counts);
    expect(() => decompressCounts('\u0020')).toThrow(/alphabet/);
  });

  it('round-trips random masks exactly through both forms', () => {
    let state = 5;
    const random = (): number => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let trial = 0; trial < 20; trial++) {
      const width = 1 + Math.floor(random() * 40);
      const height = 1 + Math.floor(random() * 30);
      const density = random();
      const mask = Uint8Array.from({ length: width * height }, () => (random() < density ? 1 : 0));
      const rle = encodeCocoRle(mask, width, height);
      expect(decodeCocoRle(rle).mask).toEqual(mask);
      expect(decodeCocoRle({ size: rle.size, counts: compressCounts(rle.counts as number[]) }).mask).toEqual(mask);
    }
  });

  it('refuses runs that do not cover the mask', () => {
    expect(() => decodeCocoRle({ size: [2, 2], counts: [1, 2] })).toThrow(/cover 3 pixels, the image has 4/);
    expect(() => decodeCocoRle({ size: [2, 2], counts: [3, 2] })).toThrow(/do not fit/);
    expect(() => decodeCocoRle({ size: [0, 2], counts: [] })).toThrow(/size/);
  });
});
