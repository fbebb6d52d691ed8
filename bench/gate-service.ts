import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobStatus } from '../src-main/contract/contract.ts';
import { ArgusService } from '../src-main/app/service.ts';

export interface GateService {
  service: ArgusService;
  /** Waits for a job and returns its result; a failed job throws. */
  finish(started: JobStatus): Promise<unknown>;
  /** Closes the service and removes the data directory when it was a temporary one. */
  close(): Promise<void>;
}

/** Non-integer numbers to 4 decimals (inside arrays and objects too), for the gates' JSON; anything else as it is. */
export const round4 = (x: unknown): unknown => {
  if (typeof x === 'number') return Number.isInteger(x) ? x : Math.round(x * 10000) / 10000;
  if (Array.isArray(x)) return x.map(round4);
  if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, round4(v)]));
  return x;
};

/** What a running job is doing, as one progress line (training jobs with their loss). */
function describe(job: JobStatus): string {
  const t = job.training;
  if (t?.phase === 'training') {
    const parts = t.lossParts ? ` (${Object.entries(t.lossParts).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')})` : '';
    return `train: epoch ${t.epoch}/${t.epochs} step ${t.step}/${t.totalSteps} loss ${t.loss?.toFixed(4)}${parts} lr ${t.learningRate.toExponential(2)} eta ${Math.round(t.etaSeconds ?? 0)}s`;
  }
  if (t?.validation) {
    const v = t.validation;
    const measure = v.ap50 ? `AP50 ${JSON.stringify(round4(v.ap50))}` : v.accuracy !== undefined ? `accuracy ${v.accuracy.toFixed(4)}` : `IoU ${JSON.stringify(v.iou)}`;
    return `train: epoch ${t.epoch} validation loss ${v.loss.toFixed(4)} ${measure}`;
  }
  return `${job.kind}: ${job.phase} ${job.total ? Math.floor((job.done / job.total) * 10) * 10 : 0}%`;
}

/** The engine for a quality-gate command, on `dataDir` or a fresh temporary one, with progress on stderr. */
export function openGateService(dataDir?: string): GateService {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'argus-eval-'));
  const service = new ArgusService({ dataDir: dir, actor: 'eval' });
  let lastLine = '';
  service.onEvent(({ job }) => {
    const line = describe(job);
    if (job.state === 'running' && line !== lastLine) process.stderr.write(`${(lastLine = line)}\n`);
  });
  return {
    service,
    async finish(started) {
      const job = await service.jobs.wait(started.id);
      if (job.state !== 'succeeded') throw new Error(`${job.kind} failed: ${job.error?.message}`);
      return job.result;
    },
    async close() {
      await service.close();
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
