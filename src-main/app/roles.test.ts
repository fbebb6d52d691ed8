import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test-support/fixtures.ts';
import { CallerSession, ENGINEER_METHODS, hashPin, PinGuard, pinMatches } from './roles.ts';
import { ArgusService } from './service.ts';
import { dispatch } from './dispatch.ts';

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

    // Guesses sent in parallel, each from a fresh session (as a script would), are checked one at a
    // time and counted for the station: after three wrong ones even the right PIN must wait.
    const guesses = await Promise.all(Array.from({ length: 20 }, (_, i) => dispatch(service, new CallerSession(), 'unlockEngineer', { pin: String(1000 + i) })));
    expect(guesses.every((g) => !g.ok)).toBe(true);
    expect(await dispatch(service, new CallerSession(), 'unlockEngineer', { pin: '2468' })).toMatchObject({ ok: false, error: { code: 'forbidden', message: expect.stringMatching(/Too many wrong PINs/) } });
    const actions = (await service.listAuditLog({})).map((e) => e.action);
    expect(actions).toContain('role.pin-set');
    expect(actions).toContain('role.unlock');
    // One wrong PIN above, three here; the refused-while-locked guesses are not hashed or audited.
    expect(actions.filter((a) => a === 'role.unlock-refused').length).toBe(4);
  });

  it('locks guessing for longer after every further wrong PIN, and a right PIN resets it', async () => {
    const guard = new PinGuard();
    let now = 0;
    const wrong = (): Promise<void> => guard.attempt(async () => guard.failed(now), () => now);
    for (let i = 0; i < 3; i++) await wrong();
    await expect(wrong()).rejects.toThrow(/try again in 5 s/);
    now += 5_000;
    await wrong();
    await expect(wrong()).rejects.toThrow(/try again in 10 s/);
    now += 10_000;
    await wrong();
    await expect(wrong()).rejects.toThrow(/try again in 20 s/);
    now += 20_000;
    await guard.attempt(async () => guard.succeeded(), () => now);
    await wrong();
    await wrong();
    await expect(guard.attempt(async () => 'ok', () => now)).resolves.toBe('ok');
  });

  it('hashes PINs off the event loop, and takes a passphrase', async () => {
    const stored = await hashPin('correct horse battery');
    let ticks = 0;
    let spinning = true;
    const spin = (): void => {
      if (!spinning) return;
      ticks++;
      setImmediate(spin);
    };
    spin();
    expect(await pinMatches('correct horse battery', stored)).toBe(true);
    expect(await pinMatches('wrong horse battery', stored)).toBe(false);
    spinning = false;
    // The event loop kept turning while scrypt ran (synchronous hashing would allow one or two turns).
    expect(ticks).toBeGreaterThan(20);
    await expect(hashPin('short')).rejects.toThrow(/4 to 12 digits, or a passphrase/);
  });

  it('keeps operators from writing outside the data directory, moving files, or cancelling others\' jobs', async () => {
    // A station of its own: the one above is still locked against PIN guesses.
    const stationDir = tempDir();
    const service = new ArgusService({ dataDir: stationDir.path, actor: 'station-5' });
    await service.setEngineerPin({ pin: '2468' });
    const operator = new CallerSession();
    const forbidden = { ok: false, error: { code: 'forbidden' } };
    expect(await dispatch(service, operator, 'inspectFiles', { model: 'production', paths: ['/tmp'], outDir: '/etc/argus' })).toMatchObject(forbidden);
    for (const sink of [{ sort: true }, { log: '/home/qa/.bashrc' }, { sidecar: true }]) {
      expect(await dispatch(service, operator, 'watchFolder', { model: 'production', folder: '/tmp', ...sink }), JSON.stringify(sink)).toMatchObject(forbidden);
    }
    // A job the engineer started cannot be cancelled by an operator; the engineer may, and it is audited.
    const engineer = new CallerSession();
    expect(await dispatch(service, engineer, 'unlockEngineer', { pin: '2468' })).toMatchObject({ ok: true });
    const data = tempDir();
    const started = await dispatch(service, engineer, 'importDataset', { path: data.path });
    expect(started.ok).toBe(true);
    const jobId = (started as { value: { id: string } }).value.id;
    expect(await dispatch(service, operator, 'cancelJob', { jobId })).toMatchObject(forbidden);
    expect(await dispatch(service, engineer, 'cancelJob', { jobId })).toMatchObject({ ok: true });
    await service.jobs.wait(jobId);
    data.cleanup();
    expect((await service.listAuditLog({})).find((e) => e.action === 'job.cancel')).toMatchObject({ target: `job:${jobId}`, details: { kind: 'import' } });
    await service.close();
    stationDir.cleanup();
  });
});
