import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeManifestDataset } from '../test-support/fixtures.ts';
import { type RunningApp, startApp } from './support/app.ts';

describe('Datasets workspace (browser mode, Chromium)', () => {
  let app: RunningApp;
  const dataset = tempDir('argus-e2e-dataset-');
  beforeAll(async () => {
    await writeManifestDataset(join(dataset.path, 'line-7'), 6, 6, { width: 320, height: 180 });
    app = await startApp();
  });
  afterAll(async () => {
    await app?.stop();
    dataset.cleanup();
  });

  it('imports a dataset through the UI and shows it with its thumbnails', async () => {
    const { page } = app;
    await page.goto(app.url);
    await page.getByText('No datasets yet').waitFor();
    await app.screenshot('datasets-empty');

    await page.getByRole('button', { name: 'Import dataset' }).click();
    await page.getByLabel('Folder or COCO file on this station').fill(join(dataset.path, 'line-7'));
    await page.getByLabel('Project (optional)').fill('Line 7');
    await page.getByRole('dialog').getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByText(/Imported 12 images \(12 new, 18 new annotations\)/).waitFor();
    await app.screenshot('datasets-import-done');
    await page.getByRole('button', { name: 'Close' }).click();

    await page.getByRole('button', { name: /line-test.*Line 7 · 12 images/ }).waitFor();
    const thumbnails = page.getByTestId('thumbnail');
    await expect.poll(() => thumbnails.count()).toBe(12);
    // Every thumbnail image actually loaded (served by the engine, allowed by the CSP).
    await expect.poll(() => page.locator('[data-testid=thumbnail] img').evaluateAll((imgs) => imgs.filter((i) => (i as unknown as { naturalWidth: number }).naturalWidth > 0).length)).toBe(12);
    await expect.poll(() => page.getByText('Train 4', { exact: true }).count()).toBe(1);

    // Export writes a manifest folder that can be imported elsewhere.
    const exportForm = page.getByRole('form', { name: 'Export dataset' });
    await exportForm.getByLabel('Export to a new folder').fill(join(dataset.path, 'exported'));
    await exportForm.getByRole('button', { name: 'Export' }).click();
    await exportForm.getByRole('status').filter({ hasText: /Exported 12 images \(6 label masks\)/ }).waitFor();
    expect(existsSync(join(dataset.path, 'exported', 'manifest.json'))).toBe(true);
    // And as COCO JSON, pixel labels as RLE masks.
    await exportForm.getByLabel('Export to a new folder').fill(join(dataset.path, 'exported-coco'));
    await exportForm.getByLabel('Format').selectOption('coco');
    await exportForm.getByRole('button', { name: 'Export' }).click();
    await exportForm.getByRole('status').filter({ hasText: /Exported 12 images \(6 RLE masks\) as COCO JSON/ }).waitFor();
    const coco = JSON.parse(readFileSync(join(dataset.path, 'exported-coco', 'annotations.json'), 'utf8'));
    expect(coco.images).toHaveLength(12);
    expect(coco.annotations.filter((a: { segmentation?: unknown }) => a.segmentation)).toHaveLength(6);

    // Each check waits until the grid shows the results of the filter just chosen (its data-filter),
    // never a count that the previous filter's results happen to share.
    const grid = page.locator('ul.thumb-grid');
    const showing = async (filter: string | RegExp): Promise<void> => {
      await expect.poll(() => grid.getAttribute('data-filter')).toMatch(typeof filter === 'string' ? new RegExp(`^${filter}$`) : filter);
    };
    await page.getByLabel('Label').selectOption('defect');
    await showing('label=defect');
    expect(await thumbnails.count()).toBe(6);
    await page.getByLabel('Label').selectOption('');
    await page.getByLabel('Class').selectOption({ label: 'scratch' });
    await showing(/^class=\d+$/);
    expect(await thumbnails.count()).toBe(6);
    await page.getByLabel('Class').selectOption('');
    await page.getByLabel('Defects drawn').selectOption('no');
    await showing('annotated=no');
    expect(await thumbnails.count()).toBe(6);
    await page.getByLabel('Defects drawn').selectOption('');
    // The manifest names each image's station: filter by it, alone and with the label.
    await page.getByLabel('Camera group').selectOption({ label: 'station-2 (6)' });
    await showing('group=station-2');
    expect(await thumbnails.count()).toBe(6);
    expect(await page.getByTestId('thumbnail').locator('.thumb-name').evaluateAll((els) => els.every((e) => e.getAttribute('title')?.endsWith(' · station-2')))).toBe(true);
    await page.getByLabel('Label').selectOption('defect');
    await showing('label=defect group=station-2');
    expect(await thumbnails.count()).toBe(3);
    await page.getByLabel('Camera group').selectOption('');
    await page.getByLabel('Label').selectOption('defect');
    await showing('label=defect');
    expect(await thumbnails.count()).toBe(6);
    await expect.poll(() => page.getByText('2 regions').count()).toBe(6);
    const shot = await app.screenshot('datasets-browse');
    expect(shot).toMatch(/test-results\/e2e\/datasets-browse\.png$/);
  });

  it('shows a clear error for a folder that cannot be imported', async () => {
    const { page } = app;
    await page.getByRole('button', { name: 'Import dataset' }).click();
    await page.getByLabel('Folder or COCO file on this station').fill('/no/such/folder');
    await page.getByRole('dialog').getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'There is no file or folder /no/such/folder.' }).waitFor();
    await page.getByRole('button', { name: 'Close' }).click();
  });

  it('imports a folder uploaded from this computer, labels and masks included, and keeps no upload copy', async () => {
    const { page } = app;
    await page.getByRole('button', { name: 'Import dataset' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByTestId('import-folder').setInputFiles(join(dataset.path, 'line-7'));
    await dialog.getByRole('status').filter({ hasText: /^\d+ files to upload$/ }).waitFor();
    await dialog.getByLabel('Project (optional)').fill('Uploaded');
    await dialog.getByLabel('Dataset name (optional)').fill('line-7 uploaded');
    await dialog.getByRole('button', { name: 'Import', exact: true }).click();
    await dialog.getByText(/Imported 12 images \(12 new, 18 new annotations\)/).waitFor();
    await app.screenshot('datasets-import-uploaded');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('button', { name: /line-7 uploaded.*Uploaded · 12 images/ }).click();
    await page.getByText('uploaded: line-7 (19 files)').waitFor();
    expect(readdirSync(join(app.dataDir, 'uploads')).filter((f) => f.startsWith('dataset-'))).toEqual([]);
    expect(readdirSync(join(app.dataDir, 'uploads', 'staged'))).toEqual([]);
  });

  it('switches the interface to Simplified Chinese and records the import in the audit log', async () => {
    const { page } = app;
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('cell', { name: 'dataset.import' }).first().waitFor();
    await page.getByText('0.1.0', { exact: true }).waitFor(); // the version, read by the built app
    await page.getByLabel('Language').selectOption('zh-CN');
    await page.getByRole('link', { name: '数据集' }).waitFor();
    await app.screenshot('settings-zh-CN');
    await page.getByRole('link', { name: '数据集' }).click();
    await page.getByRole('button', { name: '导入数据集' }).waitFor();
    await app.screenshot('datasets-zh-CN');
    // <html lang> follows the chosen language, also when the app starts with it.
    const htmlLang = (): Promise<string> => page.evaluate(() => (globalThis as unknown as { document: { documentElement: { lang: string } } }).document.documentElement.lang);
    expect(await htmlLang()).toBe('zh-CN');
    await page.reload();
    await page.getByRole('button', { name: '导入数据集' }).waitFor();
    expect(await htmlLang()).toBe('zh-CN');
    // An engine error comes with its key and parameters and is said in the chosen language.
    await page.getByRole('link', { name: '数据集' }).click();
    await page.getByRole('button', { name: '导入数据集' }).first().click();
    await page.getByLabel('本工位上的文件夹或 COCO 文件').fill('/no/such/folder');
    await page.getByRole('dialog').getByRole('button', { name: '导入', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: '文件或文件夹 /no/such/folder 不存在。' }).waitFor();
    await page.getByRole('dialog').getByRole('button', { name: '关闭' }).click();
    await page.getByRole('link', { name: '检测' }).click();
    await page.getByLabel('本工位上的图像或文件夹（每行一个）').fill('/no/such/folder');
    await page.getByRole('button', { name: '使用生产模型检测' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('尚无生产模型：请先在模型页将一个版本设为生产模型。');
    // The engine answers "not found" with HTTP 404, which Chromium reports on the console; nothing else may appear.
    expect(app.consoleErrors.filter((e) => !/status of 404/.test(e))).toEqual([]);
  });
});
