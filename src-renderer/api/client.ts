import type { ApiErrorBody, ApiResult, ArgusApi, ArgusBridge, ArgusEvent, ErrorCode, PickPathsRequest } from '../../src-main/contract/contract.ts';
import { errorText } from '../i18n/engine-errors.ts';

declare global {
  interface Window {
    argus?: ArgusBridge;
  }
}

/** An engine error, its message in the page's language where the engine gave a message key. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  constructor(body: ApiErrorBody) {
    super(errorText(body));
    this.code = body.code;
  }
}

export interface ArgusClient {
  api: ArgusApi;
  onEvent(listener: (event: ArgusEvent) => void): () => void;
  mediaUrl(variant: 'thumbnail' | 'original', sha256: string): string;
  /** Where a page downloads a model package written into the data directory's exports/. */
  exportUrl(fileName: string): string;
  /** Browser mode: streams a file to the station (POST /upload) and returns its id for inspectUploads. */
  stageUpload?(file: Blob): Promise<{ id: string }>;
  /** Desktop app: the native open dialog; the paths the user chose. */
  pickPaths?(request: PickPathsRequest): Promise<string[]>;
}

/**
 * Browser mode: streams the files to the station (POST /upload) and returns what the calls that
 * take uploads want; `name` is the file's path inside a chosen folder when it has one.
 */
export async function stageFiles(files: File[]): Promise<{ id: string; name: string }[]> {
  if (!client.stageUpload) throw new Error('Files are staged only in browser mode');
  return Promise.all(files.map(async (f) => ({ id: (await client.stageUpload!(f)).id, name: f.webkitRelativePath || f.name })));
}

/** The typed API as a proxy: every method is one invoke over whichever transport is present. */
function apiOver(invoke: (method: string, input: unknown) => Promise<ApiResult<unknown>>): ArgusApi {
  return new Proxy({} as ArgusApi, {
    get: (_target, method: string) => async (input?: unknown) => {
      const result = await invoke(method, input);
      if (!result.ok) throw new ApiError(result.error);
      return result.value;
    },
  });
}

function electronClient(bridge: ArgusBridge): ArgusClient {
  return {
    api: apiOver(bridge.invoke),
    onEvent: bridge.onEvent,
    mediaUrl: (variant, sha256) => `${bridge.mediaBase}${variant}/${sha256}`,
    exportUrl: (fileName) => `${bridge.mediaBase}export/${encodeURIComponent(fileName)}`,
    pickPaths: bridge.pickPaths,
  };
}

/**
 * Browser mode: POST /api/<method>, events over a WebSocket that reconnects. Every call carries
 * the key the server put into this page (a page of another origin cannot read it); images and the
 * event socket are authorised by the cookie that came with the page.
 */
function httpClient(): ArgusClient {
  const key = document.querySelector<HTMLMetaElement>('meta[name="argus-key"]')?.content ?? '';
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'X-Argus-Key': key };
  // The tab's session: the server keeps its role (operator until the engineer PIN is given).
  const session = sessionStorage.getItem('argus.session') ?? crypto.randomUUID();
  sessionStorage.setItem('argus.session', session);
  headers['X-Argus-Session'] = session;
  const listeners = new Set<(event: ArgusEvent) => void>();
  let socket: WebSocket | undefined;
  const connect = (): void => {
    const url = new URL('/events', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    socket = new WebSocket(url);
    socket.onmessage = (message) => {
      const event = JSON.parse(String(message.data)) as ArgusEvent;
      for (const listener of listeners) listener(event);
    };
    socket.onclose = () => setTimeout(connect, 1000);
  };
  return {
    api: apiOver(async (method, input) => {
      const response = await fetch(`/api/${method}`, { method: 'POST', headers, body: JSON.stringify(input ?? {}) });
      return (await response.json()) as ApiResult<unknown>;
    }),
    onEvent(listener) {
      if (!socket) connect();
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    mediaUrl: (variant, sha256) => `/media/${variant}/${sha256}`,
    exportUrl: (fileName) => `/media/export/${encodeURIComponent(fileName)}`,
    async stageUpload(file) {
      const response = await fetch('/upload', { method: 'POST', headers: { ...headers, 'Content-Type': 'application/octet-stream' }, body: file });
      const result = (await response.json()) as ApiResult<{ id: string }>;
      if (!result.ok) throw new ApiError(result.error);
      return result.value;
    },
  };
}

export const client: ArgusClient = window.argus ? electronClient(window.argus) : httpClient();
export const api = client.api;
