import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blemishes, DETECT_IMAGE, hasShared, pngOf, SHARED_WEIGHTS, tempDir, writeFile } from '../test-support/fixtures.ts';
import { cli, type RunningApp, startApp } from './support/app.ts';

const { width: W, height: H } = DETECT_IMAGE;

/** QA flow for classification: whole-image labels in the grid, a classifier trained from the page, its class and activation map on Inspect. */
describe.skipIf(!hasShared)('Classification (browser mode, Chromium)', () => {
  let app: RunningApp;
  const work = tempDir('argus-e2e-classify-');
  const files: { file: string; blemish: boolean }[] = [];

  beforeAll(async () => {
    // Unlabelled parts, half of them with a blemish; the project knows the class "blemish".
    const samples: unknown[] = [];
    for (let i = 0; i < 16; i++) {
      const blemish = i % 2 === 1;
      const split = i < 12 ? 'train' : 'val';
      const file = `${split}/part-${String(i).padStart(2, '0')}.png`;
      const circles = blemish ? [{ x: 20 + ((i * 13) % 80), y: 20 + ((i * 7) % 50), r: 10 }] : [];
      writeFile(join(work.path, 'parts', file), await pngOf(blemishes(W, H, 500 + i, circles), W, H));
      samples.push({ file, split });
      files.push({ file, blemish });
    }
    writeFile(join(work.path, 'parts', 'manifest.json'), JSON.stringify({ name: 'parts', classes: { 1: 'blemish' }, samples }));
    writeFile(join(work.path, 'line', 'part-blemish.png'), await pngOf(blemishes(W, H, 900, [{ x: 64, y: 48, r: 11 }]), W, H));
    writeFile(join(work.path, 'line', 'part-clean.png'), await pngOf(blemishes(W, H, 901, []), W, H));
    app = await startApp(async (dataDir) => {
      await cli(dataDir, 'weights', 'import', SHARED_WEIGHTS);
      await cli(dataDir, 'dataset', 'import', join(work.path, 'parts'));
    });
  });
  afterAll(async () => {
    await app?.stop();
    work.cleanup();
  });

  it('labels whole images in the grid, trains a classifier, shows its class and activation map; a disputed result goes through the review queue into the dataset, and a retrained version is compared and promoted', async () => {
    const { page } = app;
    await page.goto(`${app.url}#/annotate`);
    await page.getByRole('button', { name: 'Whole-image classes' }).click();
    const grid = page.getByRole('list', { name: 'Whole-image classes' });
    await expect.poll(() => grid.getByRole('listitem').count()).toBe(16);
    // The grid is in file order and the first image is selected: one key labels it, saves it and
    // selects the next. Two parts are left for the model to suggest (the arrow key moves on).
    const later = new Set(['train/part-10.png', 'train/part-11.png']);
    const labelText = ({ file, blemish }: { file: string; blemish: boolean }): string => (later.has(file) ? '–' : blemish ? 'blemish' : 'Good');
    for (const item of [...files].sort((x, y) => x.file.localeCompare(y.file))) {
      await expect.poll(() => grid.getByTestId(`grid-${item.file}`).getAttribute('aria-current')).toBe('true');
      await page.keyboard.press(later.has(item.file) ? 'ArrowRight' : item.blemish ? '1' : 'g');
      if (!later.has(item.file)) await expect.poll(() => grid.getByTestId(`grid-${item.file}`).getByTestId('grid-label').textContent()).toBe(labelText(item));
    }
    for (const item of files) await expect.poll(() => grid.getByTestId(`grid-${item.file}`).getByTestId('grid-label').textContent()).toBe(labelText(item));
    // Shift + a number adds or takes away a class and keeps the selection (several defects on one part).
    await grid.getByTestId('grid-train/part-01.png').click();
    await page.keyboard.press('Shift+Digit1');
    await expect.poll(() => grid.getByTestId('grid-train/part-01.png').getByTestId('grid-label').textContent()).toBe('–');
    await page.keyboard.press('Shift+Digit1');
    await expect.poll(() => grid.getByTestId('grid-train/part-01.png').getByTestId('grid-label').textContent()).toBe('blemish');
    await app.screenshot('annotate-class-grid');

    await page.goto(`${app.url}#/training`);
    const form = page.getByRole('form', { name: 'Settings' });
    await form.getByLabel('Mode').selectOption('classify');
    await expect.poll(() => form.getByLabel('Epochs').inputValue()).toBe('12');
    // The rest of classify's defaults come with it: batch 16, layer1–layer3 frozen.
    await expect.poll(() => form.getByLabel('Batch size').inputValue()).toBe('16');
    await expect.poll(() => form.getByLabel('Frozen layers').inputValue()).toBe('3');
    expect(await form.getByLabel('Several defect classes per image (multi-label)').isChecked()).toBe(false);
    await form.getByLabel('Epochs').fill('4');
    await form.getByLabel('Batch size').fill('4');
    await form.getByLabel('Device').selectOption('cpu');
    await form.getByRole('button', { name: 'Start training' }).click();
    await expect.poll(() => page.getByTestId('training-status').textContent(), { timeout: 240_000, interval: 1000 }).toMatch(/Finished/);
    await app.screenshot('training-classify-finished');

    await page.goto(`${app.url}#/models`);
    const row = page.getByTestId('model-1');
    await expect.poll(() => row.textContent()).toMatch(/classify/);
    await row.getByRole('button', { name: 'Promote to production' }).click();
    await expect.poll(() => row.textContent(), { timeout: 30_000 }).toMatch(/Production/);
    // Evaluated on its own: the confusion matrix of labelled against predicted verdicts.
    const evaluation = page.getByLabel('Evaluate and compare versions');
    await evaluation.getByLabel('Split').selectOption('val');
    await evaluation.getByRole('button', { name: 'Evaluate', exact: true }).click();
    await evaluation.getByTestId('verdict-confusion').waitFor({ timeout: 60_000 });

    await page.goto(`${app.url}#/inspect`);
    await page.getByLabel('Images or folders on this station (one per line)').fill(join(work.path, 'line'));
    await page.getByRole('button', { name: 'Inspect with production model' }).click();
    await page.getByTestId('inspection-viewer').waitFor({ timeout: 60_000 });
    // A blemished part: NG, and its regions (cut from the class activation map) carry the class.
    await expect.poll(() => page.getByTestId('verdict').textContent(), { timeout: 30_000 }).toMatch(/^NG/);
    const rows = page.locator('.viewer table tbody tr');
    await expect.poll(() => rows.count()).toBeGreaterThan(0);
    const classes = await rows.evaluateAll((trs) => trs.map((tr) => (tr as unknown as { children: ArrayLike<{ textContent: string | null }> }).children[1]?.textContent ?? ''));
    expect(new Set(classes)).toEqual(new Set(['blemish']));
    // Its class probabilities, the most probable first.
    await expect.poll(() => page.getByTestId('class-probabilities').textContent()).toMatch(/^blemish \d+\.\d%Good \d+\.\d%$/);
    await app.screenshot('inspect-classify');

    // The line's word: the blemished part's result is right; the clean part's is disputed (the operator says it has a blemish).
    const review = page.getByRole('group', { name: 'Review' });
    await review.getByRole('button', { name: 'Correct' }).click();
    await expect.poll(() => review.getByTestId('review-state').textContent()).toBe('Confirmed');
    await page.getByRole('list', { name: 'Results' }).getByRole('button').filter({ hasText: 'part-clean.png' }).click();
    await review.getByRole('button', { name: 'This is wrong' }).click();
    await review.getByLabel('The part is').selectOption('blemish');
    await review.getByRole('button', { name: 'Send to review' }).click();
    await expect.poll(() => review.getByTestId('review-state').textContent()).toBe('In the review queue');
    await page.goto(`${app.url}#/models`);
    await expect.poll(() => page.getByTestId('agreement-1').textContent()).toBe('50% (1/2)');
    // The production version's days on the line: both inspections, the NG rate as a line.
    const days = page.getByTestId('production-ng-rate');
    await expect.poll(() => days.locator('circle[data-series="ng-rate"]').count()).toBe(1);

    // The QA engineer finds it in the review queue and adds it to the dataset with the operator's label.
    await page.goto(`${app.url}#/annotate`);
    await page.getByRole('button', { name: 'Review queue' }).click();
    const queue = page.getByRole('list', { name: 'Review queue' });
    await expect.poll(() => queue.getByRole('listitem').count()).toBe(1);
    expect(await queue.getByRole('listitem').textContent()).toMatch(/part-clean\.png.*operator: blemish/);
    await expect.poll(() => queue.getByLabel('The part is').inputValue()).toBe('blemish');
    await app.screenshot('annotate-review-queue');
    await queue.getByRole('button', { name: 'Add to dataset' }).click();
    await expect.poll(() => queue.getByRole('listitem').count()).toBe(0);
    await page.getByRole('button', { name: 'Whole-image classes' }).click();
    await expect.poll(() => grid.getByRole('listitem').count()).toBe(17);

    // Retrained on the new snapshot, compared with production on the same split, promoted.
    await page.goto(`${app.url}#/training`);
    await form.getByLabel('Mode').selectOption('classify');
    await form.getByLabel('Epochs').fill('2');
    await form.getByLabel('Batch size').fill('4');
    await form.getByLabel('Device').selectOption('cpu');
    await form.getByRole('button', { name: 'Start training' }).click();
    await expect.poll(() => page.getByTestId('run-2').textContent(), { timeout: 30_000 }).toMatch(/Running|Finished/);
    await expect.poll(() => page.getByTestId('run-2').textContent(), { timeout: 240_000, interval: 1000 }).toMatch(/Finished.*#2/);
    await page.goto(`${app.url}#/models`);
    const comparison = page.getByLabel('Evaluate and compare versions');
    await comparison.getByLabel('Version A').selectOption('2');
    await comparison.getByLabel('Version B').selectOption('1');
    await comparison.getByLabel('Split').selectOption('val');
    await comparison.getByRole('button', { name: 'Evaluate', exact: true }).click();
    await expect.poll(() => page.getByRole('table', { name: 'Comparison' }).textContent(), { timeout: 60_000 }).toMatch(/Image AUROC\d\.\d{3}\d\.\d{3}/);
    await page.getByTestId('model-2').getByRole('button', { name: 'Promote to production' }).click();
    await expect.poll(() => page.getByTestId('model-2').textContent(), { timeout: 30_000 }).toMatch(/Production/);

    // The new production model suggests a class for every image; Enter takes the selected image's
    // suggestion, one button the suggestions of the rest still unlabelled.
    await page.goto(`${app.url}#/annotate`);
    await page.getByRole('button', { name: 'Whole-image classes' }).click();
    // A label given here before the suggestions arrive stays when the grid re-orders by uncertainty.
    await grid.getByTestId('grid-train/part-09.png').click();
    await page.keyboard.press('g');
    await expect.poll(() => grid.getByTestId('grid-train/part-09.png').getByTestId('grid-label').textContent()).toBe('Good');
    await page.getByRole('button', { name: 'Suggest classes with the production model' }).click();
    await expect.poll(() => grid.getByTestId('grid-suggestion').count(), { timeout: 60_000 }).toBe(17);
    expect(await grid.getByTestId('grid-train/part-09.png').getByTestId('grid-label').textContent()).toBe('Good');
    const suggestion = async (file: string): Promise<string> => (await grid.getByTestId(`grid-${file}`).getByTestId('grid-suggestion').textContent()) ?? '';
    for (const file of later) expect(['blemish', 'Good']).toContain(await suggestion(file));
    await grid.getByTestId('grid-train/part-10.png').click();
    await page.keyboard.press('Enter');
    await expect.poll(() => grid.getByTestId('grid-train/part-10.png').getByTestId('grid-label').textContent()).toBe(await suggestion('train/part-10.png'));
    await page.getByRole('button', { name: 'Take the suggestion for 1 unlabelled image' }).click();
    await expect.poll(() => grid.getByTestId('grid-train/part-11.png').getByTestId('grid-label').textContent()).toBe(await suggestion('train/part-11.png'));
    await app.screenshot('annotate-class-suggestions');
    expect(app.consoleErrors).toEqual([]);
  }, 600_000);
});
