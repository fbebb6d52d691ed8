import type { JobStatus } from '../../contract/contract.ts';
import { ArgusError } from '../../contract/errors.ts';
import { type CommandContext, progressText } from '../command.ts';

/** Follows an engine job to its end, printing progress; returns its result or throws its error. */
export async function followJob<T>(ctx: CommandContext, started: JobStatus): Promise<T> {
  const service = ctx.service();
  const unsubscribe = service.onEvent(({ job }) => {
    if (job.id === started.id && job.state === 'running') ctx.progress(progressText(job.phase, job.done, job.total));
  });
  // Ctrl-C, or SIGTERM from a service manager, cancels the job cleanly (the engine stops within the current image).
  const cancel = (): void => void ctx.call('cancelJob', { jobId: started.id });
  process.once('SIGINT', cancel);
  process.once('SIGTERM', cancel);
  try {
    const finished = await service.jobs.wait(started.id);
    if (finished.state !== 'succeeded') throw new ArgusError(finished.error?.code ?? 'internal', finished.error?.message ?? `${started.kind} failed`);
    return finished.result as T;
  } finally {
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
    unsubscribe();
  }
}
