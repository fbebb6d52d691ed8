import { hostname } from 'node:os';
import type { StationConfig, StationStatus } from '../contract/contract.ts';

/** A station's line listeners as the process hosting them runs them (src-main/station/). */
export interface StationRuntime {
  status(): StationStatus;
  reconfigure(config: StationConfig): Promise<void>;
}

/**
 * The stored configuration completed with the defaults: every listener off, the usual ports
 * (OPC UA 4840, Modbus TCP 502 is privileged on Linux, so 5020), Modbus on loopback.
 */
export function stationConfigOf(stored: Partial<StationConfig> | undefined): StationConfig {
  const name = stored?.name ?? (hostname().replace(/[^\w.-]+/g, '-').slice(0, 64) || 'station');
  return {
    name,
    opcua: { enabled: false, port: 4840, security: 'none', ...stored?.opcua },
    modbus: { enabled: false, host: '127.0.0.1', port: 5020, ...stored?.modbus },
    mqtt: { enabled: false, url: 'mqtt://127.0.0.1:1883', topic: 'argus', ...stored?.mqtt },
  };
}

export const stoppedStation = (config: StationConfig): StationStatus => ({ running: false, config, opcua: null, modbus: null, mqtt: null, handshake: null, errors: [] });

/** A configuration as it may be shown or logged: without the MQTT password. */
export const withoutSecrets = (config: StationConfig): StationConfig => ({ ...config, mqtt: { ...config.mqtt, password: undefined } });
