import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgusService } from '../app/service.ts';
import { freePort, tempDir } from '../../test-support/fixtures.ts';
import { MqttResultSink } from './mqtt-sink.ts';

const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));

/** Debian's mosquitto on a loopback port, with persistence so sessions and queued messages survive a restart. */
function startBroker(dir: string, port: number): Promise<ChildProcess> {
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(config, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location ${dir}/\nautosave_interval 1\n`);
  const broker = spawn(MOSQUITTO!, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const probe = async (tries: number): Promise<void> => {
      const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 500 });
      client.on('connect', () => client.end(true, () => resolve(broker)));
      client.on('error', () => client.end(true, () => (tries > 0 ? setTimeout(() => void probe(tries - 1), 100) : reject(new Error('mosquitto did not start')))));
    };
    void probe(50);
  });
}
const stopBroker = (broker: ChildProcess): Promise<void> => new Promise((resolve) => {
  broker.once('exit', () => resolve());
  broker.kill('SIGTERM');
});

const until = async (check: () => boolean, ms = 20_000): Promise<void> => {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe.skipIf(!MOSQUITTO)('MQTT result sink against a real broker (mosquitto)', () => {
  const data = tempDir('argus-mqtt-');
  const brokerDir = tempDir('argus-mosquitto-');
  let service: ArgusService;
  let port: number;
  let broker: ChildProcess;
  let subscriber: MqttClient;
  const received: { id: number; verdict: string }[] = [];

  const record = (n: number): void => {
    for (let i = 0; i < n; i++) {
      service.store.history.record({
        imageId: null, sourcePath: `/line/part-${i}.png`, modelVersionId: null, verdict: i % 5 === 0 ? 'NG' : 'OK', score: i / 100, rawScore: i,
        regions: [], thresholds: {}, timings: {}, error: null, operator: 'station',
      });
    }
  };

  beforeAll(async () => {
    service = new ArgusService({ dataDir: data.path, actor: 'station' });
    port = await freePort();
    broker = await startBroker(brokerDir.path, port);
    // A line system's subscriber with a persistent session: what is queued for it survives a broker restart.
    subscriber = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: 'mes-1', clean: false, reconnectPeriod: 200 });
    subscriber.on('message', (topic, payload) => {
      if (topic.endsWith('/result')) {
        const message = JSON.parse(payload.toString()) as { inspectionId: number; verdict: string };
        received.push({ id: message.inspectionId, verdict: message.verdict });
      }
    });
    await new Promise<void>((resolve) => subscriber.once('connect', () => resolve()));
    await subscriber.subscribeAsync('argus/+/result', { qos: 1 });
  });
  afterAll(async () => {
    subscriber?.end(true);
    if (broker?.exitCode === null) await stopBroker(broker);
    await service?.close();
    data.cleanup();
    brokerDir.cleanup();
  });

  it('publishes 50 results in order, none lost and none repeated but the one in flight at an interruption, across a broker restart and a station restart', async () => {
    const config = { url: `mqtt://127.0.0.1:${port}`, topic: 'argus', station: 'line-4' };
    let sink = new MqttResultSink(service, config, 50);
    sink.start();
    await until(() => sink.connected);
    // What was inspected before the sink existed is history, not news: a new sink starts at the latest result.
    record(3);
    await until(() => received.length === 3);
    received.length = 0;
    const firstId = service.store.history.latestId() + 1;

    record(20);
    await until(() => received.length === 20);
    await stopBroker(broker);
    record(15); // inspected while the broker is down
    broker = await startBroker(brokerDir.path, port);
    await until(() => received.length === 35);

    await sink.stop(false); // the station is killed
    record(15); // inspected by the next station process before its sink connects
    sink = new MqttResultSink(service, config, 50);
    sink.start();
    await until(() => new Set(received.map((r) => r.id)).size >= 50);
    await new Promise((r) => setTimeout(r, 500)); // nothing more arrives
    // QoS 1 is at least once: each interruption (the broker restart, the kill) may repeat the one result
    // in flight, right after itself; consumers drop it by inspectionId. Nothing else repeats.
    const ids = received.map((r) => r.id);
    const repeats = ids.filter((id, i) => i > 0 && ids[i - 1] === id);
    expect(repeats.length).toBeLessThanOrEqual(2);
    expect(ids.filter((id, i) => i === 0 || ids[i - 1] !== id)).toEqual(Array.from({ length: 50 }, (_, i) => firstId + i));

    // The latest result is retained for a late subscriber, and the station is online.
    const late = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
    const retained = new Map<string, string>();
    late.on('message', (topic, payload) => retained.set(topic, payload.toString()));
    await new Promise<void>((resolve) => late.once('connect', () => resolve()));
    await late.subscribeAsync(['argus/line-4/last', 'argus/line-4/status'], { qos: 1 });
    await until(() => retained.size === 2);
    expect(JSON.parse(retained.get('argus/line-4/last')!)).toMatchObject({ station: 'line-4', inspectionId: firstId + 49 });
    expect(retained.get('argus/line-4/status')).toBe('online');

    // Dropped without a goodbye: the broker publishes the station's last will.
    await sink.stop(false);
    await until(() => retained.get('argus/line-4/status') === 'offline', 10_000);
    late.end(true);
  }, 90_000);
});
