// Synthetic inspection data sets for benchmarks: surfaces of several materials photographed at a
// fixed magnification (images of different sizes show different fields of view), with planted
// defects of several sizes and kinds, written in Argus's manifest layout.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

export type Material = 'grain' | 'brushed' | 'weave';

export interface SurfaceSetSpec {
  name: string;
  material: Material;
  /** Image sizes are drawn uniformly from these ranges (pixels). */
  width: [number, number];
  height: [number, number];
  grey: boolean;
  counts: { train: number; valGood: number; valDefect: number; testGood: number; testDefect: number };
  /** Defect size range (pixels, short side) at the camera's magnification. */
  defectSize: [number, number];
  seed: number;
}

type Random = () => number;

function randomFrom(seed: number): Random {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Smooth value noise: a random lattice every `cell` pixels, interpolated bilinearly. */
function valueNoise(width: number, height: number, cell: number, random: Random): Float32Array {
  const cols = Math.ceil(width / cell) + 2;
  const rows = Math.ceil(height / cell) + 2;
  const lattice = Float32Array.from({ length: cols * rows }, () => random() - 0.5);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const gy = y / cell;
    const y0 = Math.floor(gy);
    const fy = gy - y0;
    for (let x = 0; x < width; x++) {
      const gx = x / cell;
      const x0 = Math.floor(gx);
      const fx = gx - x0;
      const a = lattice[y0 * cols + x0] * (1 - fx) + lattice[y0 * cols + x0 + 1] * fx;
      const b = lattice[(y0 + 1) * cols + x0] * (1 - fx) + lattice[(y0 + 1) * cols + x0 + 1] * fx;
      out[y * width + x] = a * (1 - fy) + b * fy;
    }
  }
  return out;
}

function surface(material: Material, width: number, height: number, random: Random): Float32Array {
  const fine = valueNoise(width, height, 2, random);
  const out = new Float32Array(width * height);
  // A slow illumination change across the frame, different in every photo.
  const gx = (random() - 0.5) * 30 / width;
  const gy = (random() - 0.5) * 30 / height;
  const base = 120 + (random() - 0.5) * 20;
  if (material === 'grain') {
    const coarse = valueNoise(width, height, 7, random);
    for (let p = 0; p < out.length; p++) out[p] = base + 70 * coarse[p] + 30 * fine[p];
  } else if (material === 'brushed') {
    const rowsNoise = valueNoise(1, height, 1.5, random);
    const streak = valueNoise(width, height, 24, random);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = base + 60 * rowsNoise[y] + 25 * streak[y * width + x] + 20 * fine[y * width + x];
  } else {
    const phase = random() * 10;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) out[y * width + x] = base + 35 * Math.sin((x + phase) / 3) * Math.sin((y + phase) / 3) + 25 * fine[y * width + x];
    }
  }
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] += gx * (x - width / 2) + gy * (y - height / 2);
  return out;
}

/** Plants one defect (a dark or bright spot, or a thin scratch) and marks it in `mask`. */
function plantDefect(values: Float32Array, mask: Uint8Array, width: number, height: number, size: number, random: Random): [number, number, number, number] {
  const kind = random();
  const cx = size + random() * (width - 2 * size);
  const cy = size + random() * (height - 2 * size);
  const delta = (random() < 0.5 ? -1 : 1) * (35 + random() * 25);
  let box: [number, number, number, number] = [width, height, 0, 0];
  const mark = (x: number, y: number, weight: number): void => {
    const p = y * width + x;
    values[p] += delta * weight;
    if (weight > 0.5) {
      mask[p] = 1;
      box = [Math.min(box[0], x), Math.min(box[1], y), Math.max(box[2], x + 1), Math.max(box[3], y + 1)];
    }
  };
  if (kind < 0.6) {
    // An elliptical spot (pit, stain, inclusion) with a soft edge.
    const rx = size / 2;
    const ry = (size / 2) * (0.6 + random() * 0.8);
    for (let y = Math.max(0, Math.floor(cy - ry - 2)); y < Math.min(height, cy + ry + 2); y++) {
      for (let x = Math.max(0, Math.floor(cx - rx - 2)); x < Math.min(width, cx + rx + 2); x++) {
        const d = Math.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2);
        if (d < 1.3) mark(x, y, Math.min(1, Math.max(0, (1.3 - d) / 0.3)));
      }
    }
  } else {
    // A thin scratch, `size` × 4..8 long.
    const length = size * (4 + random() * 4);
    const angle = random() * Math.PI;
    const halfWidth = 1 + random();
    const [dx, dy] = [Math.cos(angle), Math.sin(angle)];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const along = (x - cx) * dx + (y - cy) * dy;
        const across = Math.abs(-(x - cx) * dy + (y - cy) * dx);
        if (Math.abs(along) <= length / 2 && across <= halfWidth + 1) mark(x, y, across <= halfWidth ? 1 : 0.4);
      }
    }
  }
  return box;
}

