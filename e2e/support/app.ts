// Starts the built app in browser mode on a fresh data directory and drives it with Debian's
// Chromium through playwright-core (never a downloaded browser).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const REPO = resolve(import.meta.dirname, '../..');
export const OUTPUT_DIR = join(REPO, 'test-results/e2e');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface RunningApp {
  url: string;
  dataDir: string;
  page: Page;
  consoleErrors: string[];
  screenshot(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** Runs the built CLI against a data directory (to prepare what a test starts from). */
export function cli(dataDir: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['out/main/cli.js', ...args, '--data-dir', dataDir], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`argus ${args.join(' ')} failed:\n${stderr}`))));
  });
}

export async function startApp(prepare?: (dataDir: string) => Promise<void>): Promise<RunningApp> {
  if (!existsSync(join(REPO, 'out/main/web.js'))) throw new Error('Build first: npm run build');
  if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'argus-e2e-'));
  const dataDir = join(scratch, 'data');
  await prepare?.(dataDir);
  const server: ChildProcess = spawn(process.execPath, ['out/main/web.js', '--port', '0', '--data-dir', dataDir], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let serverLog = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`browser mode did not start:\n${serverLog}`)), 30_000);
    const onData = (chunk: Buffer): void => {
      serverLog += chunk.toString();
      const match = /browser mode: (http:\/\/\S+)/.exec(serverLog);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    };
    server.stdout!.on('data', onData);
    server.stderr!.on('data', onData);
    server.on('exit', (code) => reject(new Error(`browser mode exited (${code}):\n${serverLog}`)));
  });
  const context: BrowserContext = await chromium.launchPersistentContext(join(scratch, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  return {
    url,
    dataDir,
    page,
    consoleErrors,
    async screenshot(name) {
      const path = join(OUTPUT_DIR, `${name}.png`);
      await page.screenshot({ path, fullPage: false });
      return path;
    },
    async stop() {
      await context.close();
      server.kill('SIGTERM');
      await new Promise((r) => (server.exitCode !== null ? r(null) : server.once('exit', r)));
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
