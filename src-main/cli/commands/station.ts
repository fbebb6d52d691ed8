import type { StationConfig, StationStatus } from '../../contract/contract.ts';
import { ArgusError } from '../../contract/errors.ts';
import { StationHost } from '../../station/station-host.ts';
import { type Command, intArg } from '../command.ts';

/** The configuration with the command line's changes (none: the stored one). */
function withOptions(config: StationConfig, values: Record<string, string | boolean | undefined>): StationConfig {
  const next = structuredClone(config);
  if (values.name !== undefined) next.name = values.name as string;
  if (values.opcua !== undefined) next.opcua = { ...next.opcua, enabled: values.opcua !== 'off', ...(values.opcua !== 'off' ? { port: intArg(values.opcua, '--opcua')! } : {}) };
  if (values['opcua-security'] !== undefined) {
    const security = values['opcua-security'];
    if (security !== 'none' && security !== 'sign-encrypt') throw new ArgusError('invalid_argument', '--opcua-security must be none or sign-encrypt');
    next.opcua.security = security;
  }
  if (values.modbus !== undefined) next.modbus = { ...next.modbus, enabled: values.modbus !== 'off', ...(values.modbus !== 'off' ? { port: intArg(values.modbus, '--modbus')! } : {}) };
  if (values['modbus-host'] !== undefined) next.modbus.host = values['modbus-host'] as string;
  if (values.mqtt !== undefined) next.mqtt = { ...next.mqtt, enabled: values.mqtt !== 'off', ...(values.mqtt !== 'off' ? { url: values.mqtt as string } : {}) };
  if (values['mqtt-topic'] !== undefined) next.mqtt.topic = values['mqtt-topic'] as string;
  return next;
}

export const statusLine = (s: StationStatus): string =>
  [`station "${s.config.name}"`, s.opcua && `OPC UA ${s.opcua.endpoint}`, s.modbus && `Modbus TCP ${s.modbus.address}`, s.mqtt && `MQTT → ${s.mqtt.topic}`, ...s.errors.map((e) => `not started: ${e}`)]
    .filter(Boolean).join(' · ');

export const station: Command = {
  name: 'station',
  usage: 'station [--name NAME] [--opcua PORT|off] [--opcua-security none|sign-encrypt] [--modbus PORT|off] [--modbus-host HOST] [--mqtt URL|off] [--mqtt-topic TOPIC] [--json]',
  summary: 'Runs the line station until Ctrl-C or SIGTERM: PLC triggers over OPC UA and Modbus TCP, every result to MQTT,\n'
    + 'with the production model (a promotion takes effect at the next image). Options change the stored configuration first (audited).',
  options: {
    name: { type: 'string' }, opcua: { type: 'string' }, 'opcua-security': { type: 'string' }, modbus: { type: 'string' }, 'modbus-host': { type: 'string' },
    mqtt: { type: 'string' }, 'mqtt-topic': { type: 'string' },
  },
  async run(ctx, values) {
    const stored = await ctx.call('getStationConfig', undefined);
    const config = withOptions(stored, values as Record<string, string | undefined>);
    if (JSON.stringify(config) !== JSON.stringify(stored)) await ctx.call('setStationConfig', config);
    const host = new StationHost(ctx.service(), (message) => ctx.progress(message));
    const status = await host.start();
    ctx.out(ctx.json ? JSON.stringify(status) : `${statusLine(status)} (Ctrl-C to stop)`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await host.stop();
  },
};
