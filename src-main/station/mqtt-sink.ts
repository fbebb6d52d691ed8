import mqtt, { type MqttClient } from 'mqtt';
import type { LineResult } from '../contract/contract.ts';
import type { ArgusService } from '../app/service.ts';

export interface MqttSinkConfig {
  /** mqtt://host:1883 or mqtts://… */
  url: string;
  /** Topics are <topic>/<station>/result, …/last (retained) and …/status (retained, online|offline). */
  topic: string;
  station: string;
  username?: string;
  password?: string;
}

/** The JSON one result is published as. */
export function resultMessage(station: string, r: LineResult): string {
  return JSON.stringify({
    station, inspectionId: r.inspectionId, at: r.createdAt, file: r.file, verdict: r.verdict, score: r.score, rawScore: r.rawScore,
    defectClass: r.defectClass, regions: r.regions, modelId: r.modelId, ms: r.ms, error: r.error,
  });
}

/**
 * Publishes every inspection result of the station, in order, to an MQTT broker: QoS 1 on
 * <topic>/<station>/result, the latest also retained on …/last, and the station's presence on
 * …/status (retained "online"; the broker publishes "offline" as the last will when the station
 * drops). It follows the history: the cursor advances only after the broker acknowledged a result,
 * so results of a broker outage or a station restart are sent when it is back, none skipped.
 */
export class MqttResultSink {
  private client?: MqttClient;
  private stopped = false;
  private loop?: Promise<void>;
  private sent = 0;

  constructor(private readonly service: ArgusService, private readonly config: MqttSinkConfig, private readonly pollMs = 200) {}

  get topics(): { result: string; last: string; status: string } {
    const base = `${this.config.topic.replace(/\/+$/, '')}/${this.config.station}`;
    return { result: `${base}/result`, last: `${base}/last`, status: `${base}/status` };
  }

  get published(): number {
    return this.sent;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  start(): void {
    const { status } = this.topics;
    this.client = mqtt.connect(this.config.url, {
      clientId: `argus-${this.config.station}`.slice(0, 64), clean: false, reconnectPeriod: 1000, connectTimeout: 5000,
      username: this.config.username, password: this.config.password,
      will: { topic: status, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    this.client.on('connect', () => void this.client?.publishAsync(status, 'online', { qos: 1, retain: true }).catch(() => undefined));
    this.client.on('error', () => undefined); // reconnects on its own; the status says whether it is connected
    this.loop = this.run();
  }

  /** Stops publishing; with `graceful` the station says "offline" itself before it disconnects. */
  async stop(graceful = true): Promise<void> {
    this.stopped = true;
    if (!this.client) return;
    // A result waiting for a broker that is away stays unacknowledged: it is sent from the cursor next time.
    if (!graceful || !this.client.connected) return void (await this.client.endAsync(true));
    await Promise.race([this.loop, new Promise((r) => setTimeout(r, 5000))]);
    await this.client.publishAsync(this.topics.status, 'offline', { qos: 1, retain: true }).catch(() => undefined);
    await this.client.endAsync();
  }

  private async run(): Promise<void> {
    const sink = `mqtt:${this.config.url}:${this.config.topic}:${this.config.station}`;
    while (!this.stopped) {
      const pending = this.client?.connected ? this.service.resultsAfterCursor(sink, 50) : [];
      for (const result of pending) {
        if (this.stopped) return;
        const message = resultMessage(this.config.station, result);
        try {
          await this.client!.publishAsync(this.topics.result, message, { qos: 1 });
        } catch {
          break; // not acknowledged: sent again from the cursor once the broker is back
        }
        // The cursor moves the moment the result is acknowledged, so a crash can repeat at most that one result.
        this.service.advanceSinkCursor(sink, result.inspectionId);
        this.sent++;
        await this.client!.publishAsync(this.topics.last, message, { qos: 1, retain: true }).catch(() => undefined);
      }
      if (pending.length === 0) await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }
}
