// Browser mode: `npm run web -- [--port 5170] [--host 127.0.0.1] [--token T] [--allow-origin URL]… [--data-dir DIR]`
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { resolveDataDir } from '../platform/data-dir.ts';
import { ArgusService } from '../app/service.ts';
import { attachStationLog } from '../app/station-log.ts';
import { startWebServer } from './server.ts';
import { StationHost } from '../station/station-host.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.ARGUS_PORT ?? '5170' },
    host: { type: 'string', default: '127.0.0.1' },
    token: { type: 'string', default: process.env.ARGUS_TOKEN },
    'data-dir': { type: 'string' },
    renderer: { type: 'string' },
    'allow-origin': { type: 'string', multiple: true },
  },
});

const service = new ArgusService({ dataDir: resolveDataDir(values['data-dir']), actor: 'web' });
const log = attachStationLog(service, 'web');
// The line listeners the station's configuration asks for (OPC UA, Modbus TCP, MQTT) run in this process.
const station = new StationHost(service, (message) => log.write('info', 'station', message));
try {
  const server = await startWebServer({
    service,
    staticDir: values.renderer ?? fileURLToPath(new URL('../renderer', import.meta.url)),
    host: values.host,
    port: Number(values.port),
    token: values.token,
    allowedOrigins: values['allow-origin'],
  });
  process.stdout.write(`Argus browser mode: ${server.url}  (data: ${service.store.dataDir})\n`);
  await station.start();
  const stop = async (): Promise<void> => {
    await station.stop();
    await server.close();
    await service.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (error) {
  process.stderr.write(`argus web: ${(error as Error).message}\n`);
  await service.close();
  process.exit(1);
}
