// npm run bench:line -- [--data-dir DIR --model ID] [--int8] [--triggers N] [--image FILE] [--device cpu|auto]
// Trigger-to-result latency of the line station: a PLC client sets Trigger and polls Done over
// Modbus TCP and over OPC UA, and a camera posts the image to POST /inspect, each N times, against
// the inspection alone (LineInspector, the same work without a protocol). Without --model it trains
// an anomaly model on bsdata's good train images first; --int8 makes and uses its int8 version.
// Prints one JSON object: milliseconds, median and p99, per path.
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import ModbusRTU from 'modbus-serial';
import { AttributeIds, DataType, MessageSecurityMode, OPCUACertificateManager, OPCUAClient, SecurityPolicy } from 'node-opcua';
import type { ExecutionProviderChoice, ImportResult, OptimizeModelResult, TrainModelResult } from '../src-main/contract/contract.ts';
import { MODBUS_MAP } from '../src-main/station/modbus-server.ts';
import { OPCUA_NODE } from '../src-main/station/opcua-server.ts';
import { StationHost } from '../src-main/station/station-host.ts';
import { startWebServer } from '../src-main/web/server.ts';
import { freePort } from '../test-support/fixtures.ts';
import { openGateService, round4 } from './gate-service.ts';

const SHARED = resolve(import.meta.dirname, '../../shared');
const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' }, model: { type: 'string' }, int8: { type: 'boolean', default: false }, triggers: { type: 'string', default: '100' },
    image: { type: 'string' }, device: { type: 'string', default: 'cpu' },
  },
});
const N = Number(values.triggers);
const device = values.device as ExecutionProviderChoice;
const stats = (ms: number[]): { median: number; p99: number; mean: number } => {
  const sorted = [...ms].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], p99: sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)], mean: ms.reduce((a, b) => a + b, 0) / ms.length };
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const { service, finish, close } = openGateService(values['data-dir']);
try {
  let modelId = values.model ? Number(values.model) : undefined;
  if (modelId === undefined) {
    await service.importBackboneWeights({ path: join(SHARED, 'models/resnet50-imagenet.safetensors') });
    const imported = (await finish(await service.importDataset({ path: join(SHARED, 'datasets/bsdata') }))) as ImportResult;
    modelId = ((await finish(await service.trainModel({ mode: 'anomaly', datasetId: imported.datasetId, device }))) as TrainModelResult).modelId;
  }
  if (values.int8) modelId = ((await finish(await service.optimizeModel({ modelId, precision: 'int8', device: 'cpu' }))) as OptimizeModelResult).modelId;
  await service.promoteModel({ modelId });
  const model = service.store.models.get(modelId);
  const image = values.image ?? service.store.datasets.samples(service.store.datasets.list()[0].id, 'test').filter((s) => s.label === 'good').map((s) => s.sha256)
    .map((sha) => service.store.blobs.pathOf(sha)).find(Boolean)!;

  // The inspection alone.
  const alone: number[] = [];
  const analysis: number[] = [];
  for (let i = 0; i < N + 3; i++) {
    const started = performance.now();
    const r = await service.line.inspect(image, { source: 'bench', operator: 'bench' });
    if (i < 3) continue; // warm-up
    alone.push(performance.now() - started);
    analysis.push(r.ms);
  }

  const [modbusPort, opcuaPort] = [await freePort(), await freePort()];
  const host = new StationHost(service);
  await service.setStationConfig({ ...(await service.getStationConfig()), modbus: { enabled: true, host: '127.0.0.1', port: modbusPort }, opcua: { enabled: true, port: opcuaPort, security: 'none' } });

  // Modbus TCP: write the path once, then per trigger: request id, Trigger, poll Done, read the results, acknowledge.
  const plc = new ModbusRTU();
  await plc.connectTCP('127.0.0.1', { port: modbusPort });
  plc.setID(1);
  const bytes = Buffer.alloc(MODBUS_MAP.imagePathRegisters * 2);
  bytes.write(image, 'utf8');
  await plc.writeRegisters(MODBUS_MAP.registers.imagePath, Array.from({ length: MODBUS_MAP.imagePathRegisters }, (_, i) => bytes.readUInt16BE(i * 2)));
  const modbus: number[] = [];
  for (let i = 0; i < N + 3; i++) {
    const started = performance.now();
    await plc.writeCoil(MODBUS_MAP.coils.trigger, true);
    while (!(await plc.readCoils(MODBUS_MAP.coils.done, 1)).data[0]) await sleep(1);
    await plc.readHoldingRegisters(0, 10);
    if (i >= 3) modbus.push(performance.now() - started);
    await plc.writeCoil(MODBUS_MAP.coils.trigger, false);
  }
  plc.close(() => undefined);

  // OPC UA: the same over the Argus object's variables.
  const client = OPCUAClient.create({ endpointMustExist: false, securityMode: MessageSecurityMode.None, securityPolicy: SecurityPolicy.None, clientCertificateManager: new OPCUACertificateManager({ rootFolder: join(service.store.dataDir, 'pki', 'bench-client') }) });
  await client.connect(`opc.tcp://127.0.0.1:${opcuaPort}`);
  const session = await client.createSession();
  const write = (name: string, dataType: DataType, value: unknown) => session.write({ nodeId: OPCUA_NODE(name), attributeId: AttributeIds.Value, value: { value: { dataType, value } } });
  await write('ImagePath', DataType.String, image);
  const opcua: number[] = [];
  for (let i = 0; i < N + 3; i++) {
    const started = performance.now();
    await write('Trigger', DataType.Boolean, true);
    while (!(await session.read({ nodeId: OPCUA_NODE('Done'), attributeId: AttributeIds.Value })).value.value) await sleep(1);
    await session.read(['Verdict', 'Score', 'InspectionId', 'ErrorCode'].map((n) => ({ nodeId: OPCUA_NODE(n), attributeId: AttributeIds.Value })));
    if (i >= 3) opcua.push(performance.now() - started);
    await write('Trigger', DataType.Boolean, false);
  }
  await session.close();
  await client.disconnect();

  // HTTP: a camera posting the image.
  const server = await startWebServer({ service, staticDir: service.store.dataDir, token: 'bench' });
  const body = await import('node:fs').then((fs) => fs.readFileSync(image));
  const http: number[] = [];
  for (let i = 0; i < N + 3; i++) {
    const started = performance.now();
    const response = await fetch(new URL('inspect', server.url), { method: 'POST', body, headers: { Authorization: 'Bearer bench', 'Content-Type': 'application/octet-stream' } });
    await response.json();
    if (i >= 3) http.push(performance.now() - started);
  }
  await server.close();
  await host.stop();

  process.stdout.write(`${JSON.stringify(round4({
    model: { id: model.id, mode: model.mode, precision: model.config.precision ?? 'fp32', input: `${model.config.inputWidth}x${model.config.inputHeight}` },
    image, triggers: N, device,
    analysis_ms: stats(analysis), inspection_alone_ms: stats(alone), modbus_trigger_to_result_ms: stats(modbus), opcua_trigger_to_result_ms: stats(opcua), http_post_to_result_ms: stats(http),
  }), null, 2)}\n`);
} finally {
  await close();
}
