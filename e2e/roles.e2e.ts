import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLEMISH_IMAGE, hasShared, SHARED_WEIGHTS, tempDir, writeBlemishDataset } from '../test-support/fixtures.ts';
import { cli, type RunningApp, startApp } from './support/app.ts';

/** Roles: once a PIN is set, an operator window cannot promote; the PIN unlocks the QA-engineer role. */
describe.skipIf(!hasShared)('Roles (browser mode, Chromium)', () => {
  let app: RunningApp;
  const work = tempDir('argus-e2e-roles-');

  beforeAll(async () => {
    await writeBlemishDataset(join(work.path, 'blemish'));
    app = await startApp(async (dataDir) => {
      await cli(dataDir, 'train', '--mode', 'anomaly', '--dataset', join(work.path, 'blemish'), '--weights', SHARED_WEIGHTS, '--device', 'cpu',
        '--input', `${BLEMISH_IMAGE.width}x${BLEMISH_IMAGE.height}`, '--coreset', '64');
      await cli(dataDir, 'train', '--mode', 'anomaly', '--dataset', 'blemish', '--device', 'cpu',
        '--input', `${BLEMISH_IMAGE.width}x${BLEMISH_IMAGE.height}`, '--coreset', '16', '--name', 'small bank');
    });
  });
  afterAll(async () => {
    await app?.stop();
    work.cleanup();
  });

  it('sets a PIN, locks to operator (promotion refused by the UI and the API), and unlocks with the PIN', async () => {
    const { page } = app;
    await page.goto(`${app.url}#/settings`);
    await expect.poll(() => page.getByTestId('role-badge').textContent()).toMatch(/QA engineer/);
    await page.getByLabel('Set a QA-engineer PIN').fill('2468');
    await page.getByRole('button', { name: 'Save PIN' }).click();
    await page.getByText('PIN saved.').waitFor();
    await page.getByRole('button', { name: 'Lock (back to operator)' }).click();
    await expect.poll(() => page.getByTestId('role-badge').textContent()).toMatch(/Operator/);
    await app.screenshot('settings-roles-operator');

    await page.goto(`${app.url}#/models`);
    const promote = page.getByTestId('model-1').getByRole('button', { name: 'Promote to production' });
    await promote.waitFor();
    expect(await promote.isDisabled()).toBe(true);
    await page.getByTestId('engineer-only').waitFor();
    // The engine refuses too, whatever the page shows: the same call made by hand.
    const refused = await page.evaluate(async () => {
      const response = await fetch('/api/promoteModel', {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json', 'X-Argus-Session': sessionStorage.getItem('argus.session')!,
          // The page's own launch key, as the app's client sends it.
          'X-Argus-Key': (globalThis as unknown as { document: { querySelector(s: string): { content: string } } }).document.querySelector('meta[name="argus-key"]').content,
        },
        body: JSON.stringify({ modelId: 1 }),
      });
      return { status: response.status, body: await response.json() };
    });
    expect(refused).toMatchObject({ status: 403, body: { ok: false, error: { code: 'forbidden' } } });

    await page.goto(`${app.url}#/settings`);
    await page.getByLabel('QA-engineer PIN').fill('1111');
    await page.getByRole('button', { name: 'Unlock QA engineer' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/Wrong PIN/);
    await page.getByLabel('QA-engineer PIN').fill('2468');
    await page.getByRole('button', { name: 'Unlock QA engineer' }).click();
    await expect.poll(() => page.getByTestId('role-badge').textContent()).toMatch(/QA engineer/);

    await page.goto(`${app.url}#/models`);
    await page.getByTestId('model-1').getByRole('button', { name: 'Promote to production' }).click();
    await expect.poll(() => page.getByTestId('model-1').textContent(), { timeout: 30_000 }).toMatch(/Production/);
    // Inspecting an image that was labelled shows its stored labels as a layer that can be switched off.
    await page.goto(`${app.url}#/inspect`);
    await page.getByLabel('Images or folders on this station (one per line)').fill(join(work.path, 'blemish', 'val', 'd1.png'));
    await page.getByRole('button', { name: 'Inspect with production model' }).click();
    await expect.poll(() => page.getByTestId('label-count').textContent(), { timeout: 60_000 }).toBe('1 stored label shown (dashed, in class colours)');
    const pixel = () => page.getByTestId('heatmap-overlay').evaluate((c) => {
      const canvas = c as unknown as { getContext(k: string): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
      return Array.from(canvas.getContext('2d').getImageData(40, 26, 1, 1).data);
    });
    await page.getByLabel('Heatmap (H)').uncheck();
    await expect.poll(async () => (await pixel())[3]).toBeGreaterThanOrEqual(160);
    await app.screenshot('inspect-labels');
    await page.getByLabel('Labels (A)').uncheck();
    await expect.poll(async () => (await pixel())[3]).toBe(0);
    await page.goto(`${app.url}#/models`);

    // Two versions side by side on the same split: metrics, score histograms with thresholds, PR curves.
    const comparison = page.getByLabel('Evaluate and compare versions');
    await comparison.getByLabel('Version A').selectOption('1');
    await comparison.getByLabel('Version B').selectOption('2');
    await comparison.getByLabel('Split').selectOption('val');
    await comparison.getByRole('button', { name: 'Evaluate', exact: true }).click();
    const table = page.getByRole('table', { name: 'Comparison' });
    await expect.poll(() => table.textContent(), { timeout: 60_000 }).toMatch(/Image AUROC\d\.\d{3}\d\.\d{3}/);
    expect(await table.textContent()).toMatch(/Heatmap peak on the defect\d\.\d{3}\d\.\d{3}/);
    // Per camera: the val images of each group that has good and defective ones, and their mean.
    expect(await table.textContent()).toMatch(/within each camera group, mean\)\d\.\d{3}\d\.\d{3}… at cam-a\d\.\d{3}\d\.\d{3}… at cam-b\d\.\d{3}\d\.\d{3}/);
    await expect.poll(() => comparison.locator('[data-kind="defective"]').count()).toBe(40);
    await expect.poll(() => comparison.locator('.score-histogram .threshold-ng').count()).toBe(2);
    await expect.poll(() => comparison.locator('.series-recall .recharts-line-curve').count()).toBe(2);
    // Confusion matrices: every val image counted once, in the row of its label.
    const confusion = comparison.getByTestId('evaluation-1').getByTestId('verdict-confusion');
    const cells = await confusion.locator('td').allTextContents();
    expect(cells).toHaveLength(6);
    const caption = await comparison.getByTestId('evaluation-1').locator('.score-histogram figcaption').textContent();
    const [good, defective] = [...caption!.matchAll(/ (\d+)/g)].map((m) => Number(m[1]));
    expect(cells.slice(0, 3).map(Number).reduce((x, y) => x + y, 0)).toBe(good);
    expect(cells.slice(3).map(Number).reduce((x, y) => x + y, 0)).toBe(defective);
    expect(good + defective).toBeGreaterThan(0);
    // Hovering a bar shows its counts.
    await comparison.getByTestId('evaluation-1').locator('.score-histogram .recharts-wrapper').hover({ position: { x: 200, y: 100 } });
    await expect.poll(() => comparison.getByTestId('evaluation-1').locator('.score-histogram .recharts-tooltip-wrapper').textContent()).toMatch(/\d\.\d{2}–\d\.\d{2}/);
    await app.screenshot('models-compare');

    await page.goto(`${app.url}#/settings`);
    await expect.poll(() => page.locator('table').textContent()).toMatch(/role\.unlock/);
    // The audit log names the role that acted, and exports as CSV.
    await expect.poll(() => page.locator('table').textContent()).toMatch(/web \(QA engineer\)model\.promote/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export audit log (CSV)' }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\n')[0]).toBe('\uFEFFid,at,actor,action,target,details');
    expect(csv).toMatch(/web \(operator\),role\.unlock-refused/);
    await app.screenshot('settings-roles-engineer');
    expect(app.consoleErrors.filter((e) => !/403|Forbidden/.test(e))).toEqual([]);
  });

  it('optimises a version to int8 and shows its accuracy check against the parent', async () => {
    const { page } = app;
    await page.goto(`${app.url}#/models`);
    const form = page.getByRole('form', { name: 'Optimise for deployment' });
    await form.getByLabel('Model version').selectOption('1');
    await form.getByLabel('Precision').selectOption('int8');
    await form.getByLabel('Calibration').selectOption('percentile');
    await form.getByRole('button', { name: 'Optimise' }).click();
    const result = page.getByTestId('optimize-result');
    await expect.poll(() => result.textContent(), { timeout: 90_000 }).toMatch(/Model #3 (passed its accuracy check|stays a candidate)/);
    expect(await result.textContent()).toMatch(/Image AUROC\d\.\d{3}\d\.\d{3}Pixel IoU/);
    const passed = /passed its accuracy check/.test((await result.textContent())!);
    const row = page.getByTestId('model-3');
    await expect.poll(() => row.textContent()).toMatch(/anomaly · int8/);
    await expect.poll(() => row.textContent()).toMatch(/from #1/);
    expect(await page.getByTestId('guard-3').textContent()).toBe(passed ? 'Accuracy check passed' : 'Inspects worse than its parent: cannot be promoted');
    expect(await row.getByRole('button', { name: 'Promote to production' }).isDisabled()).toBe(!passed);
    await app.screenshot('models-optimize');
    expect(app.consoleErrors.filter((e) => !/403|Forbidden/.test(e))).toEqual([]);
  });
});