async function writeImage(path: string, values: Float32Array, width: number, height: number, grey: boolean, tint: [number, number, number]): Promise<void> {
  const channels = grey ? 1 : 3;
  const raw = Buffer.alloc(width * height * channels);
  for (let p = 0; p < values.length; p++) {
    for (let c = 0; c < channels; c++) raw[p * channels + c] = Math.max(0, Math.min(255, Math.round(values[p] * (grey ? 1 : tint[c]))));
  }
  const image = sharp(raw, { raw: { width, height, channels } });
  await (grey ? image.toColourspace('b-w') : image).png().toFile(path);
}

/** Writes one set under `root` (manifest.json, images/, masks/) and returns its folder. */
export async function writeSurfaceSet(root: string, spec: SurfaceSetSpec): Promise<string> {
  const folder = join(root, spec.name);
  mkdirSync(join(folder, 'images'), { recursive: true });
  mkdirSync(join(folder, 'masks'), { recursive: true });
  const random = randomFrom(spec.seed);
  const tint: [number, number, number] = [1, 0.93, 0.82];
  const plan: { split: string; defect: boolean }[] = [
    ...Array.from({ length: spec.counts.train }, () => ({ split: 'train', defect: false })),
    ...Array.from({ length: spec.counts.valGood }, () => ({ split: 'val', defect: false })),
    ...Array.from({ length: spec.counts.valDefect }, () => ({ split: 'val', defect: true })),
    ...Array.from({ length: spec.counts.testGood }, () => ({ split: 'test', defect: false })),
    ...Array.from({ length: spec.counts.testDefect }, () => ({ split: 'test', defect: true })),
  ];
  const samples = [];
  for (const [i, item] of plan.entries()) {
    const width = Math.round(spec.width[0] + random() * (spec.width[1] - spec.width[0]));
    const height = Math.round(spec.height[0] + random() * (spec.height[1] - spec.height[0]));
    const values = surface(spec.material, width, height, random);
    const file = `images/${String(i).padStart(4, '0')}.png`;
    const entry: Record<string, unknown> = { file, split: item.split, label: item.defect ? 'defect' : 'good', width, height, boxes: [] };
    if (item.defect) {
      const mask = new Uint8Array(width * height);
      const size = spec.defectSize[0] + random() * (spec.defectSize[1] - spec.defectSize[0]);
      const box = plantDefect(values, mask, width, height, size, random);
      const maskFile = `masks/${String(i).padStart(4, '0')}.png`;
      await sharp(Buffer.from(mask), { raw: { width, height, channels: 1 } }).png().toFile(join(folder, maskFile));
      Object.assign(entry, { mask: maskFile, boxes: [[...box, 1]] });
    }
    await writeImage(join(folder, file), values, width, height, spec.grey, tint);
    samples.push(entry);
  }
  writeFileSync(join(folder, 'manifest.json'), JSON.stringify({ name: spec.name, classes: { 1: 'defect' }, samples }, null, 1));
  return folder;
}
