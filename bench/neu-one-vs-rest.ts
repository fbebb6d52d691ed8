import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * NEU-DET as an anomaly set of a second real material: one class's images are the "good" steel
 * (its own marks are the normal look of that surface), every other class's images are defective,
 * their boxes the defect masks. Train: the class's train images; val: its val images plus five of
 * each other class; test: its test images plus every other class's test images. Writes the set
 * under `root` and returns its folder.
 */
export function writeNeuOneVsRest(root: string, neuFolder: string, goodClass: string): string {
  const manifest = JSON.parse(readFileSync(join(neuFolder, 'manifest.json'), 'utf8')) as {
    classes: Record<string, string>;
    samples: { file: string; split: string; image_class: string; boxes: number[][]; width: number; height: number }[];
  };
  const goodId = Number(Object.entries(manifest.classes).find(([, name]) => name === goodClass)?.[0]);
  if (!goodId) throw new Error(`NEU-DET has no class "${goodClass}"`);
  const folder = join(root, `neu-${goodClass}`);
  mkdirSync(join(folder, 'images'), { recursive: true });
  const valPerOtherClass = new Map<string, number>();
  const samples = [];
  for (const sample of manifest.samples) {
    const good = sample.image_class === goodClass;
    if (!good && sample.split === 'train') continue;
    if (!good && sample.split === 'val') {
      const taken = valPerOtherClass.get(sample.image_class) ?? 0;
      if (taken >= 5) continue;
      valPerOtherClass.set(sample.image_class, taken + 1);
    }
    const boxes = good ? [] : sample.boxes.filter((b) => b[4] !== goodId).map(([x1, y1, x2, y2]) => [x1, y1, x2, y2, 1]);
    if (!good && boxes.length === 0) continue;
    copyFileSync(join(neuFolder, sample.file), join(folder, sample.file));
    samples.push({ file: sample.file, split: sample.split, label: good ? 'good' : 'defect', width: sample.width, height: sample.height, boxes });
  }
  writeFileSync(join(folder, 'manifest.json'), JSON.stringify({ name: `neu-${goodClass}`, classes: { 1: 'defect' }, samples }, null, 1));
  return folder;
}
