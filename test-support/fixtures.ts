// Test fixtures: small real images and datasets written to temporary folders.
import { createServer } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import sharp from 'sharp';

export const SHARED_DIR = resolve(import.meta.dirname, '../../shared');
export const SHARED_WEIGHTS = join(SHARED_DIR, 'models/resnet50-imagenet.safetensors');
/** The shared models and datasets are beside every checkout in CI; only a bare dev clone lacks them. */
export const hasShared = existsSync(SHARED_WEIGHTS);

export function tempDir(prefix = 'argus-test-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** A textured 8-bit RGB image (deterministic from the seed), optionally with a dark blemish. */
export function texture(width: number, height: number, seed: number, blemish?: { x: number; y: number; r: number }): Buffer {
  const data = Buffer.alloc(width * height * 3);
  let s = seed >>> 0;
  const random = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const stripe = 150 + 40 * Math.sin((x + y) / 6);
      const inBlemish = blemish && (x - blemish.x) ** 2 + (y - blemish.y) ** 2 <= blemish.r ** 2;
      const v = inBlemish ? 30 : stripe + (random() - 0.5) * 20;
      const o = (y * width + x) * 3;
      data[o] = v; data[o + 1] = v * 0.95; data[o + 2] = v * 0.85;
    }
  }
  return data;
}

/**
 * The texture as a second station sees it: bright specks on a fixed grid (a lubricant, another
 * lamp) that the first station's parts never show.
 */
export function speckledTexture(width: number, height: number, seed: number, blemish?: { x: number; y: number; r: number }): Buffer {
  const data = texture(width, height, seed, blemish);
  for (let y = 6; y < height - 3; y += 18) {
    for (let x = 5; x < width - 3; x += 16) {
      if (blemish && (x - blemish.x) ** 2 + (y - blemish.y) ** 2 <= (blemish.r + 4) ** 2) continue;
      for (let dy = 0; dy < 3; dy++) data.fill(255, ((y + dy) * width + x) * 3, ((y + dy) * width + x + 3) * 3);
    }
  }
  return data;
}

export async function pngOf(raw: Buffer, width: number, height: number, channels: 1 | 3 = 3): Promise<Buffer> {
  const image = sharp(raw, { raw: { width, height, channels } });
  return (channels === 1 ? image.toColourspace('b-w') : image).png().toBuffer();
}

export async function jpegOf(raw: Buffer, width: number, height: number): Promise<Buffer> {
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 92 }).toBuffer();
}

/** A 24-bit bottom-up BMP, as frame grabbers write it. */
export function bmpOf(raw: Buffer, width: number, height: number): Buffer {
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const out = Buffer.alloc(54 + rowBytes * height);
  out.write('BM', 0);
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  for (let y = 0; y < height; y++) {
    const row = 54 + (height - 1 - y) * rowBytes;
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 3;
      out[row + x * 3] = raw[s + 2];
      out[row + x * 3 + 1] = raw[s + 1];
      out[row + x * 3 + 2] = raw[s];
    }
  }
  return out;
}

