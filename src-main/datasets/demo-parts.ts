import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { seededRandom } from '../model/init.ts';

/** The demo's machined parts: 320×240 grey photographs of a brushed face with a bore. */
export const DEMO_PART = { width: 320, height: 240 };

type Defect = { kind: 'scratch'; x: number; y: number; angle: number; length: number } | { kind: 'pit'; x: number; y: number; rx: number; ry: number };

/**
 * One part photograph (grey, as raw pixels) and, with a defect, its mask: a brushed face whose
 * streaks, exposure and bore position vary from part to part as on a line, and a scratch (a thin
 * bright line) or a pit (a dark dent).
 */
export function demoPart(seed: number, defect?: Defect): { pixels: Buffer; mask: Buffer | null } {
  const { width, height } = DEMO_PART;
  const next = seededRandom(seed);
  const rowStreak = Float32Array.from({ length: height }, () => (next() - 0.5) * 18);
  const exposure = 0.93 + next() * 0.14;
  const bore = { x: width / 2 + (next() - 0.5) * 8, y: height / 2 + (next() - 0.5) * 8, r: 42 };
  const pixels = Buffer.alloc(width * height);
  const mask = defect ? Buffer.alloc(width * height) : null;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const fromBore = Math.hypot(x - bore.x, y - bore.y);
      let v = 140 + rowStreak[y] + 10 * Math.sin(x / 23 + y / 61) + (next() - 0.5) * 14;
      if (fromBore < bore.r) v = 55 + (next() - 0.5) * 8;
      else if (fromBore < bore.r + 4) v = 205;
      let inDefect = false;
      if (defect?.kind === 'pit') inDefect = ((x - defect.x) / defect.rx) ** 2 + ((y - defect.y) / defect.ry) ** 2 <= 1;
      if (defect?.kind === 'scratch') {
        const along = (x - defect.x) * Math.cos(defect.angle) + (y - defect.y) * Math.sin(defect.angle);
        const across = -(x - defect.x) * Math.sin(defect.angle) + (y - defect.y) * Math.cos(defect.angle);
        inDefect = Math.abs(along) <= defect.length / 2 && Math.abs(across) <= 1.2;
      }
      if (inDefect) {
        v = defect!.kind === 'pit' ? 45 : 235;
        // Mask values are class indices: 1 scratch, 2 pit.
        mask![y * width + x] = defect!.kind === 'scratch' ? 1 : 2;
      }
      pixels[y * width + x] = Math.max(0, Math.min(255, Math.round(v * exposure)));
    }
  }
  return { pixels, mask };
}

/** A defect away from the bore, drawn from `seed`. */
function demoDefect(seed: number): Defect {
  const next = seededRandom(seed * 7919 + 1);
  const { width, height } = DEMO_PART;
  const corner = Math.floor(next() * 4);
  const x = corner % 2 === 0 ? 30 + next() * 70 : width - 100 + next() * 70;
  const y = corner < 2 ? 30 + next() * 45 : height - 75 + next() * 45;
  return next() < 0.5
    ? { kind: 'scratch', x, y, angle: next() * Math.PI, length: 30 + next() * 40 }
    : { kind: 'pit', x, y, rx: 4 + next() * 4, ry: 4 + next() * 4 };
}

const png = (raw: Buffer): Promise<Buffer> => sharp(raw, { raw: { width: DEMO_PART.width, height: DEMO_PART.height, channels: 1 } }).png().toBuffer();

/**
 * Writes the demo set: `dataset/` in the manifest layout (good train parts; val and test parts,
 * half of them scratched or pitted, with masks) and `line/`, unlabelled parts as a camera would
 * deliver them (every third one defective).
 */
export async function writeDemoParts(root: string): Promise<{ dataset: string; line: string }> {
  const dataset = join(root, 'dataset');
  const line = join(root, 'line');
  for (const dir of ['images', 'masks']) mkdirSync(join(dataset, dir), { recursive: true });
  mkdirSync(line, { recursive: true });
  const samples: unknown[] = [];
  const plan: { split: 'train' | 'val' | 'test'; good: number; defect: number }[] = [
    { split: 'train', good: 24, defect: 0 }, { split: 'val', good: 8, defect: 6 }, { split: 'test', good: 8, defect: 6 },
  ];
  let seed = 1;
  for (const { split, good, defect } of plan) {
    for (let i = 0; i < good + defect; i++, seed++) {
      const flaw = i >= good ? demoDefect(seed) : undefined;
      const part = demoPart(seed, flaw);
      const file = `images/${split}-${String(i).padStart(2, '0')}.png`;
      writeFileSync(join(dataset, file), await png(part.pixels));
      if (part.mask) writeFileSync(join(dataset, `masks/${split}-${String(i).padStart(2, '0')}.png`), await png(part.mask));
      samples.push(flaw
        ? { file, split, label: 'defect', classes: [flaw.kind], mask: `masks/${split}-${String(i).padStart(2, '0')}.png` }
        : { file, split, label: 'good' });
    }
  }
  writeFileSync(join(dataset, 'manifest.json'), JSON.stringify({ name: 'Demo parts', classes: { 1: 'scratch', 2: 'pit' }, samples }, null, 1));
  for (let i = 0; i < 9; i++, seed++) {
    const part = demoPart(seed, i % 3 === 1 ? demoDefect(seed) : undefined);
    writeFileSync(join(line, `part-${String(i + 1).padStart(3, '0')}.png`), await png(part.pixels));
  }
  return { dataset, line };
}
