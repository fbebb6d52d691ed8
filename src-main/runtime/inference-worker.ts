// Runs in a worker thread: decoding, network and post-processing never block the caller's thread.
import { readFile } from 'node:fs/promises';
import type { ExecutionProviderChoice } from '../api/contract.ts';
import { classifyImage } from './classify.ts';
import { serveInWorker } from './worker-rpc.ts';

export const inferenceHandlers = {
  async classify(weightsPath: string, imagePath: string, provider: ExecutionProviderChoice, precision: 'fp32' | 'fp16' = 'fp32') {
    return classifyImage(weightsPath, await readFile(imagePath), provider, precision);
  },
};

export type InferenceHandlers = typeof inferenceHandlers;

serveInWorker(inferenceHandlers);