export function writeFile(path: string, bytes: Buffer | string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

/** A label mask: 0 background, `value` inside the circle. */
export async function maskOf(width: number, height: number, circle: { x: number; y: number; r: number }, value = 1): Promise<Buffer> {
  const data = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if ((x - circle.x) ** 2 + (y - circle.y) ** 2 <= circle.r ** 2) data[y * width + x] = value;
  return pngOf(data, width, height, 1);
}

/**
 * An Argus manifest dataset: `good` defect-free and `defect` blemished images (PNG), with masks
 * and boxes for the defects, splits assigned round-robin.
 */
export async function writeManifestDataset(root: string, good: number, defect: number, size = { width: 96, height: 64 }): Promise<void> {
  const { width, height } = size;
  const splits = ['train', 'val', 'test'] as const;
  const samples: unknown[] = [];
  for (let i = 0; i < good; i++) {
    writeFile(join(root, `good/g${i}.png`), await pngOf(texture(width, height, 100 + i), width, height));
    samples.push({ file: `good/g${i}.png`, split: splits[i % 3], label: 'good', group: `station-${1 + (i % 2)}`, classes: [], boxes: [] });
  }
  for (let i = 0; i < defect; i++) {
    const c = { x: 20 + ((i * 13) % (width - 40)), y: 20 + ((i * 7) % (height - 40)), r: 6 };
    writeFile(join(root, `images/d${i}.png`), await pngOf(texture(width, height, 500 + i, c), width, height));
    writeFile(join(root, `masks/d${i}.png`), await maskOf(width, height, c));
    samples.push({
      file: `images/d${i}.png`, split: splits[i % 3], label: 'defect', group: `station-${1 + (i % 2)}`, classes: ['scratch'],
      boxes: [[c.x - c.r, c.y - c.r, c.x + c.r + 1, c.y + c.r + 1, 1]], mask: `masks/d${i}.png`,
    });
  }
  writeFile(join(root, 'manifest.json'), JSON.stringify({ name: 'line-test', classes: { 1: 'scratch' }, samples }, null, 1));
}

export const BLEMISH_IMAGE = { width: 96, height: 64 };

/**
 * A small segmentation set of 96×64 striped parts; defective ones carry a dark blemish with its
 * mask (class "blemish"). Train: 4 good + 8 defective; val: 2 good + 4 defective. Every image
 * but the last names its camera (group "cam-a" or "cam-b", alternating).
 */
export async function writeBlemishDataset(root: string): Promise<void> {
  const { width: W, height: H } = BLEMISH_IMAGE;
  const samples: unknown[] = [];
  const add = async (file: string, split: string, seed: number, blemish?: { x: number; y: number; r: number }) => {
    writeFile(join(root, file), await pngOf(texture(W, H, seed, blemish), W, H));
    if (blemish) writeFile(join(root, `masks/${file}`), await maskOf(W, H, blemish));
    samples.push({ file, split, label: blemish ? 'defect' : 'good', group: samples.length % 2 ? 'cam-b' : 'cam-a', ...(blemish ? { mask: `masks/${file}` } : {}) });
  };
  for (let i = 0; i < 4; i++) await add(`train/g${i}.png`, 'train', i);
  for (let i = 0; i < 8; i++) await add(`train/d${i}.png`, 'train', 50 + i, { x: 16 + ((i * 23) % 64), y: 14 + ((i * 11) % 36), r: 5 + (i % 3) });
  for (let i = 0; i < 2; i++) await add(`val/g${i}.png`, 'val', 100 + i);
  for (let i = 0; i < 4; i++) await add(`val/d${i}.png`, 'val', 200 + i, { x: 24 + 16 * i, y: 20 + 6 * i, r: 6 });
  delete (samples[samples.length - 1] as { group?: string }).group;
  writeFile(join(root, 'manifest.json'), JSON.stringify({ name: 'blemish', classes: { 1: 'blemish' }, samples }));
}

/** A textured image with dark circular blemishes (drawn over `texture`). */
export function blemishes(width: number, height: number, seed: number, circles: { x: number; y: number; r: number }[]): Buffer {
  const data = texture(width, height, seed);
  for (const c of circles) {
    for (let y = Math.max(0, c.y - c.r); y <= Math.min(height - 1, c.y + c.r); y++) {
      for (let x = Math.max(0, c.x - c.r); x <= Math.min(width - 1, c.x + c.r); x++) {
        if ((x - c.x) ** 2 + (y - c.y) ** 2 > c.r ** 2) continue;
        const o = (y * width + x) * 3;
        data[o] = 30; data[o + 1] = 28; data[o + 2] = 25;
      }
    }
  }
  return data;
}

/** Two blemishes side by side whose outlines touch (centres one diameter apart). */
export function touchingPair(x: number, y: number, r: number): { x: number; y: number; r: number }[] {
  return [{ x, y, r }, { x: x + 2 * r, y, r }];
}

export const DETECT_IMAGE = { width: 128, height: 96 };

/**
 * A small detection set of 128×96 striped parts with round dark blemishes labelled as boxes
 * (class "blemish"); every other defective image has two blemishes whose outlines touch.
 * Train: 4 good + 16 defective; val: 2 good + 6 defective.
 */
export async function writeDetectionDataset(root: string): Promise<void> {
  const { width: W, height: H } = DETECT_IMAGE;
  const samples: unknown[] = [];
  const add = async (file: string, split: string, seed: number, circles: { x: number; y: number; r: number }[]) => {
    writeFile(join(root, file), await pngOf(blemishes(W, H, seed, circles), W, H));
    samples.push({
      file, split, label: circles.length ? 'defect' : 'good', classes: circles.length ? ['blemish'] : [],
      boxes: circles.map((c) => [c.x - c.r, c.y - c.r, c.x + c.r + 1, c.y + c.r + 1, 1]),
    });
  };
  const circlesFor = (i: number): { x: number; y: number; r: number }[] => {
    const r = 6 + (i % 4);
    const x = 14 + ((i * 29) % (W - 28 - 4 * r));
    const y = 14 + ((i * 17) % (H - 28));
    return i % 2 ? touchingPair(x, y, r) : [{ x: x + r, y, r }];
  };
  for (let i = 0; i < 4; i++) await add(`train/g${i}.png`, 'train', i, []);
  for (let i = 0; i < 16; i++) await add(`train/d${i}.png`, 'train', 50 + i, circlesFor(i));
  for (let i = 0; i < 2; i++) await add(`val/g${i}.png`, 'val', 100 + i, []);
  for (let i = 0; i < 6; i++) await add(`val/d${i}.png`, 'val', 200 + i, circlesFor(i + 21));
  writeFile(join(root, 'manifest.json'), JSON.stringify({ name: 'blemish-boxes', classes: { 1: 'blemish' }, samples }));
}

/** A PNG whose header claims width×height (with a valid CRC) but carries almost no data. */
export function pngBomb(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer): number => {
    let c = 0xffffffff;
    for (const byte of b) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 2;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])), chunk('IEND', Buffer.alloc(0))]);
}


/**
 * Good parts only, as an anomaly model learns them: `train` images in the train split and `val`
 * in the val split (seeds 0…), with a manifest named `name`.
 */
export async function writeGoodParts(root: string, options: { name: string; width: number; height: number; train: number; val: number }): Promise<void> {
  const { width, height } = options;
  const samples: unknown[] = [];
  for (let i = 0; i < options.train + options.val; i++) {
    const split = i < options.train ? 'train' : 'val';
    const file = `${split}/g${i}.png`;
    writeFile(join(root, file), await pngOf(texture(width, height, i < options.train ? i : 50 + i), width, height));
    samples.push({ file, split, label: 'good' });
  }
  writeFile(join(root, 'manifest.json'), JSON.stringify({ name: options.name, classes: { 1: 'dent' }, samples }));
}

/** A free TCP port on loopback (for servers a test starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
