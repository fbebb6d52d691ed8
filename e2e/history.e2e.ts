import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../src-main/store/store.ts';
import { type RunningApp, startApp } from './support/app.ts';

const COUNT = 450;
const verdictOf = (i: number): 'OK' | 'NG' | 'REVIEW' => (i % 5 === 0 ? 'NG' : i % 7 === 0 ? 'REVIEW' : 'OK');

/** A line's history longer than one page: paging, export of every matching row, the chart under a filter. */
describe('History with many inspections (browser mode, Chromium)', () => {
  let app: RunningApp;

  beforeAll(async () => {
    app = await startApp(async (dataDir) => {
      const store = new Store(dataDir);
      try {
        const record = store.db.prepare(
          `INSERT INTO inspections (image_id, source_path, model_version_id, verdict, score, raw_score, regions, thresholds, timings, error, operator, created_at)
           VALUES (NULL, ?, NULL, ?, ?, NULL, '[]', '{}', '{}', NULL, 'op', ?)`,
        );
        store.transaction(() => {
          for (let i = 0; i < COUNT; i++) {
            // Three days, oldest first; names with a formula-like prefix now and then.
            const day = `2026-12-0${1 + Math.floor((i * 3) / COUNT)}T0${i % 10}:00:00.000Z`;
            record.run(i % 50 === 0 ? `=cmd|' /C calc'!A0 ${i}.png` : `/line/part-${String(i).padStart(4, '0')}.png`, verdictOf(i), i / COUNT, day);
          }
        });
      } finally {
        store.close();
      }
    });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('pages through every inspection, exports all that match, and charts what the filter selects', async () => {
    const { page } = app;
    await page.goto(`${app.url}#/history`);
    const count = page.getByTestId('history-count');
    await expect.poll(() => count.textContent()).toBe(`1–200 of ${COUNT} inspections`);
    await page.getByRole('button', { name: 'Next' }).click();
    await expect.poll(() => count.textContent()).toBe(`201–400 of ${COUNT} inspections`);
    await page.getByRole('button', { name: 'Next' }).click();
    await expect.poll(() => count.textContent()).toBe(`401–${COUNT} of ${COUNT} inspections`);
    expect(await page.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
    expect(await page.getByRole('table', { name: 'History' }).locator('tbody tr').count()).toBe(COUNT - 400);

    // Export: every row, not a first page.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const csv = readFileSync((await download.path())!, 'utf8');
    const lines = csv.trim().split('\n');
    expect(lines).toHaveLength(COUNT + 1);
    // A file name a spreadsheet would run as a formula stays text.
    expect(lines.filter((l) => l.includes("'=cmd|"))).toHaveLength(COUNT / 50);
    expect(lines.some((l) => /,=cmd/.test(l))).toBe(false);

    // A verdict filter: the list starts again at its first page, and the chart shows only that verdict.
    await page.getByLabel('Verdict').selectOption('NG');
    const ng = Array.from({ length: COUNT }, (_, i) => verdictOf(i)).filter((v) => v === 'NG').length;
    await expect.poll(() => count.textContent()).toBe(`1–${ng} of ${ng} inspections`);
    const chart = page.locator('.daily-chart');
    await expect.poll(() => chart.locator('rect[data-verdict="OK"]').count()).toBe(0);
    expect(await chart.locator('rect[data-verdict="NG"]').count()).toBe(3);
    await app.screenshot('history-paged-ng');
    expect(app.consoleErrors).toEqual([]);
  });
});
