import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLEMISH_IMAGE, hasShared, SHARED_WEIGHTS, tempDir, writeBlemishDataset } from '../test-support/fixtures.ts';
import { cli, type RunningApp, startApp } from './support/app.ts';

/** QA flow: fine-tune a segmentation model from the Training page, follow it to the end, promote it. */
describe.skipIf(!hasShared)('Training workspace (browser mode, Chromium)', () => {
  let app: RunningApp;
  const work = tempDir('argus-e2e-training-');

  beforeAll(async () => {
    await writeBlemishDataset(join(work.path, 'blemish'));
    app = await startApp(async (dataDir) => {
      await cli(dataDir, 'weights', 'import', SHARED_WEIGHTS);
      await cli(dataDir, 'dataset', 'import', join(work.path, 'blemish'));
    });
  });
  afterAll(async () => {
    await app?.stop();
    work.cleanup();
  });

  it('starts a short fine-tune, shows its progress and loss curve to completion, and the new version is promoted', async () => {
    const { page } = app;
    await page.goto(`${app.url}#/training`);
    await page.getByText('No training running').waitFor();
    await app.screenshot('training-idle');
    const form = page.getByRole('form', { name: 'Settings' });
    await form.getByLabel('Mode').selectOption('segment');
    await form.getByLabel('Epochs').fill('2');
    await form.getByLabel('Batch size').fill('4');
    await form.getByLabel('Learning rate').fill('0.0003');
    await form.getByLabel('Input size (W×H)').fill(`${BLEMISH_IMAGE.width}x${BLEMISH_IMAGE.height}`);
    await form.getByLabel('Device').selectOption('cpu');
    await form.getByRole('button', { name: 'Start training' }).click();

    // While it runs: the state, a Cancel button, and step progress.
    await expect.poll(() => page.getByTestId('training-status').textContent()).toMatch(/Running/);
    await page.getByRole('button', { name: 'Cancel' }).waitFor();
    await expect.poll(() => page.getByTestId('training-status').textContent(), { timeout: 120_000 }).toMatch(/Epoch \d\/2/);
    await app.screenshot('training-running');

    await expect.poll(() => page.getByTestId('training-status').textContent(), { timeout: 180_000, interval: 1000 }).toMatch(/Finished/);
    const log = page.getByRole('list', { name: 'Log' });
    await expect.poll(() => log.textContent()).toMatch(/Epoch 2\/2: train loss [\d.]+, validation loss [\d.]+/);
    await expect.poll(() => log.textContent()).toMatch(/model version #1 registered as a candidate/);
    // The chart has the step-loss curve and a point per epoch of validation loss.
    await expect.poll(() => page.locator('.loss-chart .recharts-line-curve').count()).toBeGreaterThanOrEqual(2);
    await expect.poll(() => page.locator('.loss-chart circle[data-series="Validation loss"]').count()).toBe(2);
    // Axes with their titles, and the values under the cursor.
    await expect.poll(() => page.locator('.loss-chart .recharts-wrapper').textContent()).toMatch(/step.*Loss|Loss.*step/);
    await page.locator('.loss-chart .recharts-wrapper').hover();
    await expect.poll(() => page.locator('.loss-chart .recharts-tooltip-wrapper').textContent()).toMatch(/step \d+.*Step loss.*\d\.\d{3}/);
    await expect.poll(() => page.getByTestId('run-1').textContent()).toMatch(/Finished.*100%.*#1/);
    await app.screenshot('training-finished');

    await page.getByRole('link', { name: 'Open the Models page to compare and promote it' }).click();
    const row = page.getByTestId('model-1');
    await expect.poll(() => row.textContent()).toMatch(/segment/);
    await row.getByRole('button', { name: 'Promote to production' }).click();
    // Promotion first verifies the model's files (a segment model's are large): allow for a loaded machine.
    await expect.poll(() => row.textContent(), { timeout: 30_000 }).toMatch(/Production/);
    await app.screenshot('models-segment-promoted');

    // Model-assisted labelling: the promoted model suggests the blemish of a validation image, accepted as a box.
    await page.goto(`${app.url}#/annotate`);
    await page.getByRole('list', { name: 'Queue' }).getByRole('button', { name: /val\/d1\.png/ }).click();
    await page.getByTestId('annotation-canvas').waitFor();
    await expect.poll(() => page.getByRole('list', { name: 'Annotations' }).textContent()).toBe('Mask · blemish✕');
    await page.getByRole('button', { name: /^Suggest/ }).click();
    const suggestions = page.getByRole('list', { name: 'Suggestions' });
    await expect.poll(() => suggestions.getByRole('listitem').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(1);
    await expect.poll(() => suggestions.textContent()).toMatch(/blemish · \d\.\d\d/);
    await app.screenshot('annotate-suggestions');
    await suggestions.getByRole('button', { name: 'Accept' }).first().click();
    await expect.poll(() => page.getByRole('list', { name: 'Annotations' }).textContent()).toMatch(/Box · blemish.*Mask · blemish/);
    await expect.poll(() => page.getByTestId('save-state').textContent()).toBe('All changes saved');

    // The labelling queue ordered by the model's uncertainty: REVIEW band first, then nearest the threshold.
    await page.getByRole('button', { name: 'Order by model uncertainty' }).click();
    await expect.poll(() => page.getByTestId('rank-score').count(), { timeout: 60_000 }).toBe(18);
    const ranked = (await page.getByTestId('rank-score').allTextContents()).map((text) => {
      const [verdict, score] = text.split(' ');
      return { review: verdict === 'REVIEW', distance: Math.abs(Number(score) - 0.5) };
    });
    const key = (r: { review: boolean; distance: number }): number => (r.review ? -1 : 0) + r.distance;
    for (let i = 1; i < ranked.length; i++) expect(key(ranked[i])).toBeGreaterThanOrEqual(key(ranked[i - 1]) - 0.006);
    await app.screenshot('annotate-ranked');
    expect(app.consoleErrors).toEqual([]);
  }, 300_000);

  it('trains an anomaly model with an ignored border; the form refuses one that is not whole pixels', async () => {
    const { page } = app;
    await page.goto(`${app.url}#/training`);
    const form = page.getByRole('form', { name: 'Settings' });
    await form.getByLabel('Mode').selectOption('anomaly');
    await form.getByLabel('Input size (W×H)').fill(`${BLEMISH_IMAGE.width}x${BLEMISH_IMAGE.height}`);
    await form.getByLabel('Device').selectOption('cpu');
    const border = form.getByLabel('Ignored border (px)');
    await border.fill('2.5');
    await form.getByRole('button', { name: 'Start training' }).click();
    expect(await border.evaluate((el) => (el as unknown as { validity: { valid: boolean } }).validity.valid)).toBe(false);
    expect(await cli(app.dataDir, 'model', 'list')).not.toMatch(/anomaly/);

    await border.fill('8');
    await app.screenshot('training-anomaly-border');
    await form.getByRole('button', { name: 'Start training' }).click();
    const log = page.getByRole('list', { name: 'Log' });
    await expect.poll(() => log.textContent(), { timeout: 180_000, interval: 1000 }).toMatch(/model version #2 registered as a candidate/);
    const models = JSON.parse(await cli(app.dataDir, 'model', 'list', '--json')) as { mode: string; config: { ignoredBorder?: number } }[];
    expect(models.filter((m) => m.mode === 'anomaly').map((m) => m.config.ignoredBorder)).toEqual([8]);
    expect(app.consoleErrors).toEqual([]);
  }, 240_000);
});
