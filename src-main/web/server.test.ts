import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ArgusService } from '../api/service.ts';
import { tempDir, writeManifestDataset } from '../testing/fixtures.ts';
import { type RunningWebServer, startWebServer } from './server.ts';

describe('browser mode server', () => {
  let dir: { path: string; cleanup(): void };
  let service: ArgusService;
  let server: RunningWebServer;
  let staticDir: string;
  beforeEach(async () => {
    dir = tempDir();
    staticDir = join(dir.path, 'renderer');
    mkdirSync(staticDir);
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Argus</title>');
    service = new ArgusService({ dataDir: join(dir.path, 'data') });
    server = await startWebServer({ service, staticDir });
  });
  afterEach(async () => {
    await server.close();
    await service.close();
    dir.cleanup();
  });
  const post = (path: string, body: string) => fetch(new URL(path, server.url), { method: 'POST', body });

  it('binds to loopback and serves the API, the app with its CSP, and media', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const created = await post('api/createProject', JSON.stringify({ name: 'A' }));
    expect(created.status).toBe(200);
    expect(await created.json()).toMatchObject({ ok: true, value: { name: 'A' } });
    const page = await fetch(server.url);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'/);
    expect(await page.text()).toContain('<title>Argus</title>');
    expect((await fetch(new URL(`media/thumbnail/${'0'.repeat(64)}`, server.url))).status).toBe(404);
  });

  it('answers malformed requests with errors and keeps running', async () => {
    expect((await post('api/listDatasets', '{not json')).status).toBe(400);
    expect((await post('api/listDatasets', JSON.stringify({ projectId: 'x' }))).status).toBe(400);
    expect((await post('api/dropAllTables', '{}')).status).toBe(400);
    expect((await post('api/listDatasets', 'x'.repeat(2_000_000))).status).toBe(413);
    expect((await fetch(new URL('api/listProjects', server.url))).status).toBe(405);
    const traversal = await fetch(new URL('/..%2f..%2f..%2fetc%2fpasswd', server.url));
    expect(await traversal.text()).not.toContain('root:');
    expect((await post('api/listProjects', '{}')).status).toBe(200);
  });

  it('pushes job progress to WebSocket clients', async () => {
    const data = join(dir.path, 'dataset');
    await writeManifestDataset(data, 2, 1);
    const socket = new WebSocket(new URL('events', server.url.replace('http', 'ws')));
    await new Promise((resolve) => socket.once('open', resolve));
    const states: string[] = [];
    const done = new Promise<void>((resolve) => socket.on('message', (m) => {
      const { job } = JSON.parse(String(m));
      states.push(job.state);
      if (job.state !== 'running') resolve();
    }));
    await post('api/importDataset', JSON.stringify({ path: data }));
    await done;
    socket.close();
    expect(states.at(-1)).toBe('succeeded');
  });

  it('refuses to listen beyond loopback without a token, and checks the token when given', async () => {
    await expect(startWebServer({ service, staticDir, host: '0.0.0.0' })).rejects.toThrow(/without an access token/);
    const guarded = await startWebServer({ service, staticDir, token: 'secret-token' });
    try {
      const url = new URL('api/listProjects', guarded.url);
      expect((await fetch(url, { method: 'POST', body: '{}' })).status).toBe(401);
      expect((await fetch(url, { method: 'POST', body: '{}', headers: { Authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await fetch(url, { method: 'POST', body: '{}', headers: { Authorization: 'Bearer secret-token' } })).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});
