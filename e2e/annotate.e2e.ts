import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeBlemishDataset } from '../test-support/fixtures.ts';
import { cli, type RunningApp, startApp } from './support/app.ts';

/** QA flow: label an image with a box, a polygon and a brush stroke, undo one, reload, find them saved. */
describe('Annotate workspace (browser mode, Chromium)', () => {
  let app: RunningApp;
  const work = tempDir('argus-e2e-annotate-');

  beforeAll(async () => {
    await writeBlemishDataset(join(work.path, 'blemish'));
    app = await startApp(async (dataDir) => {
      await cli(dataDir, 'dataset', 'import', join(work.path, 'blemish'));
    });
  });
  afterAll(async () => {
    await app?.stop();
    work.cleanup();
  });

  const annotationList = () => app.page.getByRole('list', { name: 'Annotations' });
  const openImage = async (file: string): Promise<void> => {
    await app.page.getByRole('list', { name: 'Queue' }).getByRole('button', { name: new RegExp(file) }).click();
    await app.page.getByTestId('annotation-canvas').waitFor();
  };

  it('draws a box, a polygon and a brush stroke, undoes the stroke, and finds the rest after a reload', async () => {
    const { page } = app;
    await page.goto(`${app.url}#/annotate`);
    await openImage('train/g1.png');
    await expect.poll(() => annotationList().textContent()).toBe('');
    const canvas = page.getByTestId('annotation-canvas');
    const box = (await canvas.boundingBox())!;
    const at = (fx: number, fy: number): [number, number] => [box.x + fx * box.width, box.y + fy * box.height];

    await page.keyboard.press('b');
    await page.mouse.move(...at(0.1, 0.1));
    await page.mouse.down();
    await page.mouse.move(...at(0.2, 0.2), { steps: 4 });
    await page.mouse.move(...at(0.3, 0.35), { steps: 4 });
    await page.mouse.up();

    await page.keyboard.press('p');
    for (const [fx, fy] of [[0.5, 0.1], [0.7, 0.15], [0.6, 0.4]] as const) await page.mouse.click(...at(fx, fy));
    await page.keyboard.press('Enter');

    await page.keyboard.press('r');
    await page.mouse.move(...at(0.2, 0.7));
    await page.mouse.down();
    await page.mouse.move(...at(0.5, 0.8), { steps: 8 });
    await page.mouse.up();
    await expect.poll(() => annotationList().textContent()).toMatch(/Box · blemish.*Polygon · blemish.*Mask · blemish/);
    // The stroke is painted into the mask layer at the image's own resolution.
    const painted = await page.getByTestId('mask-layer').evaluate((c) => {
      const el = c as unknown as { width: number; height: number; getContext(k: string): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
      const d = el.getContext('2d').getImageData(0, Math.floor(el.height * 0.7), el.width, Math.ceil(el.height * 0.15)).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n;
    });
    expect(painted).toBeGreaterThan(30);
    await app.screenshot('annotate-drawn');

    await page.keyboard.press('Control+z');
    await expect.poll(() => annotationList().textContent()).toMatch(/^Box · blemish.*Polygon · blemish✕$/);
    await expect.poll(() => page.getByTestId('save-state').textContent()).toBe('All changes saved');

    await page.reload();
    await openImage('train/g1.png');
    await expect.poll(() => annotationList().textContent()).toMatch(/^Box · blemish✕Polygon · blemish✕$/);
    // The image is now a labelled defect in the queue.
    await expect.poll(() => page.getByRole('list', { name: 'Queue' }).getByRole('button', { name: /train\/g1\.png/ }).textContent()).toMatch(/Defect/);
    await app.screenshot('annotate-reloaded');

    // Wheel zoom around the cursor; a box drawn while zoomed lands where it was drawn on the image.
    const stage = page.getByTestId('zoom-stage');
    const area = (await canvas.boundingBox())!;
    await page.mouse.move(area.x + area.width * 0.75, area.y + area.height * 0.75);
    await page.mouse.wheel(0, -800);
    await expect.poll(async () => Number(await stage.getAttribute('data-zoom'))).toBeGreaterThan(2);
    const zoomed = (await canvas.boundingBox())!;
    const onImage = (fx: number, fy: number): [number, number] => [zoomed.x + fx * zoomed.width, zoomed.y + fy * zoomed.height];
    await page.keyboard.press('b');
    await page.mouse.move(...onImage(0.7, 0.7));
    await page.mouse.down();
    await page.mouse.move(...onImage(0.8, 0.8), { steps: 4 });
    await page.mouse.up();
    await expect.poll(() => annotationList().textContent()).toMatch(/^Box · blemish✕Polygon · blemish✕Box · blemish✕$/);
    await app.screenshot('annotate-zoomed');
    await page.keyboard.press('0');
    await expect.poll(() => stage.getAttribute('data-zoom')).toBe('1.00');
    expect(app.consoleErrors).toEqual([]);
  });
});
