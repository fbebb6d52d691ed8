// Runs a fine-tuning job in a worker thread, so batch assembly and bookkeeping never block the
// thread that serves the UI. It opens its own connection to the data directory.
import { parentPort, workerData } from 'node:worker_threads';
import { toErrorBody } from '../contract/errors.ts';
import { loadResNet50Weights } from '../model/resnet50.ts';
import { trainAndRegister } from './train-model.ts';
import { Store } from '../store/store.ts';
import type { TrainingJobRequest, TrainingWorkerMessage } from './training-client.ts';

const port = parentPort!;
const request = workerData as TrainingJobRequest;
const post = (message: TrainingWorkerMessage): void => port.postMessage(message);
const controller = new AbortController();
port.on('message', (message: { type: 'cancel' }) => {
  if (message.type === 'cancel') controller.abort();
});

const store = new Store(request.dataDir);
try {
  const { model, runId, seconds } = await trainAndRegister(store, {
    ...request.input, backbone: loadResNet50Weights(request.weightsPath),
    onProgress: (info) => post({ type: 'training', info }),
  }, {
    signal: controller.signal,
    progress: (phase, done, total) => post({ type: 'progress', phase, done, total }),
  });
  post({ type: 'done', result: { modelId: model.id, runId, seconds, metrics: model.metrics } });
} catch (error) {
  if (process.env.ARGUS_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
  post({ type: 'error', error: toErrorBody(error) });
} finally {
  store.close();
  // The cancel listener would keep this thread alive.
  port.close();
}
