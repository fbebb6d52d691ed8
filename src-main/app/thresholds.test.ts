import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide, normalizeScore } from '../common/decision.ts';
import type { ModelThresholds } from '../contract/contract.ts';
import { tempDir } from '../../test-support/fixtures.ts';
import { CallerSession } from './roles.ts';
import { ArgusService } from './service.ts';
import { dispatch } from './dispatch.ts';

describe('moving a model\'s thresholds', () => {
  const dir = tempDir();
  let service: ArgusService;
  let modelId: number;
  const thresholds: ModelThresholds = { method: 'f1', image: { ng: 10, review: 8, goodMedian: 2 }, pixel: { threshold: 6, goodMedian: 1 } };

  beforeAll(() => {
    service = new ArgusService({ dataDir: dir.path, actor: 'qa-lin' });
    const project = service.store.projects.create({ name: 'Line 9', classes: [{ name: 'dent' }] });
    modelId = service.store.models.create({
      projectId: project.id, name: 'anomaly line 9', mode: 'anomaly', classes: ['anomaly'], snapshotId: null, config: {}, metrics: {}, thresholds, files: [],
    }).id;
  });
  afterAll(async () => {
    await service.close();
    dir.cleanup();
  });

  it('applies the what-if positions to the model, keeps the REVIEW band, and audits before and after', async () => {
    const caller = new CallerSession();
    const result = await dispatch(service, caller, 'setModelThresholds', { modelId, imageAt: 0.7, pixelAt: 0.4 });
    expect(result.ok).toBe(true);
    const moved = service.store.models.get(modelId).thresholds as typeof thresholds;
    // 0.7 on the normalised scale: d = 2·0.7 − 1 = 0.4 → z = d / (1 − d) = 2/3 of (ng − good median) above the old threshold.
    expect(moved.image.ng).toBeCloseTo(10 + (2 / 3) * 8, 10);
    expect(moved.image.ng - moved.image.review).toBeCloseTo(2, 10);
    // 0.4: d = −0.2 → z = −0.25.
    expect(moved.pixel.threshold).toBeCloseTo(6 - 0.25 * 5, 10);
    // A score the old thresholds called NG is now below the new NG threshold but inside REVIEW.
    expect(decide(14, thresholds.image)).toBe('NG');
    expect(decide(14, moved.image)).toBe('REVIEW');
    expect(normalizeScore(moved.image.ng, moved.image.ng, moved.image.goodMedian)).toBe(0.5);
    const [entry] = await service.listAuditLog({});
    expect(entry).toMatchObject({ actor: 'qa-lin (QA engineer)', action: 'model.thresholds', target: `model:${modelId}` });
    expect(entry.details).toMatchObject({ before: thresholds, after: moved });
  });

  it('is refused for operators once a PIN is set, and for positions off the scale', async () => {
    await service.setEngineerPin({ pin: '8642' });
    const before = service.store.models.get(modelId).thresholds;
    expect(await dispatch(service, new CallerSession(), 'setModelThresholds', { modelId, imageAt: 0.6, pixelAt: 0.5 })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const engineer = new CallerSession();
    engineer.role = 'engineer';
    expect(await dispatch(service, engineer, 'setModelThresholds', { modelId, imageAt: 1.5, pixelAt: 0.5 })).toMatchObject({ ok: false, error: { code: 'invalid_argument' } });
    expect(service.store.models.get(modelId).thresholds).toEqual(before);
  });
});
