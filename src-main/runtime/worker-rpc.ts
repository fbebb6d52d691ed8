import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type MessagePort, parentPort, Worker, type WorkerOptions } from 'node:worker_threads';
import type { ApiErrorBody } from '../contract/contract.ts';
import { ArgusError, toErrorBody } from '../contract/errors.ts';

type Handlers = Record<string, (...args: never[]) => Promise<unknown>>;

type Request = { id: number; method: string; args: unknown[] };
type Response = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: ApiErrorBody };

/** Worker side: answers calls from the parent thread with the given handlers. */
export function serveInWorker(handlers: Handlers, port: MessagePort | null = parentPort): void {
  if (!port) throw new Error('serveInWorker must run inside a worker thread');
  port.on('message', async ({ id, method, args }: Request) => {
    let response: Response;
    try {
      const handler = handlers[method];
      if (!handler) throw new ArgusError('invalid_argument', `Worker has no method ${method}`);
      response = { id, ok: true, value: await (handler as (...a: unknown[]) => Promise<unknown>)(...args) };
    } catch (error) {
      response = { id, ok: false, error: toErrorBody(error) };
    }
    port.postMessage(response);
  });
}

/**
 * Starts a worker module: built bundles ship it as <name>.js beside the caller or one folder up
 * (when the caller was bundled into a shared chunk); in development it is TypeScript, run via tsx.
 */
export function startWorker(moduleBaseUrl: string, name: string, options: WorkerOptions = {}): Worker {
  for (const candidate of [`./${name}.js`, `../${name}.js`]) {
    const url = new URL(candidate, moduleBaseUrl);
    if (existsSync(fileURLToPath(url))) return new Worker(url, options);
  }
  return new Worker(new URL(`./${name}.ts`, moduleBaseUrl), { ...options, execArgv: [...(options.execArgv ?? []), '--import', 'tsx'] });
}

/**
 * Parent side: a typed proxy over a worker thread. Calls queue in the worker; if the worker
 * dies, pending calls fail with its error and the next call starts a fresh worker.
 */
export class WorkerClient<T extends Handlers> {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  constructor(private readonly moduleBaseUrl: string, private readonly name: string) {}

  call<M extends keyof T & string>(method: M, ...args: Parameters<T[M]>): Promise<Awaited<ReturnType<T[M]>>> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.ref(); // keep the process alive while calls are pending, not while idle
      worker.postMessage({ id, method, args } satisfies Request);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker(this.moduleBaseUrl, this.name);
    worker.on('message', (response: Response) => {
      const call = this.pending.get(response.id);
      if (!call) return;
      this.pending.delete(response.id);
      if (this.pending.size === 0) worker.unref();
      if (response.ok) call.resolve(response.value);
      else call.reject(new ArgusError(response.error.code, response.error.message));
    });
    const failAll = (error: Error): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const call of this.pending.values()) call.reject(error);
      this.pending.clear();
    };
    worker.on('error', (error) => failAll(new ArgusError('internal', `Inference worker failed: ${error.message}`, { key: 'workerFailed', params: { reason: error.message } })));
    worker.on('exit', (code) => failAll(new ArgusError('internal', `Inference worker exited (code ${code})`, { key: 'workerFailed', params: { reason: `exit code ${code}` } })));
    this.worker = worker;
    return worker;
  }
}
