import { join } from 'node:path';
import type { LineResult, StationConfig, StationStatus } from '../contract/contract.ts';
import { ArgusError } from '../contract/errors.ts';
import { CallerSession } from '../app/roles.ts';
import { dispatch } from '../app/dispatch.ts';
import type { ArgusService } from '../app/service.ts';
import type { StationRuntime } from '../app/station-config.ts';
import { ModbusStation } from './modbus-server.ts';
import { MqttResultSink } from './mqtt-sink.ts';
import { OpcUaStation } from './opcua-server.ts';
import { PlcHandshake, type TriggerRequest } from './plc-handshake.ts';

/**
 * Runs a station's line listeners in the process that owns the data directory (the desktop app,
 * browser mode, or `argus station`): the OPC UA and Modbus servers around one trigger handshake,
 * and the MQTT result sink. Every inspection goes through the same validated dispatch as any other
 * caller, as an operator. A new configuration stops what runs and starts what it asks for.
 */
export class StationHost implements StationRuntime {
  private config?: StationConfig;
  private handshake?: PlcHandshake;
  private opcua?: OpcUaStation;
  private modbus?: ModbusStation;
  private mqtt?: MqttResultSink;
  private errors: string[] = [];
  private readonly caller = new CallerSession();

  constructor(private readonly service: ArgusService, private readonly log: (message: string) => void = () => undefined) {
    service.attachStation(this);
  }

  /** Starts the stored configuration. */
  async start(): Promise<StationStatus> {
    await this.reconfigure(this.service.stationSettings());
    return this.status();
  }

  async reconfigure(config: StationConfig): Promise<void> {
    await this.stop();
    this.config = config;
    this.errors = [];
    this.handshake = new PlcHandshake((request) => this.inspect(request, 'plc'), (error) => this.log(`trigger failed: ${(error as Error).message}`));
    const attempt = async (what: string, start: () => Promise<void>): Promise<boolean> => {
      try {
        await start();
        return true;
      } catch (error) {
        this.errors.push(`${what}: ${(error as Error).message}`);
        this.log(`${what} did not start: ${(error as Error).message}`);
        return false;
      }
    };
    if (config.opcua.enabled) {
      const opcua = new OpcUaStation(this.handshake, {
        port: config.opcua.port, security: config.opcua.security, pkiFolder: join(this.service.store.dataDir, 'pki', 'opcua'),
        inspectNow: (path, recipe) => this.inspect({ requestId: 0, imagePath: path, ...(recipe ? { recipe } : {}) }, 'opcua-method'),
      });
      if (await attempt('OPC UA', () => opcua.start())) this.opcua = opcua;
    }
    if (config.modbus.enabled) {
      const modbus = new ModbusStation(this.handshake, { host: config.modbus.host, port: config.modbus.port });
      if (await attempt('Modbus TCP', () => modbus.start())) this.modbus = modbus;
    }
    if (config.mqtt.enabled) {
      const mqtt = new MqttResultSink(this.service, { url: config.mqtt.url, topic: config.mqtt.topic, station: config.name, username: config.mqtt.username, password: config.mqtt.password });
      await attempt('MQTT', async () => mqtt.start());
      this.mqtt = mqtt;
    }
    this.log(`station "${config.name}": ${[this.opcua && `OPC UA ${this.opcua.endpointUrl}`, this.modbus && `Modbus TCP ${config.modbus.host}:${config.modbus.port}`, this.mqtt && `MQTT ${config.mqtt.url}`].filter(Boolean).join(', ') || 'no line listeners'}`);
  }

  status(): StationStatus {
    const config = this.config!;
    const h = this.handshake?.state;
    return {
      running: !!(this.opcua || this.modbus || this.mqtt), config,
      opcua: this.opcua ? { endpoint: this.opcua.endpointUrl } : null,
      modbus: this.modbus ? { address: `${config.modbus.host}:${config.modbus.port}` } : null,
      mqtt: this.mqtt ? { connected: this.mqtt.connected, published: this.mqtt.published, topic: this.mqtt.topics.result } : null,
      handshake: h ? { ready: h.ready, busy: h.busy, done: h.done, verdict: h.verdict, errorCode: h.errorCode, inspectionId: h.inspectionId, requestId: h.requestId } : null,
      errors: [...this.errors],
    };
  }

  /** Waits for a trigger in progress, then stops every listener; with `graceful` false the MQTT sink drops like a crash would. */
  async stop(graceful = true): Promise<void> {
    await this.handshake?.settled();
    await Promise.all([this.opcua?.stop(), this.modbus?.stop(), this.mqtt?.stop(graceful)]);
    [this.opcua, this.modbus, this.mqtt] = [undefined, undefined, undefined];
  }

  private async inspect(request: TriggerRequest, source: string): Promise<LineResult> {
    // A request id of 0 means "no id": such a trigger is inspected every time.
    const requestKey = request.requestId ? String(request.requestId) : undefined;
    const result = await dispatch(this.service, this.caller, 'inspectLine', {
      path: request.imagePath, source, ...(requestKey ? { requestKey } : {}), ...(request.recipe !== undefined ? { project: request.recipe } : {}),
    });
    if (!result.ok) throw new ArgusError(result.error.code, result.error.message, result.error.text);
    return result.value as LineResult;
  }
}
