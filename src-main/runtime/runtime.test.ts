import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../model/onnx-graph.ts';
import { hasShared, SHARED_DIR, SHARED_WEIGHTS } from '../../test-support/fixtures.ts';
import { createInferenceClient } from './inference-client.ts';
import { createSession, SessionCache } from './sessions.ts';

const REPO = join(import.meta.dirname, '../..');

function reluModel(): Uint8Array {
  const g = new GraphBuilder('relu');
  g.output(g.relu('r', g.input('x', 'float32', [{ sym: 'N', div: 1 }, 4])), 'y');
  return g.toBytes();
}

describe('sessions', () => {
  it('auto picks the first provider that works and says why the others were skipped', async () => {
    const { session, report } = await createSession({ model: reluModel(), provider: 'auto' });
    expect(report.requested).toBe('auto');
    expect(['cuda', 'webgpu', 'cpu']).toContain(report.active);
    const order = ['cuda', 'webgpu', 'cpu'];
    expect(report.fallbacks.map((f) => f.provider)).toEqual(order.slice(0, order.indexOf(report.active!)));
    for (const f of report.fallbacks) expect(f.reason.length).toBeGreaterThan(10);
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([-1, 2, -3, 4]), [1, 4]) });
    expect([...(out.y.data as Float32Array)]).toEqual([0, 2, 0, 4]);
    await session.release();
  });

  it('refuses a damaged model with a clear error', async () => {
    const bytes = reluModel();
    await expect(createSession({ model: bytes.subarray(0, bytes.length - 9), provider: 'cpu' })).rejects.toThrow(/damaged or not an ONNX model/);
  });

  it('caches one session per model, provider and shape, evicting the least recently used', async () => {
    const cache = new SessionCache(2);
    const model = reluModel();
    const a = await cache.get({ modelKey: 'm', model, provider: 'cpu', dims: { N: 1 } });
    expect(await cache.get({ modelKey: 'm', model, provider: 'cpu', dims: { N: 1 } })).toBe(a);
    const b = await cache.get({ modelKey: 'm', model, provider: 'cpu', dims: { N: 2 } });
    expect(b).not.toBe(a);
    await cache.get({ modelKey: 'm', model, provider: 'cpu', dims: { N: 3 } });
    expect(await cache.get({ modelKey: 'm', model, provider: 'cpu', dims: { N: 1 } })).not.toBe(a);
    await cache.clear();
  });
});

describe.skipIf(!hasShared)('classification (weights sanity check)', () => {
  it('runs in the inference worker and names a cat for the cat photo', async () => {
    const client = createInferenceClient();
    try {
      const result = await client.call('classify', SHARED_WEIGHTS, join(SHARED_DIR, 'models/golden/chelsea.png'), 'cpu');
      expect(result.provider.active).toBe('cpu');
      expect(result.top5[0]).toMatchObject({ index: 285, name: 'Egyptian cat' });
      expect(result.top5.slice(0, 3).every((c) => /cat/.test(c.name))).toBe(true);
      await expect(client.call('classify', SHARED_WEIGHTS, join(REPO, 'package.json'), 'cpu')).rejects.toThrow(/Not an image file/);
    } finally {
      await client.close();
    }
  });

  it('argus classify prints the top-5 for a user', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', 'classify', '--weights', SHARED_WEIGHTS, '--device', 'cpu', join(SHARED_DIR, 'models/golden/coffee.png')], { cwd: REPO });
    expect(stdout.split('\n')[0]).toMatch(/^\s*9\d\.\d%\s+967\s+espresso$/);
  });
});
