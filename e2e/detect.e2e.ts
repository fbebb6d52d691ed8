import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blemishes, DETECT_IMAGE, hasShared, pngOf, SHARED_WEIGHTS, tempDir, touchingPair, writeDetectionDataset, writeFile } from '../test-support/fixtures.ts';
import { boxIou } from '../src-main/common/box-metrics.ts';
import { cli, type RunningApp, startApp } from './support/app.ts';

const { width: W, height: H } = DETECT_IMAGE;

/** QA + operator flow for boxes: train a detector from the Training page, promote it, inspect a part with two touching defects. */
describe.skipIf(!hasShared)('Detection mode (browser mode, Chromium)', () => {
  let app: RunningApp;
  const work = tempDir('argus-e2e-detect-');

  beforeAll(async () => {
    await writeDetectionDataset(join(work.path, 'boxes'));
    writeFile(join(work.path, 'incoming', 'part-pair.png'), await pngOf(blemishes(W, H, 7777, touchingPair(40, 50, 8)), W, H));
    writeFile(join(work.path, 'incoming', 'part-clean.png'), await pngOf(blemishes(W, H, 7778, []), W, H));
    app = await startApp(async (dataDir) => {
      await cli(dataDir, 'weights', 'import', SHARED_WEIGHTS);
      await cli(dataDir, 'dataset', 'import', join(work.path, 'boxes'));
    });
  });
  afterAll(async () => {
    await app?.stop();
    work.cleanup();
  });

  it('trains a detector with the loss split into class and box, and Inspect draws its boxes with class and score', async () => {
    const { page } = app;
    await page.goto(`${app.url}#/training`);
    const form = page.getByRole('form', { name: 'Settings' });
    await form.getByLabel('Mode').selectOption('detect');
    await expect.poll(() => form.getByLabel('Epochs').inputValue()).toBe('18');
    await form.getByLabel('Epochs').fill('8');
    await form.getByLabel('Batch size').fill('4');
    await form.getByLabel('Learning rate').fill('0.0003');
    await form.getByLabel('Device').selectOption('cpu');
    await form.getByRole('button', { name: 'Start training' }).click();

    await expect.poll(() => page.getByTestId('loss-parts').textContent(), { timeout: 120_000 }).toMatch(/class loss [\d.]+ · box loss [\d.]+ · centreness loss [\d.]+/);
    await app.screenshot('training-detect-running');
    await expect.poll(() => page.getByTestId('training-status').textContent(), { timeout: 240_000, interval: 1000 }).toMatch(/Finished/);
    await expect.poll(() => page.getByRole('list', { name: 'Log' }).textContent()).toMatch(/Epoch 8\/8: .*AP50 blemish [\d.]+/);
    await expect.poll(() => page.locator('.loss-chart .recharts-line-curve').count()).toBeGreaterThanOrEqual(4);

    await page.goto(`${app.url}#/models`);
    const row = page.getByTestId('model-1');
    await expect.poll(() => row.textContent()).toMatch(/detect/);
    await row.getByRole('button', { name: 'Promote to production' }).click();
    await expect.poll(() => row.textContent(), { timeout: 30_000 }).toMatch(/Production/);

    // One version evaluated on its own: box precision–recall per class and the box confusion matrix.
    const evaluation = page.getByLabel('Evaluate and compare versions');
    await evaluation.getByLabel('Split').selectOption('val');
    await evaluation.getByRole('button', { name: 'Evaluate', exact: true }).click();
    const boxes = evaluation.getByTestId('box-confusion');
    await boxes.waitFor({ timeout: 60_000 });
    expect(await boxes.locator('thead th').allTextContents()).toEqual(['labelled \\ found', 'blemish', 'background']);
    expect(Number(await boxes.locator('[data-cell="blemish|blemish"]').textContent())).toBeGreaterThan(0);
    await expect.poll(() => evaluation.locator('.class-curves .class-curve').count()).toBe(1);
    await app.screenshot('models-evaluate-detector');

    await page.goto(`${app.url}#/inspect`);
    await page.getByLabel('Images or folders on this station (one per line)').fill(join(work.path, 'incoming'));
    await page.getByRole('button', { name: 'Inspect with production model' }).click();
    await page.getByTestId('inspection-viewer').waitFor();
    await expect.poll(() => page.getByRole('list', { name: 'Results' }).getByRole('button').count(), { timeout: 60_000 }).toBe(2);
    await expect.poll(() => page.getByTestId('verdict').textContent()).toMatch(/^NG/);
    await page.getByText(join(work.path, 'incoming', 'part-pair.png')).waitFor();
    // Two touching blemishes: each has its own box of class "blemish" (a blob would merge them),
    // and the two best-scored boxes are those two.
    const rows = page.locator('.viewer table tbody tr');
    await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(2);
    const regions = await rows.evaluateAll((trs) => trs.map((tr) => {
      const cells = Array.from((tr as unknown as { children: ArrayLike<{ textContent: string | null }> }).children, (td) => td.textContent ?? '');
      return { class: cells[1], score: Number(cells[2]), box: cells[4].split(', ').map(Number) as [number, number, number, number] };
    }));
    const best = [...regions].sort((a, b) => b.score - a.score).slice(0, 2);
    for (const c of touchingPair(40, 50, 8)) {
      const truth: [number, number, number, number] = [c.x - c.r, c.y - c.r, c.x + c.r + 1, c.y + c.r + 1];
      expect(best.some((r) => r.class === 'blemish' && boxIou(r.box, truth) >= 0.5), JSON.stringify(regions)).toBe(true);
    }
    await app.screenshot('inspect-detect-boxes');
    expect(app.consoleErrors).toEqual([]);
  }, 420_000);
});
