import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../testing/fixtures.ts';
import { CallerSession, ENGINEER_METHODS } from './roles.ts';
import { ArgusService, dispatch } from './service.ts';

describe('roles: operator and QA engineer with a PIN', () => {
  const dir = tempDir();
  let service: ArgusService;
  beforeAll(() => {
    service = new ArgusService({ dataDir: dir.path, actor: 'station-4' });
  });
  afterAll(async () => {
    await service.close();
    dir.cleanup();
  });

  it('a fresh station without a PIN lets every caller act as engineer; setting a PIN enforces roles', async () => {
    const first = new CallerSession();
    expect(await dispatch(service, first, 'getSession', undefined)).toEqual({ ok: true, value: { role: 'engineer', pinSet: false } });
    expect(await dispatch(service, first, 'createProject', { name: 'Line 1' })).toMatchObject({ ok: true });
    expect(await dispatch(service, first, 'setEngineerPin', { pin: '12ab' })).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    expect(await dispatch(service, first, 'setEngineerPin', { pin: '2468' })).toEqual({ ok: true, value: { role: 'engineer', pinSet: true } });
    // Only a salted hash is stored.
    expect(JSON.stringify(service.store.settings.get('engineerPin'))).not.toContain('2468');

    const operator = new CallerSession();
    expect(await dispatch(service, operator, 'getSession', undefined)).toEqual({ ok: true, value: { role: 'operator', pinSet: true } });
    const attempts: [string, unknown][] = [
      ['createProject', { name: 'Line 2' }], ['promoteModel', { modelId: 1 }], ['rollbackModel', {}], ['trainModel', { mode: 'anomaly', datasetId: 1 }],
      ['importDataset', { path: '/tmp' }], ['saveImageAnnotations', { datasetId: 1, imageId: 1, annotations: [] }], ['setEngineerPin', { pin: '0000' }],
      ['importBackboneWeights', { path: '/tmp/w.safetensors' }],
    ];
    for (const [method, input] of attempts) {
      expect(await dispatch(service, operator, method, input), method).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    }
    expect(attempts.map(([m]) => m).every((m) => ENGINEER_METHODS.has(m as never))).toBe(true);
    // Viewing and inspecting stay open to operators.
    expect(await dispatch(service, operator, 'listModels', {})).toMatchObject({ ok: true });
    expect(await dispatch(service, operator, 'listProjects', undefined)).toMatchObject({ ok: true });
    expect(await dispatch(service, operator, 'inspectFiles', { model: 'production', paths: ['/tmp'] })).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('the right PIN unlocks one caller only; locking returns it to operator; guessing is slowed down', async () => {
    const engineer = new CallerSession();
    const other = new CallerSession();
    expect(await dispatch(service, engineer, 'unlockEngineer', { pin: '1357' })).toMatchObject({ ok: false, error: { code: 'forbidden', message: 'Wrong PIN' } });
    expect(await dispatch(service, engineer, 'unlockEngineer', { pin: '2468' })).toEqual({ ok: true, value: { role: 'engineer', pinSet: true } });
    expect(await dispatch(service, engineer, 'createProject', { name: 'Line 3' })).toMatchObject({ ok: true });
    expect(await dispatch(service, other, 'createProject', { name: 'Line 4' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await dispatch(service, engineer, 'lockEngineer', undefined)).toEqual({ ok: true, value: { role: 'operator', pinSet: true } });
    expect(await dispatch(service, engineer, 'createProject', { name: 'Line 5' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });

    for (let i = 0; i < 5; i++) await dispatch(service, other, 'unlockEngineer', { pin: String(1000 + i) });
    expect(await dispatch(service, other, 'unlockEngineer', { pin: '2468' })).toMatchObject({ ok: false, error: { code: 'forbidden', message: expect.stringMatching(/Too many wrong PINs/) } });
    const actions = (await service.listAuditLog({})).map((e) => e.action);
    expect(actions).toContain('role.pin-set');
    expect(actions).toContain('role.unlock');
    expect(actions.filter((a) => a === 'role.unlock-refused').length).toBe(6);
  });
});
