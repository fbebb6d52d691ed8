import { timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { WebSocketServer } from 'ws';
import type { ApiResult } from '../api/contract.ts';
import { toErrorBody } from '../api/errors.ts';
import { CallerSession } from '../api/roles.ts';
import { type ArgusService, dispatch } from '../api/service.ts';

const MAX_SESSIONS = 1000;
const SESSION_IDLE_MS = 12 * 3600_000;
import { CONTENT_SECURITY_POLICY } from '../api/csp.ts';

export interface WebServerOptions {
  service: ArgusService;
  /** The built renderer (out/renderer). */
  staticDir: string;
  host?: string;
  port?: number;
  /** Required when binding to anything but loopback. */
  token?: string;
}

export interface RunningWebServer {
  url: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1_000_000;
const MAX_UPLOAD_BODY_BYTES = 256 * 2 ** 20;
const MAX_DRAIN_BYTES = 64_000_000;
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.json': 'application/json', '.woff2': 'font/woff2', '.ico': 'image/x-icon',
};

export const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\./.test(host);

/**
 * Browser mode: serves the built renderer and the engine's typed API over HTTP (POST /api/<method>)
 * plus a WebSocket (/events) for job progress — the same API the Electron preload exposes.
 */
export async function startWebServer(options: WebServerOptions): Promise<RunningWebServer> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopback(host) && !options.token) {
    throw new Error(`Refusing to serve on ${host} without an access token (--token); only loopback is open without one.`);
  }
  const authorized = (req: IncomingMessage): boolean => {
    if (!options.token) return true;
    const url = new URL(req.url ?? '/', 'http://x');
    const given = req.headers.authorization?.replace(/^Bearer /, '') ?? url.searchParams.get('token') ?? '';
    const a = Buffer.from(given);
    const b = Buffer.from(options.token);
    return a.length === b.length && timingSafeEqual(a, b);
  };

  // Each browser tab sends a random session id of its own; its role lives here, on the server.
  const callers = new Map<string, { caller: CallerSession; seen: number }>();
  const callerOf = (req: IncomingMessage): CallerSession => {
    const header = req.headers['x-argus-session'];
    const id = typeof header === 'string' && /^[0-9a-f-]{36}$/.test(header) ? header : '';
    const now = Date.now();
    if (!id) return new CallerSession();
    if (callers.size > MAX_SESSIONS) {
      for (const [key, entry] of callers) if (now - entry.seen > SESSION_IDLE_MS) callers.delete(key);
    }
    const entry = callers.get(id) ?? { caller: new CallerSession(), seen: now };
    entry.seen = now;
    callers.set(id, entry);
    return entry.caller;
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => sendJson(res, 500, { ok: false, error: toErrorBody(error) }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/media/')) {
      if (!authorized(req)) return sendJson(res, 401, { ok: false, error: { code: 'invalid_argument', message: 'Missing or wrong access token' } });
    }
    if (url.pathname.startsWith('/api/')) {
      if (req.method !== 'POST') return sendJson(res, 405, { ok: false, error: { code: 'invalid_argument', message: 'Use POST' } });
      // Uploaded images may be large; every other call is small.
      const body = await readBody(req, url.pathname === '/api/inspectUploads' ? MAX_UPLOAD_BODY_BYTES : MAX_BODY_BYTES);
      if (body === null) return sendJson(res, 413, { ok: false, error: { code: 'invalid_argument', message: 'Request body too large' } });
      let input: unknown;
      try {
        input = body.length ? JSON.parse(body.toString('utf8')) : undefined;
      } catch {
        return sendJson(res, 400, { ok: false, error: { code: 'invalid_argument', message: 'Request body is not JSON' } });
      }
      const result = await dispatch(options.service, callerOf(req), decodeURIComponent(url.pathname.slice(5)), input);
      return sendJson(res, result.ok ? 200 : statusOf(result), result);
    }
    const media = /^\/media\/(thumbnail|original)\/([0-9a-f]{64})$/.exec(url.pathname);
    if (media) {
      try {
        const bytes = await options.service.readImage(media[2], media[1] as 'thumbnail' | 'original');
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Cache-Control': 'private, max-age=31536000, immutable' });
        return void res.end(bytes);
      } catch (error) {
        return sendJson(res, 404, { ok: false, error: toErrorBody(error) });
      }
    }
    return serveStatic(url.pathname, res);
  }

  function serveStatic(pathname: string, res: ServerResponse): void {
    const relative = normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, '');
    let file = join(options.staticDir, relative);
    if (!file.startsWith(options.staticDir + sep) && file !== options.staticDir) return void sendJson(res, 404, { ok: false });
    if (!existsSync(file) || statSync(file).isDirectory()) file = join(options.staticDir, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      return void res.end('The renderer is not built. Run `npm run build` first.');
    }
    res.writeHead(200, {
      'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'Cache-Control': 'no-cache',
    });
    createReadStream(file).pipe(res);
  }

  const sockets = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/events' || !authorized(req)) return void socket.destroy();
    sockets.handleUpgrade(req, socket, head, (ws) => sockets.emit('connection', ws, req));
  });
  const unsubscribe = options.service.onEvent((event) => {
    const text = JSON.stringify(event);
    for (const client of sockets.clients) if (client.readyState === client.OPEN) client.send(text);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}/`,
    close: async () => {
      unsubscribe();
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function statusOf(result: ApiResult<unknown>): number {
  if (result.ok) return 200;
  return { invalid_argument: 400, not_found: 404, conflict: 409, bad_input: 422, unsupported: 422, cancelled: 409, forbidden: 403, storage: 507, internal: 500 }[result.error.code];
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** The request body, or null when it is over the limit (the rest is read and dropped, so the client sees the 413). */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > Math.max(limit, MAX_DRAIN_BYTES)) {
      req.destroy();
      return null;
    }
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  return size > limit ? null : Buffer.concat(chunks);
}
