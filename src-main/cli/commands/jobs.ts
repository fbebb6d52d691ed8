import type { JobStatus } from '../../api/contract.ts';
import { ArgusError } from '../../api/errors.ts';
import type { ArgusService } from '../../api/service.ts';
import { type CommandContext, progressText } from '../command.ts';

/** Follows an engine job to its end, printing progress; returns its result or throws its error. */
export async function followJob<T>(ctx: CommandContext, service: ArgusService, started: JobStatus): Promise<T> {
  const unsubscribe = service.onEvent(({ job }) => {
    if (job.id === started.id && job.state === 'running') ctx.progress(progressText(job.phase, job.done, job.total));
  });
  // Ctrl-C, or SIGTERM from a service manager, cancels the job cleanly (the engine stops within the current image).
  const cancel = (): void => void service.cancelJob({ jobId: started.id });
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
