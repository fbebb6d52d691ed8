import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir, writeManifestDataset } from '../../test-support/fixtures.ts';
import { latestSchemaVersion } from '../store/migrations.ts';
import { apiMethods } from './schemas.ts';
import { CallerSession } from './roles.ts';
import { ArgusService } from './service.ts';
import { dispatch } from './dispatch.ts';

const caller = new CallerSession();

describe('API boundary', () => {
  let dir: { path: string; cleanup(): void };
  let service: ArgusService;
  beforeEach(() => {
    dir = tempDir();
    service = new ArgusService({ dataDir: dir.path, actor: 'qa' });
  });
  afterEach(async () => {
    await service.close();
    dir.cleanup();
  });

  it('runs valid calls and returns typed results', async () => {
    const created = await dispatch(service, caller, 'createProject', { name: 'Line 3', classes: [{ name: 'scratch', color: '#ff0000' }] });
    expect(created).toMatchObject({ ok: true, value: { name: 'Line 3', classes: [{ index: 1, name: 'scratch', color: '#ff0000' }] } });
    // The error carries its message key and parameters for a user interface to say it in the user's language.
    expect(await dispatch(service, caller, 'createProject', { name: 'Line 3' })).toEqual({
      ok: false, error: { code: 'conflict', message: 'A project named "Line 3" already exists', text: { key: 'projectExists', params: { name: 'Line 3' } } },
    });
    expect(await dispatch(service, caller, 'getDataset', { datasetId: 99 })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const info = await dispatch(service, caller, 'getInfo', undefined);
    expect(info).toMatchObject({ ok: true, value: { dataDir: dir.path, schemaVersion: latestSchemaVersion, version: '0.1.0', backbone: { source: 'bundled', bytes: 51_459_032 } } });
  });

  it('refuses an annotation document of a format version this station does not know', async () => {
    const future = await dispatch(service, caller, 'saveImageAnnotations', { schemaVersion: 2, datasetId: 1, imageId: 1, annotations: [] });
    expect(future).toMatchObject({ ok: false, error: { code: 'invalid_argument', message: expect.stringMatching(/annotation documents of version 1/) } });
  });

  it('runs an import job with progress events and records it in the audit log', async () => {
    const data = tempDir();
    try {
      await writeManifestDataset(data.path, 2, 2);
      const events: string[] = [];
      service.onEvent(({ job }) => events.push(`${job.state}:${job.phase}`));
      const started = await dispatch(service, caller, 'importDataset', { path: data.path, projectName: 'Line 3' });
      expect(started.ok).toBe(true);
      const job = await service.jobs.wait((started as { value: { id: string } }).value.id);
      expect(job).toMatchObject({ state: 'succeeded', result: { images: 4, imagesAdded: 4 } });
      expect(events[0]).toBe('running:starting');
      expect(events).toContain('running:reading');
      expect(events.at(-1)).toBe('succeeded:saving');
      expect((await service.listAuditLog({}))[0]).toMatchObject({ actor: 'qa (QA engineer)', action: 'dataset.import' });
    } finally {
      data.cleanup();
    }
  });

  it('a failed import job reports the error and leaves nothing behind', async () => {
    const started = await service.importDataset({ path: '/nonexistent/folder' });
    const job = await service.jobs.wait(started.id);
    expect(job).toMatchObject({ state: 'failed', error: { code: 'not_found', message: 'No such file or folder: /nonexistent/folder' } });
  });

  it('survives malformed arguments thrown at every method', async () => {
    const junk: unknown[] = [
      null, 42, 'x', [], [1, 2], true, { __proto__: { polluted: 1 } }, { datasetId: -1 }, { datasetId: 1.5 }, { datasetId: '1' },
      { name: '' }, { name: 'x'.repeat(5000) }, { path: 7 }, { jobId: 'not-a-uuid' }, { limit: 1e9 }, { offset: -3 },
      { verdict: 'MAYBE' }, { from: 'yesterday' }, { extra: 1 }, { classes: [{ name: 'a', color: 'red' }] },
      JSON.parse('{"constructor": {"prototype": {"x": 1}}}'),
    ];
    for (const method of [...apiMethods, 'constructor', '__proto__', 'close', 'readImage', 'toString']) {
      for (const input of junk) {
        const result = await dispatch(service, caller, method, input);
        if (!result.ok) expect(result.error.code, `${method} ${JSON.stringify(input)}`).toMatch(/invalid_argument|not_found|bad_input/);
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await dispatch(service, caller, 'listProjects', undefined)).ok).toBe(true);
  });
});
