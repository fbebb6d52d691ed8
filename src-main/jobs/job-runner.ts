import { randomUUID } from 'node:crypto';
import type { JobKind, JobStatus, TrainingProgressInfo } from '../contract/contract.ts';
import { ArgusError, toErrorBody } from '../contract/errors.ts';

export interface JobContext {
  signal: AbortSignal;
  progress(phase: string, done: number, total: number): void;
  /** Training jobs: publishes the latest training progress with the job. */
  training?(info: TrainingProgressInfo): void;
}

type Listener = (job: JobStatus) => void;

/** Finished jobs kept for callers to read their results; older ones are forgotten (a station runs for weeks). */
const KEEP_FINISHED = 200;

/** Long-running engine work (imports, training, batches) with progress, cancellation and events. */
export class JobRunner {
  private readonly jobs = new Map<string, { status: JobStatus; controller: AbortController; finished: Promise<void> }>();
  private readonly listeners = new Set<Listener>();
  /** Ids of finished jobs, oldest finish first. */
  private readonly finishedOrder: string[] = [];

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(kind: JobKind, work: (ctx: JobContext) => Promise<unknown>): JobStatus {
    const status: JobStatus = { id: randomUUID(), kind, state: 'running', phase: 'starting', done: 0, total: 0 };
    const controller = new AbortController();
    let lastEmit = 0;
    // Where the current phase started (time and count), for its remaining-time estimate.
    let phaseStart = { phase: '', at: 0, done: 0 };
    const ctx: JobContext = {
      signal: controller.signal,
      progress: (phase, done, total) => {
        const now = performance.now();
        if (phase !== phaseStart.phase || done < phaseStart.done) phaseStart = { phase, at: now, done };
        const advanced = done - phaseStart.done;
        const etaSeconds = total > 0 && advanced > 0 ? (((now - phaseStart.at) / advanced) * (total - done)) / 1000 : null;
        Object.assign(status, { phase, done, total, etaSeconds });
        // Progress is throttled to ~10 events/s; the first and last of a phase always go out.
        if (done === 0 || done === total || now - lastEmit > 100) {
          lastEmit = now;
          this.emit(status);
        }
      },
      training: (info) => {
        status.training = info;
        this.emit(status);
      },
    };
    const entry = { status, controller, finished: Promise.resolve() };
    this.jobs.set(status.id, entry);
    this.emit(status);
    entry.finished = work(ctx).then(
      (result) => {
        Object.assign(status, { state: 'succeeded', result });
        this.emit(status);
        this.prune(status.id);
      },
      (error: unknown) => {
        const body = toErrorBody(error);
        Object.assign(status, { state: body.code === 'cancelled' ? 'cancelled' : 'failed', error: body });
        this.emit(status);
        this.prune(status.id);
      },
    );
    return { ...status };
  }

  /** Jobs of a kind that are still running. */
  running(kind: JobKind): JobStatus[] {
    return [...this.jobs.values()].filter((j) => j.status.kind === kind && j.status.state === 'running').map((j) => ({ ...j.status }));
  }

  get(id: string): JobStatus {
    const job = this.jobs.get(id);
    if (!job) throw new ArgusError('not_found', `No job with id ${id}`, { key: 'noJob', params: { id } });
    return { ...job.status };
  }

  cancel(id: string): JobStatus {
    const job = this.jobs.get(id);
    if (!job) throw new ArgusError('not_found', `No job with id ${id}`, { key: 'noJob', params: { id } });
    job.controller.abort();
    return { ...job.status };
  }

  async wait(id: string): Promise<JobStatus> {
    const job = this.jobs.get(id);
    if (!job) throw new ArgusError('not_found', `No job with id ${id}`, { key: 'noJob', params: { id } });
    await job.finished;
    return { ...job.status };
  }

  async cancelAll(): Promise<void> {
    for (const job of this.jobs.values()) job.controller.abort();
    await Promise.all([...this.jobs.values()].map((j) => j.finished));
  }

  private prune(id: string): void {
    this.finishedOrder.push(id);
    while (this.finishedOrder.length > KEEP_FINISHED) this.jobs.delete(this.finishedOrder.shift()!);
  }

  private emit(status: JobStatus): void {
    const snapshot = { ...status };
    for (const listener of this.listeners) listener(snapshot);
  }
}
