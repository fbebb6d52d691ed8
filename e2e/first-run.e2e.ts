import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from './support/app.ts';

/**
 * A new user's first start: nothing imported, no terminal. The page says what is missing, the
 * demo project trains with the backbone that ships with Argus, and the demo line is inspected.
 */
describe('First run (browser mode, Chromium)', () => {
  let app: RunningApp;

  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('goes from a fresh data directory to a first inspection with a heatmap through the demo project', async () => {
    const { page } = app;
    await page.goto(app.url);
    const guide = page.getByRole('region', { name: 'From first start to first inspection' });
    await expect.poll(() => guide.getByTestId('step-backbone').getAttribute('data-done')).toBe('yes');
    expect(await guide.getByTestId('step-images').getAttribute('data-done')).toBe('no');
    expect(await guide.getByTestId('step-production').getAttribute('data-done')).toBe('no');
    await app.screenshot('first-run');

    // A long job shows its phase and can be cancelled from the page.
    await guide.getByRole('button', { name: 'Create the demo project' }).click();
    const progress = guide.getByTestId('job-progress-demo');
    await expect.poll(() => progress.textContent()).toMatch(/(Making demo parts|Importing the demo parts|Training an anomaly model).*Cancel/);
    await progress.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => progress.count()).toBe(0);
    expect(await page.getByTestId('demo-ready').count()).toBe(0);
    expect(await guide.getByTestId('step-production').getAttribute('data-done')).toBe('no');

    await guide.getByRole('button', { name: 'Create the demo project' }).click();
    await expect.poll(() => page.getByTestId('demo-ready').textContent(), { timeout: 240_000 }).toMatch(/The demo is ready: model \d+ is in production/);
    await expect.poll(() => guide.getByTestId('step-production').getAttribute('data-done')).toBe('yes');
    expect(await guide.getByTestId('step-labels').getAttribute('data-done')).toBe('yes');
    await page.getByRole('list', { name: 'Datasets' }).getByText('Demo parts').waitFor();
    await app.screenshot('first-run-demo-ready');

    await page.getByRole('link', { name: 'Inspect the demo line' }).click();
    await expect.poll(() => page.getByLabel('Images or folders on this station (one per line)').inputValue()).toMatch(/demo[/\\]line$/);
    await page.getByRole('button', { name: 'Inspect with production model' }).click();
    await expect.poll(() => page.getByRole('list', { name: 'Results' }).getByRole('button').count(), { timeout: 60_000 }).toBe(9);
    // Every third part of the demo line is scratched or pitted: the first rejected one opens, with its heatmap.
    await expect.poll(() => page.getByTestId('verdict').textContent()).toMatch(/^NG/);
    await expect.poll(() => page.getByTestId('heatmap-overlay').getAttribute('data-ready')).toBe('yes');
    const counts = await page.locator('.counts').textContent();
    expect(counts).toMatch(/NG\D*3/);
    await app.screenshot('first-run-demo-inspected');

    await page.getByRole('link', { name: 'Settings' }).click();
    await expect.poll(() => page.getByTestId('backbone').textContent()).toMatch(/ResNet-50 \(ImageNet\), shipped with Argus · ad1987b9274f… · 51\.5 MB/);
    expect(app.consoleErrors).toEqual([]);
  });

  it('a page that cannot render shows the error and leaves the rest of the app usable', async () => {
    const { page } = app;
    // An engine answering in a shape this renderer does not expect (a version mismatch after an update).
    await page.route('**/api/listModels', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ ok: true, value: [{ id: 7 }] }) }));
    await page.getByRole('link', { name: 'Models' }).click();
    await expect.poll(() => page.getByTestId('page-error').textContent()).toMatch(/This page could not be shown.*Inspections, hot folders and training keep running/);
    await app.screenshot('page-error');
    await page.unroute('**/api/listModels');
    await page.getByRole('link', { name: 'Settings' }).click();
    await expect.poll(() => page.getByTestId('backbone').textContent()).toMatch(/shipped with Argus/);
    expect(await page.getByTestId('page-error').count()).toBe(0);
    // The failed render is reported in the console (for the support team), nothing else.
    expect(app.consoleErrors.every((e) => /Page failed to render|The above error occurred|Cannot read properties/.test(e))).toBe(true);
    app.consoleErrors.length = 0;
  });
});
