import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, isIPv4 } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer } from 'ws';
import type { ApiResult, LineResult } from '../contract/contract.ts';
import { toErrorBody } from '../contract/errors.ts';
import { CallerSession } from '../app/roles.ts';
import { type ArgusService } from '../app/service.ts';
import { dispatch } from '../app/dispatch.ts';
import { firstMultipartFile } from './multipart.ts';

import { CONTENT_SECURITY_POLICY } from '../platform/csp.ts';

/** Browser tabs whose role is remembered; the least recently seen is forgotten beyond this. */
const MAX_SESSIONS = 1000;
const KEY_COOKIE = 'argus_key';
const TOKEN_COOKIE = 'argus_token';

export interface WebServerOptions {
  service: ArgusService;
  /** The built renderer (out/renderer). */
  staticDir: string;
  host?: string;
  port?: number;
  /** Required when binding to anything but loopback. */
  token?: string;
  /** Further origins (e.g. `http://station-7:5170` as a second PC reaches it) whose pages may use the API. */
  allowedOrigins?: string[];
  /** Largest image POST /upload takes (default MAX_UPLOAD_BYTES). */
  maxUploadBytes?: number;
}

export interface RunningWebServer {
  url: string;
  close(): Promise<void>;
}

/** Loopback names and addresses: localhost, ::1 and 127.0.0.0/8 (exactly; `127.evil.example` is not one). */
export const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || host === '[::1]' || (isIPv4(host) && host.startsWith('127.'));

/** The host name of a Host header value (`name:port`, `[v6]:port`). */
function hostName(header: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(header);
  if (v6) return v6[1];
  return header.replace(/:\d+$/, '');
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

const MAX_BODY_BYTES = 1_000_000;
/** One uploaded image (POST /upload). API calls, inspectUploads included, carry no image bytes over HTTP. */
const MAX_UPLOAD_BYTES = 512 * 2 ** 20;
const MAX_DRAIN_BYTES = 64_000_000;
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.json': 'application/json', '.woff2': 'font/woff2', '.ico': 'image/x-icon',
};

/**
 * Browser mode: serves the built renderer and the engine's typed API over HTTP (POST /api/<method>)
 * plus a WebSocket (/events) for job progress — the same API the Electron preload exposes.
 */
