import { WorkerClient } from './worker-rpc.ts';
import type { InferenceHandlers } from './inference-worker.ts';

/** The engine's handle on the inference worker thread. */
export const createInferenceClient = (): WorkerClient<InferenceHandlers> => new WorkerClient(import.meta.url, 'inference-worker');
