import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArgusService } from '../app/service.ts';
import { tempDir, writeManifestDataset } from '../../test-support/fixtures.ts';
import { csvCell, inspectionsToCsv } from '../common/csv-export.ts';

const REPO = join(import.meta.dirname, '../..');
const run = (args: string[], env: Record<string, string> = {}) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', ...args], { cwd: REPO, env: { ...process.env, ...env } })
    .then((r) => ({ code: 0, ...r }), (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }));

describe('argus CLI', () => {
  let data: { path: string; cleanup(): void };
  let dataset: { path: string; cleanup(): void };
  beforeEach(() => {
    data = tempDir();
    dataset = tempDir();
  });
  afterEach(() => {
    data.cleanup();
    dataset.cleanup();
  });

  it('creates projects, imports and lists datasets, with --json for scripts', async () => {
    await writeManifestDataset(dataset.path, 2, 2);
    expect((await run(['project', 'create', 'Line 7', '--classes', 'scratch,dent', '--data-dir', data.path])).stdout).toMatch(/Created project 1 "Line 7"/);
    const imported = await run(['dataset', 'import', dataset.path, '--project', 'Line 7', '--name', 'week 12', '--json', '--data-dir', data.path]);
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ datasetId: 1, projectId: 1, images: 4, imagesAdded: 4 });
    expect(imported.stderr).toMatch(/reading 100%/);
    // ARGUS_DATA_DIR works as --data-dir does.
    const listed = JSON.parse((await run(['dataset', 'list', '--json'], { ARGUS_DATA_DIR: data.path })).stdout);
    expect(listed).toMatchObject([{ name: 'week 12', projectName: 'Line 7', counts: { total: 4, good: 2, defect: 2 } }]);
    const shown = await run(['dataset', 'show', 'week 12', '--data-dir', data.path]);
    expect(shown.stdout).toMatch(/4 images \(train 2 \/ val 2 \/ test 0; good 2, defect 2, unlabelled 0\)/);
    expect(shown.stdout).toMatch(/Groups: station-1 \(2\), station-2 \(2\)/);
    const atStation = await run(['dataset', 'show', 'week 12', '--group', 'station-2', '--data-dir', data.path]);
    expect(atStation.stdout.split('\n').filter((l) => l.includes('station-2') && l.includes('.png'))).toHaveLength(2);
    expect(atStation.stdout).not.toMatch(/station-1 .*\.png|\.png.*station-1/);
    const projects = JSON.parse((await run(['project', 'list', '--json', '--data-dir', data.path])).stdout);
    expect(projects[0].classes.map((c: { name: string }) => c.name)).toEqual(['scratch', 'dent']);
  });

  it('fails with one line and a non-zero exit code', async () => {
    const missing = await run(['dataset', 'import', '/no/such/dir', '--data-dir', data.path]);
    expect(missing).toMatchObject({ code: 1, stderr: 'argus: No such file or folder: /no/such/dir\n' });
    const version = await run(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(`argus ${JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')).version}`);
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
    const badFlag = await run(['dataset', 'list', '--bogus', '--data-dir', data.path]);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exports the inspection history as CSV and JSON', async () => {
    const service = new ArgusService({ dataDir: data.path });
    service.store.history.record({ imageId: null, sourcePath: '/line/a,"b".png', modelVersionId: null, verdict: 'NG', score: 0.91, regions: [{ box: [1, 2, 3, 4] }], thresholds: {}, timings: {}, error: null, operator: 'op1' });
    await service.close();
    const csv = await run(['history', 'export', '--format', 'csv', '--data-dir', data.path]);
    // UTF-8 with a byte order mark, so Excel (a Chinese Windows PC too) reads it as UTF-8.
    expect(csv.stdout.startsWith('\uFEFFid,')).toBe(true);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('id,createdAt,sourcePath,imageSha256,modelVersionId,verdict,score,regions,error,operator');
    expect(lines[1]).toMatch(/^1,\d{4}-.*Z,"\/line\/a,""b"".png",,,NG,0\.91,"\[{""box"":\[1,2,3,4\]}\]",,op1$/);
    const json = JSON.parse((await run(['history', 'export', '--format', 'json', '--data-dir', data.path])).stdout);
    expect(json[0]).toMatchObject({ verdict: 'NG', score: 0.91, operator: 'op1' });
    expect(inspectionsToCsv([])).toBe('\uFEFFid,createdAt,sourcePath,imageSha256,modelVersionId,verdict,score,regions,error,operator\n');
  });

  it('keeps cells a spreadsheet would run as formulas as text, and numbers as numbers', () => {
    expect(csvCell('=HYPERLINK("http://x","open")')).toBe('"\'=HYPERLINK(""http://x"",""open"")"');
    for (const text of ['+1+1', '-2+3', '@SUM(A1)', '\tcmd', '\rcmd']) expect(csvCell(text).replace(/^"/, '')).toMatch(/^'/);
    expect(csvCell(-0.25)).toBe('-0.25');
    expect(csvCell('line-3/part.png')).toBe('line-3/part.png');
    expect(csvCell('操作员 王')).toBe('操作员 王');
  });
});
