import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, type RunningApp, startApp } from './support/app.ts';

/**
 * A page of another local origin (another program's web page on the same PC) opened in the
 * operator's browser tries to drive the station: every way a page can reach it gets nothing.
 */
describe('Browser mode against other web pages (Chromium)', () => {
  let app: RunningApp;
  let attacker: Server;
  let attackerUrl: string;

  beforeAll(async () => {
    app = await startApp();
    const target = app.url.replace(/\/$/, '');
    const page = `<!doctype html><title>attacker</title><script>
      const target = ${JSON.stringify(target)};
      const attempt = async (name, run) => {
        try { return [name, await run()]; } catch (e) { return [name, 'failed: ' + e.message]; }
      };
      window.results = Promise.all([
        // "Simple" requests need no preflight: text/plain bodies, no custom headers.
        attempt('createProject text/plain', async () => (await fetch(target + '/api/createProject', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ name: 'Pwned' }) })).status),
        attempt('setEngineerPin no-cors', async () => (await fetch(target + '/api/setEngineerPin', { method: 'POST', mode: 'no-cors', body: JSON.stringify({ pin: '0000' }) })).type),
        attempt('getInfo read', async () => (await (await fetch(target + '/api/getInfo', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).text())),
        attempt('page read', async () => (await (await fetch(target + '/')).text())),
        attempt('events socket', () => new Promise((resolve) => {
          const socket = new WebSocket(target.replace('http', 'ws') + '/events');
          socket.onopen = () => resolve('open');
          socket.onerror = () => resolve('refused');
        })),
      ]);
    </script>`;
    attacker = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(page);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await app?.stop();
    await new Promise((resolve) => attacker?.close(resolve));
  });

  it('a page served from a second local origin cannot call the API, read it, or listen to its events', async () => {
    const { page } = app;
    // The operator had the station open in the same browser (its cookie is there).
    await page.goto(`${app.url}#/settings`);
    await expect.poll(() => page.getByTestId('role-badge').textContent()).toMatch(/QA engineer/);
    await page.goto(attackerUrl);
    const results = Object.fromEntries(await page.evaluate(() => (globalThis as unknown as { results: Promise<[string, unknown][]> }).results));
    // The requests reach the server (refused there: the project list below is empty), but the page
    // sees only a network error or an opaque answer.
    expect(results['createProject text/plain']).toMatch(/^failed/);
    expect(results['setEngineerPin no-cors']).toBe('opaque');
    expect(results['getInfo read']).toMatch(/^failed/);
    expect(results['page read']).toMatch(/^failed/);
    expect(results['events socket']).toBe('refused');
    // Nothing happened on the station.
    expect(JSON.parse(await cli(app.dataDir, 'project', 'list', '--json'))).toEqual([]);
    await page.goto(`${app.url}#/settings`);
    await expect.poll(() => page.getByTestId('role-badge').textContent()).toMatch(/QA engineer/);
    expect(await page.getByText('Set a QA-engineer PIN').count()).toBe(1);
  });
});