export async function startWebServer(options: WebServerOptions): Promise<RunningWebServer> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopback(host) && !options.token) {
    throw new Error(`Refusing to serve on ${host} without an access token (--token); only loopback is open without one.`);
  }
  const staticDir = resolve(options.staticDir);
  const maxUploadBytes = options.maxUploadBytes ?? MAX_UPLOAD_BYTES;
  // A secret of this launch: the served page carries it and sends it with every call. A page of
  // another origin can neither read it (same-origin policy) nor reach this server under another
  // name (the Host check stops DNS rebinding), so it cannot act on the station.
  const launchKey = randomBytes(32).toString('base64url');
  const allowedOrigins = new Set((options.allowedOrigins ?? []).map((o) => new URL(o).origin));
  let port = 0;

  /** Loopback: only the loopback names at our port. With a token the token guards every name a second PC may use. */
  const hostAllowed = (req: IncomingMessage): boolean => {
    const header = req.headers.host;
    if (!header) return false;
    if (options.token) return true;
    return isLoopback(hostName(header)) && header.endsWith(`:${port}`);
  };
  /** A browser names the page's origin: it must be this server as the browser reached it, or one the operator allowed. */
  const originAllowed = (req: IncomingMessage, required: boolean): boolean => {
    const origin = req.headers.origin;
    if (origin === undefined) return !required;
    return origin === `http://${req.headers.host}` || allowedOrigins.has(origin);
  };
  const tokenGiven = (req: IncomingMessage): boolean => {
    if (!options.token) return false;
    const bearer = req.headers.authorization?.replace(/^Bearer /, '');
    return sameSecret(bearer, options.token) || sameSecret(cookie(req, TOKEN_COOKIE), options.token);
  };
  /** API calls: the launch key in a header, or (scripts on another PC) the access token. */
  const apiAuthorized = (req: IncomingMessage): boolean => {
    const key = req.headers['x-argus-key'];
    return sameSecret(typeof key === 'string' ? key : undefined, launchKey) || tokenGiven(req);
  };
  /** Images and the event socket, which a page cannot send headers with: the launch key's cookie, from our own pages only. */
  const cookieAuthorized = (req: IncomingMessage): boolean => {
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
    return sameSecret(cookie(req, KEY_COOKIE), launchKey) || apiAuthorized(req);
  };

  // Each browser tab sends a random session id of its own; its role lives here, on the server.
  // Wrong PINs are counted for the whole station (ArgusService), not per tab.
  const callers = new Map<string, CallerSession>();
  const callerOf = (req: IncomingMessage): CallerSession => {
    const header = req.headers['x-argus-session'];
    const id = typeof header === 'string' && /^[0-9a-f-]{36}$/.test(header) ? header : '';
    if (!id) return new CallerSession();
    const caller = callers.get(id) ?? new CallerSession();
    callers.delete(id);
    callers.set(id, caller);
    while (callers.size > MAX_SESSIONS) callers.delete(callers.keys().next().value as string);
    return caller;
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => sendJson(res, 500, { ok: false, error: toErrorBody(error) }));
  });

  const refuse = (res: ServerResponse, status: number, message: string): void => sendJson(res, status, { ok: false, error: { code: status === 401 ? 'invalid_argument' : 'forbidden', message } });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    if (!hostAllowed(req)) return refuse(res, 421, 'Unknown host name for this station');
    const url = new URL(req.url ?? '/', 'http://x');
    let pathname: string;
    try {
      pathname = decodeURIComponent(url.pathname);
    } catch {
      return sendJson(res, 400, { ok: false, error: { code: 'invalid_argument', message: 'Malformed percent-encoding in the path' } });
    }
    if (pathname === '/upload') {
      // An image for inspectUploads, streamed to disk (raw body) instead of base64 inside JSON.
      if (req.method !== 'POST') return sendJson(res, 405, { ok: false, error: { code: 'invalid_argument', message: 'Use POST' } });
      if (!originAllowed(req, false)) return refuse(res, 403, 'Calls from pages of another origin are refused');
      if (!/^application\/octet-stream\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
        return sendJson(res, 415, { ok: false, error: { code: 'invalid_argument', message: 'Content-Type must be application/octet-stream' } });
      }
      if (!apiAuthorized(req)) return refuse(res, 401, 'Missing or wrong access key or token');
      if (Number(req.headers['content-length'] ?? 0) > maxUploadBytes) {
        res.setHeader('Connection', 'close');
        return sendJson(res, 413, { ok: false, error: { code: 'invalid_argument', message: 'Upload too large' } });
      }
      try {
        const staged = await options.service.stageUpload(req, maxUploadBytes);
        return sendJson(res, 200, { ok: true, value: staged });
      } catch (error) {
        res.setHeader('Connection', 'close');
        return sendJson(res, 413, { ok: false, error: toErrorBody(error) });
      }
    }
    if (pathname === '/inspect') {
      // A smart camera or an MES posts one image (raw body or multipart form) and gets the result back.
      if (req.method !== 'POST') return sendJson(res, 405, { ok: false, error: { code: 'invalid_argument', message: 'Use POST' } });
      if (!originAllowed(req, false)) return refuse(res, 403, 'Calls from pages of another origin are refused');
      if (!apiAuthorized(req)) return refuse(res, 401, 'Missing or wrong access key or token');
      if (Number(req.headers['content-length'] ?? 0) > maxUploadBytes) {
        res.setHeader('Connection', 'close');
        return sendJson(res, 413, { ok: false, error: { code: 'invalid_argument', message: 'Upload too large' } });
      }
      const type = req.headers['content-type'] ?? '';
      let upload: { id: string; name: string };
      try {
        if (/^multipart\/form-data/i.test(type)) {
          const { stored, name } = await firstMultipartFile(req, maxUploadBytes, (file) => options.service.stageUpload(file, maxUploadBytes));
          upload = { id: stored.id, name };
        } else if (/^(image\/[\w.+-]+|application\/octet-stream)\s*(;|$)/i.test(type)) {
          upload = { id: (await options.service.stageUpload(req, maxUploadBytes)).id, name: url.searchParams.get('name') ?? 'image' };
        } else {
          return sendJson(res, 415, { ok: false, error: { code: 'invalid_argument', message: 'Send the image as the raw body (image/* or application/octet-stream) or as a multipart/form-data file' } });
        }
      } catch (error) {
        res.setHeader('Connection', 'close');
        return sendJson(res, 413, { ok: false, error: { code: 'invalid_argument', message: (error as Error).message } });
      }
      const optional = (name: string): string | undefined => url.searchParams.get(name) ?? undefined;
      const result = await dispatch(options.service, callerOf(req), 'inspectLine', { upload, source: 'http', requestKey: optional('id'), group: optional('group') });
      if (!result.ok) return sendJson(res, statusOf(result), result);
      const line = result.value as LineResult;
      const media = (sha: string | null): string | null => (sha ? `/media/original/${sha}` : null);
      return sendJson(res, 200, { ok: true, value: { ...line, imageUrl: media(line.imageSha256), heatmapUrl: media(line.heatmapSha256) } });
    }
    if (pathname.startsWith('/api/')) {
      if (req.method !== 'POST') return sendJson(res, 405, { ok: false, error: { code: 'invalid_argument', message: 'Use POST' } });
      if (!originAllowed(req, false)) return refuse(res, 403, 'Calls from pages of another origin are refused');
      if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
        return sendJson(res, 415, { ok: false, error: { code: 'invalid_argument', message: 'Content-Type must be application/json' } });
      }
      if (!apiAuthorized(req)) return refuse(res, 401, 'Missing or wrong access key or token');
      const body = await readBody(req, MAX_BODY_BYTES);
      if (body === null) return sendJson(res, 413, { ok: false, error: { code: 'invalid_argument', message: 'Request body too large' } });
      let input: unknown;
      try {
        input = body.length ? JSON.parse(body.toString('utf8')) : undefined;
      } catch {
        return sendJson(res, 400, { ok: false, error: { code: 'invalid_argument', message: 'Request body is not JSON' } });
      }
      const result = await dispatch(options.service, callerOf(req), pathname.slice(5), input);
      return sendJson(res, result.ok ? 200 : statusOf(result), result);
    }
    const exported = /^\/media\/export\/([\w.-]+\.argus)$/.exec(pathname);
    if (exported) {
      if (!cookieAuthorized(req)) return refuse(res, 401, 'Missing or wrong access key or token');
      try {
        const bytes = await options.service.readExport(exported[1]);
        res.writeHead(200, { 'Content-Type': 'application/zip', 'Content-Disposition': `attachment; filename="${exported[1]}"`, 'Cache-Control': 'no-store' });
        return void res.end(bytes);
      } catch (error) {
        return sendJson(res, 404, { ok: false, error: toErrorBody(error) });
      }
    }
    const media = /^\/media\/(thumbnail|original)\/([0-9a-f]{64})$/.exec(pathname);
    if (media) {
      if (!cookieAuthorized(req)) return refuse(res, 401, 'Missing or wrong access key or token');
      try {
        const bytes = await options.service.readImage(media[2], media[1] as 'thumbnail' | 'original');
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Cache-Control': 'private, max-age=31536000, immutable' });
        return void res.end(bytes);
      } catch (error) {
        return sendJson(res, 404, { ok: false, error: toErrorBody(error) });
      }
    }
    return serveStatic(pathname, url, req, res);
  }

  function serveStatic(pathname: string, url: URL, req: IncomingMessage, res: ServerResponse): void {
    const relative = normalize(pathname).replace(/^([/\\])+/, '');
    let file = join(staticDir, relative);
    if (!file.startsWith(staticDir + sep) && file !== staticDir) return void sendJson(res, 404, { ok: false });
    if (!existsSync(file) || statSync(file).isDirectory()) file = join(staticDir, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      return void res.end('The renderer is not built. Run `npm run build` first.');
    }
    const headers = { 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'Cache-Control': 'no-cache' };
    if (!file.endsWith('index.html')) {
      res.writeHead(200, { ...headers, 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' });
      return void createReadStream(file).pipe(res);
    }
    // The page: with a token, opening `?token=` once stores it in a cookie and drops it from the address.
    const given = url.searchParams.get('token');
    if (options.token && given !== null) {
      if (!sameSecret(given, options.token)) return refuse(res, 401, 'Wrong access token');
      url.searchParams.delete('token');
      res.writeHead(303, { ...headers, Location: `${url.pathname}${url.search}`, 'Set-Cookie': `${TOKEN_COOKIE}=${options.token}; HttpOnly; SameSite=Strict; Path=/` });
      return void res.end();
    }
    if (options.token && !tokenGiven(req)) {
      res.writeHead(401, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
      return void res.end('Argus: open this station with its access token (http://station:port/?token=…)');
    }
    const meta = `<meta name="argus-key" content="${launchKey}">`;
    const source = readFileSync(file, 'utf8');
    const html = /<head[^>]*>/i.test(source) ? source.replace(/<head[^>]*>/i, (tag) => tag + meta) : source.replace(/^(<!doctype html>)?/i, (doctype) => doctype + meta);
    res.writeHead(200, {
      ...headers,
      'Content-Type': 'text/html; charset=utf-8',
      'Set-Cookie': `${KEY_COOKIE}=${launchKey}; HttpOnly; SameSite=Strict; Path=/`,
    });
    res.end(html);
  }

  const sockets = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const allowed = new URL(req.url ?? '/', 'http://x').pathname === '/events' && hostAllowed(req) && originAllowed(req, false) && cookieAuthorized(req);
    if (!allowed) {
      socket.write('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return void socket.destroy();
    }
    sockets.handleUpgrade(req, socket, head, (ws) => sockets.emit('connection', ws, req));
  });
  const unsubscribe = options.service.onEvent((event) => {
    const text = JSON.stringify(event);
    for (const client of sockets.clients) if (client.readyState === client.OPEN) client.send(text);
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolveListen);
  });
  const address = server.address() as AddressInfo;
  port = address.port;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}/`,
    close: async () => {
      unsubscribe();
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
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
