// Runs in a worker thread: decoding, network and post-processing never block the caller's thread.
import { MAX_FILE_BYTES, readUserFile } from '../platform/user-file.ts';
import type { ExecutionProviderChoice } from '../contract/contract.ts';
import { classifyImage } from './classify.ts';
import { serveInWorker } from './worker-rpc.ts';

export const inferenceHandlers = {
  async classify(weightsPath: string, imagePath: string, provider: ExecutionProviderChoice, precision: 'fp32' | 'fp16' = 'fp32') {
    return classifyImage(weightsPath, await readUserFile(imagePath, 'image', MAX_FILE_BYTES.image), provider, precision);
  },
};

export type InferenceHandlers = typeof inferenceHandlers;

serveInWorker(inferenceHandlers);
