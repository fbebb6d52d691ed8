import type { ApiErrorBody, TrainingProgressInfo } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';
import type { JobContext } from '../jobs/job-runner.ts';
import type { TrainRequest } from './train-model.ts';
import { startWorker } from '../runtime/worker-rpc.ts';

/** What the worker needs: the data directory, the backbone weights file and the training request. */
export interface TrainingJobRequest {
  dataDir: string;
  weightsPath: string;
  input: Omit<TrainRequest, 'backbone' | 'onProgress'>;
}

export interface WorkerTrainingResult {
  modelId: number;
  runId?: number;
  seconds: number;
  metrics: Record<string, unknown>;
}

export type TrainingWorkerMessage =
  | { type: 'progress'; phase: string; done: number; total: number }
  | { type: 'training'; info: TrainingProgressInfo }
  | { type: 'done'; result: WorkerTrainingResult }
  | { type: 'error'; error: ApiErrorBody };

/**
 * Runs a fine-tuning mode's training in a worker thread and relays its progress to the job.
 * Cancelling the job asks the worker to stop at its next check (between the parts of a step).
 */
export function trainInWorker(request: TrainingJobRequest, ctx: JobContext): Promise<WorkerTrainingResult> {
  const worker = startWorker(import.meta.url, 'training-worker', { workerData: request });
  const cancel = (): void => worker.postMessage({ type: 'cancel' });
  ctx.signal.addEventListener('abort', cancel, { once: true });
  return new Promise<WorkerTrainingResult>((resolve, reject) => {
    let settled = false;
    worker.on('message', (message: TrainingWorkerMessage) => {
      if (message.type === 'progress') ctx.progress(message.phase, message.done, message.total);
      else if (message.type === 'training') ctx.training?.(message.info);
      else {
        settled = true;
        if (message.type === 'done') resolve(message.result);
        else reject(new ArgusError(message.error.code, message.error.message, message.error.text));
      }
    });
    worker.on('error', (error) => {
      settled = true;
      reject(new ArgusError('internal', `Training worker failed: ${error.message}`, { key: 'workerFailed', params: { reason: error.message } }));
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new ArgusError('internal', `Training worker exited (code ${code})`, { key: 'workerFailed', params: { reason: `exit code ${code}` } }));
    });
  }).finally(() => {
    ctx.signal.removeEventListener('abort', cancel);
    void worker.terminate();
  });
}
