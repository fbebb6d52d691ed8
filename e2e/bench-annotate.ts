// npm run bench:annotate -- [--width 3264] [--height 2448] [--regions 300] [--json]
// How the Annotate workspace holds up on a large line image with hundreds of labels, in Debian
// Chromium against browser mode: time to open the image with its labels, per brush-stroke
// segment (pointer move → painted), per box drawn, and the autosave of the whole set.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { tempDir } from '../test-support/fixtures.ts';
import { cli, startApp } from './support/app.ts';

const { values } = parseArgs({ options: { width: { type: 'string', default: '3264' }, height: { type: 'string', default: '2448' }, regions: { type: 'string', default: '300' }, json: { type: 'boolean', default: false } } });
const W = Number(values.width);
const H = Number(values.height);
const REGIONS = Number(values.regions);
const log = (text: string): void => void (values.json || process.stderr.write(`${text}\n`));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const work = tempDir('argus-bench-annotate-');
// A textured part photo of the requested size, and a manifest with one image and many boxes.
const raw = Buffer.alloc(W * H * 3);
for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) raw.fill(110 + 60 * Math.sin((x + y) / 9), (y * W + x) * 3, (y * W + x) * 3 + 3);
writeFileSync(join(work.path, 'part.jpg'), await sharp(raw, { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 90 }).toBuffer());
const boxes = Array.from({ length: REGIONS }, (_, i) => {
  const x = (i * 97) % (W - 60);
  const y = (i * 61) % (H - 60);
  return [x, y, x + 40, y + 30, 1];
});
writeFileSync(join(work.path, 'manifest.json'), JSON.stringify({ name: 'large', classes: { 1: 'dent' }, samples: [{ file: 'part.jpg', split: 'train', label: 'defect', boxes }] }));

const app = await startApp(async (dataDir) => {
  await cli(dataDir, 'dataset', 'import', work.path);
});
try {
  const { page } = app;
  const t0 = performance.now();
  await page.goto(`${app.url}#/annotate`);
  await page.getByTestId('annotation-canvas').waitFor();
  await page.locator('.annotate-list li').nth(REGIONS - 1).waitFor({ timeout: 120_000 });
  const msOpen = performance.now() - t0;
  log(`opened ${W}×${H} with ${REGIONS} boxes in ${msOpen.toFixed(0)} ms`);

  const canvas = page.getByTestId('annotation-canvas');
  const area = (await canvas.boundingBox())!;
  const at = (fx: number, fy: number): [number, number] => [area.x + fx * area.width, area.y + fy * area.height];
  // Each pointer move is timed until the browser has painted it (two animation frames).
  const painted = (): Promise<unknown> => page.evaluate(() => new Promise((r) => {
    const frame = (globalThis as unknown as { requestAnimationFrame(cb: () => void): void }).requestAnimationFrame;
    frame(() => frame(() => r(null)));
  }));
  await page.keyboard.press('r');
  await page.mouse.move(...at(0.1, 0.5));
  await page.mouse.down();
  const strokeMs: number[] = [];
  for (let i = 1; i <= 40; i++) {
    const s = performance.now();
    await page.mouse.move(...at(0.1 + i * 0.015, 0.5 + 0.1 * Math.sin(i / 5)));
    await painted();
    strokeMs.push(performance.now() - s);
  }
  await page.mouse.up();
  await page.keyboard.press('b');
  const boxMs: number[] = [];
  for (let i = 0; i < 10; i++) {
    const s = performance.now();
    await page.mouse.move(...at(0.05 + i * 0.08, 0.1));
    await page.mouse.down();
    await page.mouse.move(...at(0.1 + i * 0.08, 0.2), { steps: 3 });
    await page.mouse.up();
    await painted();
    boxMs.push(performance.now() - s);
  }
  const s = performance.now();
  await page.getByTestId('save-state').filter({ hasText: 'All changes saved' }).waitFor({ timeout: 120_000 });
  const msSave = performance.now() - s;
  const result = {
    image: `${W}x${H}`, megapixels: Math.round((W * H) / 1e5) / 10, labels: REGIONS,
    ms_open_with_labels: Math.round(msOpen), ms_per_brush_segment_median: Math.round(median(strokeMs)), ms_per_brush_segment_max: Math.round(Math.max(...strokeMs)),
    ms_per_box_median: Math.round(median(boxMs)), ms_autosave_after_last_change: Math.round(msSave), console_errors: app.consoleErrors.length,
  };
  process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await app.stop();
  work.cleanup();
}
