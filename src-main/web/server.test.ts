import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ArgusService } from '../app/service.ts';
import { tempDir, writeManifestDataset } from '../../test-support/fixtures.ts';
import { isLoopback, type RunningWebServer, startWebServer } from './server.ts';

/** What the served page carries: the launch key (meta) and its cookie. */
async function openPage(url: string): Promise<{ key: string; cookie: string }> {
  const page = await fetch(url);
  const key = /<meta name="argus-key" content="([^"]+)">/.exec(await page.text())?.[1] ?? '';
  const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0];
  return { key, cookie };
}

/** A raw HTTP request (Node's fetch will not send a foreign Host header). */
function rawRequest(url: string, options: { method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('browser mode server', () => {
  let dir: { path: string; cleanup(): void };
  let service: ArgusService;
  let server: RunningWebServer;
  let staticDir: string;
  let page: { key: string; cookie: string };
  beforeEach(async () => {
    dir = tempDir();
    staticDir = join(dir.path, 'renderer');
    mkdirSync(staticDir);
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Argus</title>');
    service = new ArgusService({ dataDir: join(dir.path, 'data') });
    server = await startWebServer({ service, staticDir });
    page = await openPage(server.url);
  });
  afterEach(async () => {
    await server.close();
    await service.close();
    dir.cleanup();
  });
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(new URL(path, server.url), { method: 'POST', body, headers: { 'Content-Type': 'application/json', 'X-Argus-Key': page.key, ...headers } });

  it('binds to loopback and serves the API, the app with its CSP, and media', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const created = await post('api/createProject', JSON.stringify({ name: 'A' }));
    expect(created.status).toBe(200);
    expect(await created.json()).toMatchObject({ ok: true, value: { name: 'A' } });
    const html = await fetch(server.url);
    expect(html.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'/);
    expect(await html.text()).toContain('<title>Argus</title>');
    expect((await fetch(new URL(`media/thumbnail/${'0'.repeat(64)}`, server.url), { headers: { Cookie: page.cookie } })).status).toBe(404);
    expect((await fetch(new URL(`media/thumbnail/${'0'.repeat(64)}`, server.url))).status).toBe(401);
  });

  it('answers malformed requests with errors and keeps running', async () => {
    expect((await post('api/listDatasets', '{not json')).status).toBe(400);
    expect((await post('api/listDatasets', JSON.stringify({ projectId: 'x' }))).status).toBe(400);
    expect((await post('api/dropAllTables', '{}')).status).toBe(400);
    expect((await post('api/listDatasets', 'x'.repeat(2_000_000))).status).toBe(413);
    expect((await fetch(new URL('api/listProjects', server.url))).status).toBe(405);
    const traversal = await fetch(new URL('/..%2f..%2f..%2fetc%2fpasswd', server.url));
    expect(await traversal.text()).not.toContain('root:');
    expect((await fetch(new URL('/%E0%A4%A', server.url))).status).toBe(400);
    expect((await post('api/listProjects', '{}')).status).toBe(200);
  });

  it('refuses what another web page can send: a foreign Origin, text/plain, no key, a foreign Host', async () => {
    const projects = (): Promise<number> => service.listProjects().then((p) => p.length);
    // A cross-site "simple" request (no preflight): text/plain, no key, the attacker's Origin.
    const simple = await fetch(new URL('api/createProject', server.url), { method: 'POST', body: JSON.stringify({ name: 'X' }), headers: { 'Content-Type': 'text/plain', Origin: 'http://attacker.example' } });
    expect(simple.status).toBe(403);
    expect((await post('api/createProject', JSON.stringify({ name: 'X' }), { Origin: 'http://attacker.example' })).status).toBe(403);
    expect((await post('api/createProject', JSON.stringify({ name: 'X' }), { 'Content-Type': 'text/plain' })).status).toBe(415);
    expect((await post('api/setEngineerPin', JSON.stringify({ pin: '1111' }), { 'X-Argus-Key': 'guessed' })).status).toBe(401);
    expect((await fetch(new URL('api/getInfo', server.url), { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } })).status).toBe(401);
    // DNS rebinding: the attacker's name resolving to 127.0.0.1 reaches the socket with its own Host.
    const port = new URL(server.url).port;
    const rebound = await rawRequest(new URL('api/getInfo', server.url).href, { method: 'POST', body: '{}', headers: { Host: `attacker.example:${port}`, 'Content-Type': 'application/json', 'X-Argus-Key': page.key } });
    expect(rebound.status).toBe(421);
    expect(rebound.body).not.toContain(dir.path);
    expect((await rawRequest(server.url, { headers: { Host: `attacker.example:${port}` } })).body).not.toContain('argus-key');
    expect(await projects()).toBe(0);
    expect(await service.getSession()).toMatchObject({ pinSet: false });
    // The page's own origin passes, under each loopback name.
    expect((await post('api/listProjects', '{}', { Origin: `http://127.0.0.1:${port}` })).status).toBe(200);
    const viaLocalhost = await rawRequest(new URL('api/listProjects', server.url).href, { method: 'POST', body: '{}', headers: { Host: `localhost:${port}`, Origin: `http://localhost:${port}`, 'Content-Type': 'application/json', 'X-Argus-Key': page.key } });
    expect(viaLocalhost.status).toBe(200);
  });

  it('streams an upload to the data directory, within its size limit and only for its own pages', async () => {
    const upload = (body: Buffer, headers: Record<string, string> = {}) =>
      fetch(new URL('upload', server.url), { method: 'POST', body, headers: { 'Content-Type': 'application/octet-stream', 'X-Argus-Key': page.key, ...headers } });
    const image = Buffer.alloc(300_000, 7);
    const staged = await upload(image);
    expect(staged.status).toBe(200);
    const { value } = (await staged.json()) as { value: { id: string } };
    expect(value.id).toMatch(/^[0-9a-f]{32}$/);
    expect(readFileSync(join(dir.path, 'data', 'uploads', 'staged', value.id)).equals(image)).toBe(true);
    expect((await upload(image, { 'X-Argus-Key': 'guessed' })).status).toBe(401);
    expect((await upload(image, { Origin: 'http://attacker.example' })).status).toBe(403);
    expect((await upload(image, { 'Content-Type': 'text/plain' })).status).toBe(415);
    // inspectUploads takes staged ids only: an id that was never staged is not found (no path games).
    expect(await (await post('api/inspectUploads', JSON.stringify({ model: 'production', uploads: [{ id: 'f'.repeat(32), name: 'a.png' }] }))).json()).toMatchObject({ ok: false });
    expect((await post('api/inspectUploads', JSON.stringify({ model: 'production', uploads: [{ id: '../../etc/passwd', name: 'a.png' }] }))).status).toBe(400);
    const small = await startWebServer({ service, staticDir, maxUploadBytes: 100_000 });
    try {
      const smallPage = await openPage(small.url);
      const big = await fetch(new URL('upload', small.url), { method: 'POST', body: image, headers: { 'Content-Type': 'application/octet-stream', 'X-Argus-Key': smallPage.key } });
      expect(big.status).toBe(413);
      // Streamed without a length (chunked): stopped at the limit, the partial file removed.
      const chunked = new ReadableStream({ start(c) { for (let i = 0; i < 4; i++) c.enqueue(new Uint8Array(50_000)); c.close(); } });
      const cut = await fetch(new URL('upload', small.url), { method: 'POST', body: chunked, duplex: 'half', headers: { 'Content-Type': 'application/octet-stream', 'X-Argus-Key': smallPage.key } } as RequestInit);
      expect(cut.status).toBe(413);
    } finally {
      await small.close();
    }
    // Nothing is left behind by an upload that was refused.
    expect(readdirSync(join(dir.path, 'data', 'uploads', 'staged'))).toEqual([value.id]);
  });

  it('opens the event socket only to its own pages', async () => {
    const url = new URL('events', server.url.replace('http', 'ws'));
    const outcome = (socket: WebSocket): Promise<string> => new Promise((resolve) => {
      socket.once('open', () => resolve('open'));
      socket.once('error', () => resolve('refused'));
    });
    expect(await outcome(new WebSocket(url, { headers: { Origin: 'http://attacker.example', Cookie: page.cookie } }))).toBe('refused');
    expect(await outcome(new WebSocket(url, { headers: { Origin: `http://127.0.0.1:${new URL(server.url).port}` } }))).toBe('refused');
    const own = new WebSocket(url, { headers: { Origin: `http://127.0.0.1:${new URL(server.url).port}`, Cookie: page.cookie } });
    expect(await outcome(own)).toBe('open');
    own.close();
  });

  it('serves the page under a renderer path given with a trailing slash', async () => {
    const other = await startWebServer({ service, staticDir: `${staticDir}/` });
    try {
      expect(await (await fetch(other.url)).text()).toContain('<title>Argus</title>');
    } finally {
      await other.close();
    }
  });

  it('counts only exact loopback names as loopback', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) expect(isLoopback(host)).toBe(true);
    for (const host of ['127.evil.example', '127.0.0.1.nip.io', '0.0.0.0', '10.0.0.1', 'localhost.example']) expect(isLoopback(host)).toBe(false);
  });

  it('pushes job progress to WebSocket clients', async () => {
    const data = join(dir.path, 'dataset');
    await writeManifestDataset(data, 2, 1);
    const socket = new WebSocket(new URL('events', server.url.replace('http', 'ws')), { headers: { Cookie: page.cookie } });
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
      const json = { 'Content-Type': 'application/json' };
      expect((await fetch(url, { method: 'POST', body: '{}', headers: json })).status).toBe(401);
      expect((await fetch(url, { method: 'POST', body: '{}', headers: { ...json, Authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await fetch(url, { method: 'POST', body: '{}', headers: { ...json, Authorization: 'Bearer secret-token' } })).status).toBe(200);
      // The page needs the token; `?token=` is exchanged for a cookie and leaves the address.
      expect((await fetch(guarded.url)).status).toBe(401);
      const first = await fetch(`${guarded.url}?token=secret-token`, { redirect: 'manual' });
      expect(first.status).toBe(303);
      expect(first.headers.get('location')).toBe('/');
      const tokenCookie = (first.headers.get('set-cookie') ?? '').split(';')[0];
      const pageWithToken = await fetch(guarded.url, { headers: { Cookie: tokenCookie } });
      expect(await pageWithToken.text()).toMatch(/argus-key/);
    } finally {
      await guarded.close();
    }
  });
});
