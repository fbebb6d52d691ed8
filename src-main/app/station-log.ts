import { join } from 'node:path';
import { RotatingLog } from '../platform/log-file.ts';
import type { ArgusService } from './service.ts';

/**
 * The station's log in `<data dir>/logs/`: failed jobs (training in its worker included) with
 * their error, and errors nothing else caught in this process. Returns the log for the adapter's
 * own events (a renderer that crashed, a helper process that died).
 */
export function attachStationLog(service: ArgusService, source: string): RotatingLog {
  const log = new RotatingLog(join(service.store.dataDir, 'logs'));
  log.write('info', source, `started, data directory ${service.store.dataDir}`);
  service.onEvent((event) => {
    if (event.type === 'job' && event.job.state === 'failed') log.write('error', `job ${event.job.kind}`, `${event.job.error?.code}: ${event.job.error?.message}`);
  });
  // A monitor only watches: the process still fails as it would without the log.
  process.on('uncaughtExceptionMonitor', (error, origin) => log.write('error', source, `${origin}: ${RotatingLog.describe(error)}`));
  return log;
}
