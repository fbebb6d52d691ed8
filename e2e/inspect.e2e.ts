import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { unzipSync, zipSync } from 'fflate';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasShared, pngOf, SHARED_WEIGHTS, speckledTexture, tempDir, texture, writeFile } from '../test-support/fixtures.ts';
import { cli, type RunningApp, startApp } from './support/app.ts';

const W = 320, H = 160;

/** Operator flow: a trained production model, a folder of parts, inspect, review the rejected part. */
describe.skipIf(!hasShared)('Inspect workspace (browser mode, Chromium)', () => {
  let app: RunningApp;
  const work = tempDir('argus-e2e-inspect-');

  beforeAll(async () => {
    const samples: unknown[] = [];
    for (let i = 0; i < 8; i++) {
      writeFile(join(work.path, 'ds', `g${i}.png`), await pngOf(texture(W, H, i), W, H));
      samples.push({ file: `g${i}.png`, split: i < 6 ? 'train' : 'val', label: 'good' });
    }
    writeFile(join(work.path, 'ds', 'manifest.json'), JSON.stringify({ name: 'line-7', classes: { 1: 'dent' }, samples }));
    writeFile(join(work.path, 'incoming', 'part-001.png'), await pngOf(texture(W, H, 101), W, H));
    writeFile(join(work.path, 'incoming', 'part-002.png'), await pngOf(texture(W, H, 102, { x: 210, y: 90, r: 9 }), W, H));
    writeFile(join(work.path, 'incoming', 'part-003.png'), await pngOf(texture(W, H, 103), W, H));
    app = await startApp(async (dataDir) => {
      const trained = JSON.parse(await cli(dataDir, 'train', '--mode', 'anomaly', '--dataset', join(work.path, 'ds'), '--weights', SHARED_WEIGHTS, '--device', 'cpu', '--input', `${W}x${H}`, '--coreset', '300', '--json'));
      await cli(dataDir, 'model', 'promote', String(trained.id));
      // A second version, left a candidate, for the Models page.
      await cli(dataDir, 'train', '--mode', 'anomaly', '--dataset', 'line-7', '--device', 'cpu', '--input', `${W}x${H}`, '--coreset', '200', '--name', 'line-7 small bank');
    });
  });
  afterAll(async () => {
    await app?.stop();
    work.cleanup();
  });

  it('inspects a folder and shows the rejected part with its heatmap and region', async () => {
    const { page } = app;
    await page.goto(`${app.url}#/inspect`);
    await page.getByLabel('Images or folders on this station (one per line)').fill(join(work.path, 'incoming'));
    await page.getByRole('button', { name: 'Inspect with production model' }).click();
    await page.getByTestId('inspection-viewer').waitFor();
    await expect.poll(() => page.getByRole('list', { name: 'Results' }).getByRole('button').count()).toBe(3);
    // The first rejected part opens: a large NG verdict, its file, one region, the heatmap drawn.
    await expect.poll(() => page.getByTestId('verdict').textContent()).toMatch(/^NG/);
    await page.getByText(join(work.path, 'incoming', 'part-002.png')).waitFor();
    await expect.poll(() => page.getByTestId('heatmap-overlay').getAttribute('data-ready')).toBe('yes');
    // The overlay really paints the defect: opaque red pixels around the blemish.
    const painted = await page.getByTestId('heatmap-overlay').evaluate((c) => {
      const canvas = c as unknown as { getContext(k: string): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
      const d = canvas.getContext('2d').getImageData(200, 80, 20, 20).data;
      let count = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] === 255 && d[i + 3] > 100) count++;
      return count;
    });
    expect(painted).toBeGreaterThan(20);
    expect(await page.locator('.viewer table tbody tr').count()).toBeGreaterThanOrEqual(1);
    await app.screenshot('inspect-ng');

    // Zoom into the defect with the wheel: pixels magnified, not smoothed; 0 fits again.
    const stage = page.getByTestId('zoom-stage');
    const area = (await stage.boundingBox())!;
    await page.mouse.move(area.x + area.width * 0.66, area.y + area.height * 0.56);
    for (let i = 0; i < 4; i++) await page.mouse.wheel(0, -400);
    await expect.poll(async () => Number(await stage.getAttribute('data-zoom'))).toBeGreaterThan(4);
    expect(await stage.locator('.stage-content.pixelated').count()).toBe(1);
    await app.screenshot('inspect-zoomed');
    await page.keyboard.press('0');
    await expect.poll(() => stage.getAttribute('data-zoom')).toBe('1.00');

    // Moving the region threshold re-derives the regions live from the stored heatmap.
    const regionArea = async () => (await page.locator('.viewer table tbody tr td:nth-child(4)').allTextContents()).reduce((sum, a) => sum + Number(a), 0);
    const recorded = await regionArea();
    const setSlider = (name: string, value: number) =>
      page.getByRole('slider', { name }).evaluate((el, v) => {
        const input = el as unknown as { value: string; dispatchEvent(e: unknown): void };
        const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(input), 'value')!.set!;
        setter.call(input, String(v));
        input.dispatchEvent(new (globalThis as unknown as { Event: new (t: string, o: object) => unknown }).Event('input', { bubbles: true }));
      }, value);
    await setSlider('Region threshold', 0.9);
    await page.getByTestId('preview').waitFor();
    expect(Number((await page.getByTestId('region-count').textContent())!.match(/\d+/)![0])).toBeGreaterThanOrEqual(1);
    const strict = await regionArea();
    expect(strict).toBeGreaterThan(0);
    expect(strict).toBeLessThan(recorded);
    await setSlider('Region threshold', 0.5);
    await expect.poll(() => page.getByTestId('preview').count()).toBe(0);

    // A QA engineer (this station has no PIN yet) makes a what-if NG threshold the model's own.
    await setSlider('NG threshold', 0.6);
    await page.getByRole('button', { name: 'Apply to model #1' }).click();
    await page.getByRole('button', { name: 'Apply', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Model #1 now uses these thresholds for new inspections' }).waitFor();
    await expect.poll(() => page.getByTestId('preview').count()).toBe(0);

    await page.keyboard.press('ArrowUp');
    await expect.poll(() => page.getByTestId('verdict').textContent()).toMatch(/^OK/);
    await app.screenshot('inspect-ok');

    await page.getByRole('link', { name: 'History' }).click();
    await page.getByRole('cell', { name: join(work.path, 'incoming', 'part-002.png') }).click();
    await expect.poll(() => page.getByTestId('verdict').textContent()).toMatch(/^NG/);
    await app.screenshot('history-open');

    // Daily counts with the NG rate, a verdict filter, and the filtered list exported as CSV.
    const chart = page.getByRole('figure', { name: 'Inspections per day' });
    await expect.poll(() => chart.locator('rect[data-verdict="NG"]').count()).toBe(1);
    await expect.poll(() => chart.locator('circle[data-series="ng-rate"]').count()).toBe(1);
    await chart.locator('rect[data-verdict="NG"]').hover();
    await expect.poll(() => chart.locator('.recharts-tooltip-wrapper').textContent()).toMatch(/NG\s*:\s*1.*NG rate\s*:\s*\d+\.\d %/);
    await page.getByRole('search', { name: 'Filters' }).getByLabel('Verdict').selectOption('NG');
    await expect.poll(() => page.getByTestId('history-count').textContent()).toBe('1–1 of 1 inspections');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const text = readFileSync((await download.path())!, 'utf8');
    expect(text.startsWith('\uFEFF')).toBe(true);
    const csv = text.trim().split('\n');
    expect(csv[0]).toBe('id,createdAt,sourcePath,imageSha256,modelVersionId,verdict,score,regions,error,operator');
    expect(csv).toHaveLength(2);
    expect(csv[1]).toContain('part-002.png');
    await app.screenshot('history-filtered');
    expect(app.consoleErrors).toEqual([]);
  });

  it('promotes a candidate and rolls production back from the Models page', async () => {
    const { page } = app;
    await page.getByRole('link', { name: 'Models' }).click();
    const status = (id: number) => page.getByTestId(`model-${id}`).locator('.chip').textContent();
    await expect.poll(() => status(1)).toBe('Production');
    await expect.poll(() => status(2)).toBe('Candidate');
    // Validation holds no defects: the plain recipe, and the row says why on hover.
    await expect.poll(() => page.getByTestId('preprocessing-1').textContent()).toBe('raw colour · raw heatmap');
    await expect.poll(() => page.getByTestId('preprocessing-1').getAttribute('title')).toMatch(/^the plain recipe: validation holds fewer than 5/);
    await page.getByTestId('model-2').getByRole('button', { name: 'Promote to production' }).click();
    await expect.poll(() => status(2)).toBe('Production');
    await expect.poll(() => status(1)).toBe('Retired');
    await app.screenshot('models-promoted');
    await page.getByRole('button', { name: 'Roll back production' }).click();
    await expect.poll(() => status(1)).toBe('Production');
    await expect.poll(() => status(2)).toBe('Retired');
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('cell', { name: 'model.rollback' }).waitFor();
    await page.getByRole('cell', { name: 'model.thresholds' }).waitFor();
    await page.getByRole('cell', { name: 'model.promote' }).first().waitFor();
    expect(app.consoleErrors).toEqual([]);
  });

  it('watches a hot folder from the Inspect page: a part written into it is inspected and shown, then the watch stops', async () => {
    const { page } = app;
    const hot = join(work.path, 'hot');
    writeFile(join(hot, '.keep'), '');
    await page.getByRole('link', { name: 'Inspect' }).click();
    const card = page.getByRole('form', { name: 'Hot folder' });
    await card.getByLabel('Folder the camera writes to').fill(hot);
    await card.getByRole('button', { name: 'Start watching' }).click();
    await expect.poll(() => page.getByTestId('hot-status').textContent()).toMatch(/Watching with the production model · 0 inspected/);
    writeFile(join(hot, 'line', 'part-009.png'), await pngOf(texture(W, H, 109, { x: 80, y: 60, r: 10 }), W, H));
    const latest = page.getByRole('list', { name: 'Latest hot-folder results' });
    await expect.poll(() => latest.textContent(), { timeout: 30_000 }).toMatch(/(NG|REVIEW)part-009\.png/);
    await latest.getByRole('button', { name: /part-009\.png/ }).click();
    await expect.poll(() => page.getByTestId('verdict').textContent()).toMatch(/^(NG|REVIEW)/);
    await app.screenshot('inspect-hot-folder');
    await card.getByRole('button', { name: 'Stop watching' }).click();
    await expect.poll(() => page.getByTestId('hot-status').textContent()).toMatch(/Stopped · 1 inspected/);
    expect(app.consoleErrors).toEqual([]);
  });

  it('inspects images chosen with the file picker or dropped on the page; uploads stay inside the data directory', async () => {
    const { page } = app;
    await page.getByRole('link', { name: 'Inspect' }).click();
    await page.getByLabel('Choose images to inspect').setInputFiles([join(work.path, 'incoming', 'part-001.png'), join(work.path, 'incoming', 'part-002.png')]);
    const list = page.getByRole('list', { name: 'Results', exact: true });
    await expect.poll(() => list.textContent(), { timeout: 60_000 }).toMatch(/OKpart-001\.png.*NGpart-002\.png/);

    const bytes = readFileSync(join(work.path, 'incoming', 'part-003.png')).toString('base64');
    const transfer = await page.evaluateHandle((b64) => {
      const browser = globalThis as unknown as {
        DataTransfer: new () => { items: { add(file: unknown): void } };
        File: new (parts: unknown[], name: string, options: object) => unknown;
      };
      const dt = new browser.DataTransfer();
      dt.items.add(new browser.File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], '../../escape.png', { type: 'image/png' }));
      return dt;
    }, bytes);
    await page.getByTestId('drop-zone').dispatchEvent('drop', { dataTransfer: transfer });
    await expect.poll(() => list.textContent(), { timeout: 60_000 }).toMatch(/^OKescape\.png/);
    // Each batch in a folder of its own; the files were streamed to uploads/staged first and all taken from there.
    const uploads = readdirSync(join(app.dataDir, 'uploads')).filter((name) => name !== 'staged');
    expect(uploads).toHaveLength(2);
    expect(readdirSync(join(app.dataDir, 'uploads', 'staged'))).toEqual([]);
    expect(readdirSync(join(app.dataDir, 'uploads', uploads.sort()[1]))).toEqual(['escape.png']);
    expect(existsSync(join(app.dataDir, '..', 'escape.png'))).toBe(false);
    await app.screenshot('inspect-uploaded');
    expect(app.consoleErrors).toEqual([]);
  });

  it('adapts the model to a second camera from the Models page, and inspects with that camera\'s thresholds', async () => {
    const { page } = app;
    const frames = [0, 1, 2].map((i) => join(work.path, 'camera-2', `good-${i}.png`));
    for (const [i, file] of frames.entries()) writeFile(file, await pngOf(speckledTexture(W, H, 300 + i), W, H));
    writeFile(join(work.path, 'camera-2-line', 'part-201.png'), await pngOf(speckledTexture(W, H, 401), W, H));
    await page.getByRole('link', { name: 'Models' }).click();
    const form = page.getByRole('form', { name: 'Adapt to a station or camera' });
    await form.getByLabel('Station or camera').fill('camera-2');
    await form.getByLabel('or choose good frames').setInputFiles(frames);
    await form.getByRole('button', { name: 'Adapt' }).click();
    await expect.poll(() => page.getByTestId('adapt-result').textContent(), { timeout: 60_000 }).toMatch(/Model 3 knows "camera-2" from 3 good frames/);
    await expect.poll(() => page.getByTestId('groups-3').textContent()).toBe('Groups: camera-2');
    await app.screenshot('models-adapted');
    await page.getByTestId('model-3').getByRole('button', { name: 'Promote to production' }).click();
    await expect.poll(() => page.getByTestId('model-3').locator('.chip').textContent()).toBe('Production');

    await page.getByRole('link', { name: 'Inspect' }).click();
    await page.getByTestId('inspect-group').selectOption('camera-2');
    await page.getByLabel('Images or folders on this station (one per line)').fill(join(work.path, 'camera-2-line'));
    await page.getByRole('button', { name: 'Inspect with production model' }).click();
    await expect.poll(() => page.getByTestId('judged-group').textContent(), { timeout: 60_000 }).toBe('Station or camera: camera-2');
    await expect.poll(() => page.getByTestId('verdict').textContent()).toMatch(/^OK/);
    expect(readdirSync(join(app.dataDir, 'uploads', 'staged'))).toEqual([]);
    expect(app.consoleErrors).toEqual([]);
  });

  it('moves a version between stations: exported as a package from the Models page, imported on another station', async () => {
    const { page } = app;
    await page.goto(`${app.url}#/models`);
    const card = page.getByRole('region', { name: 'Move a version to another station' });
    await card.getByLabel('Model version').selectOption('1');
    const [download] = await Promise.all([page.waitForEvent('download'), card.getByRole('button', { name: 'Export package' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^argus-model-1-.*\.argus$/);
    await expect.poll(() => card.getByTestId('package-exported').textContent()).toMatch(/Exported argus-model-1-.*\.argus \(\d+\.\d MB\)/);
    const file = join(work.path, download.suggestedFilename());
    await download.saveAs(file);
    const manifest = JSON.parse(new TextDecoder().decode(unzipSync(readFileSync(file))['manifest.json']));
    expect(manifest).toMatchObject({ format: 'argus-model-package', model: { name: expect.any(String), mode: 'anomaly' }, lineage: { modelId: 1 } });

    // The same version again is refused (it is here already); a package from another station's project is added as a candidate.
    await card.getByTestId('package-file').setInputFiles(file);
    await card.getByRole('button', { name: 'Import package' }).click();
    await expect.poll(() => card.getByRole('alert').textContent()).toBe('This model is already on this station as version 1.');
    const entries = unzipSync(readFileSync(file));
    entries['manifest.json'] = new TextEncoder().encode(JSON.stringify({ ...manifest, lineage: { ...manifest.lineage, station: 'line-9-pc', project: { name: 'Line 9', classes: [] } } }));
    const other = join(work.path, 'from-line-9.argus');
    writeFileSync(other, zipSync(entries));
    await card.getByTestId('package-file').setInputFiles(other);
    await card.getByRole('button', { name: 'Import package' }).click();
    await expect.poll(() => card.getByTestId('package-imported').textContent()).toMatch(/^Imported as candidate #\d+ .* \(from line-9-pc\)\.$/);
    const id = /#(\d+)/.exec((await card.getByTestId('package-imported').textContent())!)![1];
    await expect.poll(() => page.getByTestId(`model-${id}`).textContent()).toMatch(/Candidate/);
    await app.screenshot('models-package');

    // The downloaded file is a whole station-independent package: a fresh station imports it.
    const fresh = tempDir('argus-e2e-station-b-');
    try {
      expect(JSON.parse(await cli(fresh.path, 'model', 'import', file, '--json'))).toMatchObject({ id: 1, status: 'candidate', mode: 'anomaly' });
    } finally {
      fresh.cleanup();
    }
    expect(app.consoleErrors.filter((e) => !/status of 409/.test(e))).toEqual([]);
  });

  it('shows the line station on the Inspect page, and a QA engineer turns its Modbus TCP server on', async () => {
    const { page } = app;
    await page.goto(`${app.url}#/inspect`);
    const card = page.getByRole('region', { name: 'Line' });
    await expect.poll(() => card.getByTestId('line-status').textContent()).toMatch(/OPC UA server: off.*Modbus TCP server: off.*MQTT results: off.*HTTP inspect endpoint: POST http:\/\/127\.0\.0\.1:\d+\/inspect/);
    await card.getByRole('button', { name: 'Configure the line' }).click();
    const form = card.getByRole('form', { name: 'Configure the line' });
    await form.getByLabel('Modbus TCP server').check();
    const port = String(20000 + (process.pid % 20000));
    await form.getByLabel('Port').nth(1).fill(port);
    await form.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => card.getByTestId('line-status').textContent()).toMatch(new RegExp(`Modbus TCP server: 127\\.0\\.0\\.1:${port}`));
    await expect.poll(() => card.getByTestId('line-handshake').textContent()).toMatch(/PLC handshake: ready/);
    await app.screenshot('inspect-line');
    // Turned off again, so the port is free when the test run ends.
    await card.getByRole('button', { name: 'Configure the line' }).click();
    await form.getByLabel('Modbus TCP server').uncheck();
    await form.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => card.getByTestId('line-status').textContent()).toMatch(/Modbus TCP server: off/);
  });
});
