import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import type { ExecutionProviderChoice, ExecutionProviderReport } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';
import { convertToFloat16 } from '../model/float16.ts';
import { vulkanLoaderPresent } from './vulkan-probe.ts';

export type ProviderName = 'cuda' | 'webgpu' | 'cpu';

// Provider probing failures are reported through ExecutionProviderReport, not onnxruntime's log.
ort.env.logLevel = 'fatal';

const AUTO_ORDER: ProviderName[] = ['cuda', 'webgpu', 'cpu'];

export interface SessionRequest {
  /** Identifies the model (e.g. model version id + file digest). */
  modelKey: string;
  model: Uint8Array | string;
  provider: ExecutionProviderChoice;
  /** Fixed sizes for the graph's symbolic dimensions (N, H, W), so the session can specialise. */
  dims?: Record<string, number>;
  /** CPU threads; defaults to all cores. */
  threads?: number;
  /**
   * Let CPU threads spin between parallel sections (onnxruntime's default), for training sessions
   * (frozen part, step graph, evaluation): a step is one long run of many small kernels. Off by
   * default: inference runs several sessions one after another (features, then the scorer), and
   * threads left spinning by one slow the next (a 300×300 anomaly inspection: 114 ms with spinning,
   * 78 ms without). Every CPU session gets every core explicitly: onnxruntime's own default ran the
   * anomaly backbone ~1.6× and a detection training step ~1.4× slower on a 2-core machine.
   */
  spinning?: boolean;
  /** 'fp16' converts the model to half precision first (for GPU execution providers). */
  precision?: 'fp32' | 'fp16';
}

export interface ReadySession {
  session: ort.InferenceSession;
  report: ExecutionProviderReport;
}

const providerOptions = (name: ProviderName): ort.InferenceSession.ExecutionProviderConfig =>
  name === 'cuda' ? { name: 'cuda', deviceId: 0 } : name === 'webgpu' ? { name: 'webgpu' } : { name: 'cpu' };

/**
 * Creates a session on the requested execution provider. 'auto' tries CUDA, then WebGPU, then the
 * CPU, and the report says which one is active and why each earlier one was passed over. An
 * explicit choice that fails is an error (the user asked for that device).
 */
export async function createSession(request: Omit<SessionRequest, 'modelKey'>): Promise<ReadySession> {
  const candidates = request.provider === 'auto' ? AUTO_ORDER : [request.provider];
  const model = request.precision === 'fp16'
    ? convertToFloat16(typeof request.model === 'string' ? readFileSync(request.model) : request.model)
    : request.model;
  const fallbacks: ExecutionProviderReport['fallbacks'] = [];
  for (const provider of candidates) {
    if (provider === 'webgpu' && request.provider === 'auto' && !vulkanLoaderPresent()) {
      fallbacks.push({ provider, reason: 'no Vulkan loader on this machine (WebGPU needs a GPU driver with Vulkan)' });
      continue;
    }
    try {
      const options: ort.InferenceSession.SessionOptions = {
        executionProviders: [providerOptions(provider)],
        graphOptimizationLevel: 'all',
        logSeverityLevel: 4,
        freeDimensionOverrides: request.dims,
      };
      if (provider === 'cpu') {
        options.intraOpNumThreads = request.threads ?? availableParallelism();
        if (!request.spinning) options.extra = { session: { intra_op: { allow_spinning: '0' } } };
      }
      const session = typeof model === 'string'
        ? await ort.InferenceSession.create(model, options)
        : await ort.InferenceSession.create(model, options);
      return { session, report: { requested: request.provider, active: provider, fallbacks } };
    } catch (error) {
      const reason = describeProviderFailure(provider, error);
      if (request.provider !== 'auto') throw new ArgusError('unsupported', `Execution provider ${provider} is not available: ${reason}`, { key: 'providerUnavailable', params: { provider, reason } });
      fallbacks.push({ provider, reason });
    }
  }
  throw new ArgusError('internal', `No execution provider could run the model: ${fallbacks.map((f) => `${f.provider}: ${f.reason}`).join('; ')}`);
}

function describeProviderFailure(provider: ProviderName, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (provider === 'cuda' && /Failed to load shared library|providers_shared|providers_cuda/.test(message)) {
    return 'the CUDA execution provider is not installed (see README: GPU on a factory PC) or CUDA 12 / cuDNN 9 are missing';
  }
  if (provider === 'webgpu' && /adapter/i.test(message)) return 'no WebGPU adapter (no GPU with a Vulkan driver was found)';
  if (/protobuf parsing failed|Load model .* failed|invalid model|Failed to load model/i.test(message)) {
    throw new ArgusError('bad_input', `The model file is damaged or not an ONNX model: ${message.split('\n')[0]}`, { key: 'modelFileDamaged' });
  }
  return message.split('\n')[0].slice(0, 300);
}

/**
 * Sessions keyed by model, provider and input shape, least recently used dropped first. A session
 * per shape lets onnxruntime specialise the graph for it (fixed dims → static kernels on GPU EPs).
 */
export class SessionCache {
  private readonly entries = new Map<string, Promise<ReadySession>>();
  private readonly capacity: number;

  constructor(capacity = 4) {
    this.capacity = capacity;
  }

  get(request: SessionRequest): Promise<ReadySession> {
    const key = `${request.modelKey}|${request.provider}|${request.precision ?? 'fp32'}|${JSON.stringify(request.dims ?? {})}`;
    let entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
    } else {
      entry = createSession(request);
      entry.catch(() => this.entries.delete(key));
    }
    this.entries.set(key, entry);
    while (this.entries.size > this.capacity) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, Promise<ReadySession>];
      this.entries.delete(oldestKey);
      void oldest.then((s) => s.session.release()).catch(() => undefined);
    }
    return entry;
  }

  async clear(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.then((s) => s.session.release()).catch(() => undefined)));
  }
}

/**
 * Where a model's sessions come from: a shared cache (sessions outlive the detector and are
 * reused by the next job), or created for this detector alone (released with it).
 */
export interface SessionSource {
  cache?: SessionCache;
  /** Cache key prefix identifying the model's files (e.g. their digests). */
  key?: string;
}

/** A session for one of a model's graphs: from the source's cache, or owned by the caller. */
export async function openSession(source: SessionSource, role: string, model: Uint8Array, provider: ExecutionProviderChoice, dims?: Record<string, number>): Promise<ReadySession & { owned: boolean }> {
  if (source.cache && source.key) return { ...(await source.cache.get({ modelKey: `${source.key}:${role}`, model, provider, dims })), owned: false };
  return { ...(await createSession({ model, provider, dims })), owned: true };
}
