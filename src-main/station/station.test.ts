import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ModbusRTU from 'modbus-serial';
import { AttributeIds, DataType, MessageSecurityMode, OPCUACertificateManager, OPCUAClient, SecurityPolicy, type ClientSession } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LineResult } from '../contract/contract.ts';
import { ArgusService } from '../app/service.ts';
import { freePort, hasShared, pngOf, SHARED_WEIGHTS, tempDir, texture, writeFile, writeGoodParts } from '../../test-support/fixtures.ts';
import { MODBUS_MAP } from './modbus-server.ts';
import { OPCUA_NODE, OpcUaStation } from './opcua-server.ts';
import { PlcHandshake } from './plc-handshake.ts';
import { StationHost } from './station-host.ts';
import { startWebServer } from '../web/server.ts';

const REPO = join(import.meta.dirname, '../..');
const argus = (...args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', ...args], { cwd: REPO, maxBuffer: 1 << 24 });
const W = 128, H = 96;
type Posted = { ok: boolean; value: LineResult & { heatmapUrl: string; imageUrl: string } };

/** Image path as the register block holds it: UTF-8, two bytes per register, NUL-padded. */
function pathRegisters(path: string): number[] {
  const bytes = Buffer.alloc(MODBUS_MAP.imagePathRegisters * 2);
  bytes.write(path, 'utf8');
  return Array.from({ length: MODBUS_MAP.imagePathRegisters }, (_, i) => bytes.readUInt16BE(i * 2));
}

describe.skipIf(!hasShared)('line station: PLC triggers over Modbus TCP and OPC UA', () => {
  const data = tempDir('argus-station-');
  const work = tempDir('argus-station-work-');
  let service: ArgusService;
  let host: StationHost;
  let modbusPort: number;
  let opcuaPort: number;
  const parts = { ok: '', dent: '' };

  beforeAll(async () => {
    await writeGoodParts(join(work.path, 'ds'), { name: 'line-5', width: W, height: H, train: 4, val: 2 });
    parts.ok = join(work.path, 'line', 'part-ok.png');
    parts.dent = join(work.path, 'line', 'part-dent.png');
    writeFile(parts.ok, await pngOf(texture(W, H, 77), W, H));
    writeFile(parts.dent, await pngOf(texture(W, H, 78, { x: 70, y: 40, r: 8 }), W, H));
    await argus('train', '--mode', 'anomaly', '--dataset', join(work.path, 'ds'), '--weights', SHARED_WEIGHTS, '--device', 'cpu', '--input', `${W}x${H}`, '--coreset', '200', '--data-dir', data.path);
    await argus('model', 'promote', '1', '--data-dir', data.path);
    service = new ArgusService({ dataDir: data.path, actor: 'station' });
    [modbusPort, opcuaPort] = [await freePort(), await freePort()];
    host = new StationHost(service);
    const config = await service.getStationConfig();
    await service.setStationConfig({ ...config, name: 'line-5', modbus: { enabled: true, host: '127.0.0.1', port: modbusPort }, opcua: { enabled: true, port: opcuaPort, security: 'none' } });
    expect((await service.getStationStatus()).errors).toEqual([]);
  }, 120_000);
  afterAll(async () => {
    await host?.stop();
    await service?.close();
    data.cleanup();
    work.cleanup();
  });

  it('answers 50 Modbus triggers in the documented handshake, refuses a trigger while busy, and records each once', async () => {
    const plc = new ModbusRTU();
    await plc.connectTCP('127.0.0.1', { port: modbusPort });
    plc.setID(1);
    const { coils, registers } = MODBUS_MAP;
    const bits = async () => {
      const c = (await plc.readCoils(0, 6)).data;
      return { trigger: c[coils.trigger], ready: c[coils.ready], busy: c[coils.busy], done: c[coils.done], ok: c[coils.resultOk], ng: c[coils.resultNg] };
    };
    const before = service.store.history.latestId();
    let refused = 0;
    for (let i = 0; i < 50; i++) {
      const file = i % 2 ? parts.dent : parts.ok;
      expect((await bits()).ready).toBe(true);
      await plc.writeRegisters(registers.imagePath, pathRegisters(file));
      await plc.writeRegisters(registers.requestIdHigh, [0, 1000 + i]);
      await plc.writeCoil(coils.trigger, true);
      const seen: string[] = [];
      for (;;) {
        const b = await bits();
        seen.push(b.done ? 'done' : b.busy ? 'busy' : b.ready ? 'ready' : '?');
        expect(b.busy && b.done).toBe(false);
        if (i === 3 && b.busy && refused === 0) {
          // A second trigger while busy: Modbus exception 6 (server device busy) and ErrorCode 1.
          await expect(plc.writeCoil(coils.trigger, true)).rejects.toMatchObject({ modbusCode: 6 });
          // ErrorCode 1 until the running inspection publishes its result (a fast one may already have).
          const code = (await plc.readHoldingRegisters(registers.errorCode, 1)).data[0];
          if (code !== 1) expect((await bits()).done).toBe(true);
          refused++;
        }
        if (b.done) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(seen.indexOf('ready')).toBe(-1); // Ready fell with the trigger and stays down until the acknowledgement
      const r = (await plc.readHoldingRegisters(0, 10)).data;
      const inspectionId = r[registers.inspectionIdHigh] * 0x10000 + r[registers.inspectionIdLow];
      const record = service.store.history.get(inspectionId);
      expect(record.sourcePath).toBe(file);
      expect(r[registers.verdict]).toBe({ OK: 1, NG: 2, REVIEW: 3, ERROR: 4 }[record.verdict]);
      if (i % 2) expect(r[registers.verdict]).toBe(2); // the dented part is NG
      if (i !== 3) expect(r[registers.errorCode]).toBe(0);
      expect(r[registers.scoreX10000]).toBe(Math.round(record.score! * 10000));
      const b = await bits();
      expect([b.ok, b.ng]).toEqual([record.verdict === 'OK', record.verdict === 'NG']);
      await plc.writeCoil(coils.trigger, false);
      expect((await bits())).toMatchObject({ ready: true, done: false });
    }
    expect(refused).toBe(1);
    expect(service.store.history.latestId() - before).toBe(50);

    // The PLC repeats a request (its retry after a restart): the stored result, no second inspection.
    await plc.writeRegisters(registers.imagePath, pathRegisters(parts.dent));
    await plc.writeRegisters(registers.requestIdHigh, [0, 1001]);
    await plc.writeCoil(coils.trigger, true);
    while (!(await bits()).done) await new Promise((r) => setTimeout(r, 5));
    const r = (await plc.readHoldingRegisters(0, 10)).data;
    expect(r[registers.inspectionIdHigh] * 0x10000 + r[registers.inspectionIdLow]).toBe(before + 2);
    await plc.writeCoil(coils.trigger, false);
    expect(service.store.history.latestId() - before).toBe(50);
    // The station's own outputs cannot be written.
    await expect(plc.writeCoil(coils.ready, false)).rejects.toMatchObject({ modbusCode: 2 });
    await expect(plc.writeRegister(registers.verdict, 1)).rejects.toMatchObject({ modbusCode: 2 });
    plc.close(() => undefined);
  }, 120_000);

  it('answers 50 OPC UA triggers, refuses one while busy, and inspects through the Inspect method', async () => {
    const client = OPCUAClient.create({
      endpointMustExist: false, securityMode: MessageSecurityMode.None, securityPolicy: SecurityPolicy.None,
      clientCertificateManager: new OPCUACertificateManager({ rootFolder: join(work.path, 'pki-client') }),
    });
    await client.connect(`opc.tcp://127.0.0.1:${opcuaPort}`);
    const session: ClientSession = await client.createSession();
    const read = async (...names: string[]) => {
      const values = await session.read(names.map((n) => ({ nodeId: OPCUA_NODE(n), attributeId: AttributeIds.Value })));
      return Object.fromEntries(names.map((n, i) => [n, values[i].value.value]));
    };
    const write = (name: string, dataType: DataType, value: unknown) =>
      session.write({ nodeId: OPCUA_NODE(name), attributeId: AttributeIds.Value, value: { value: { dataType, value } } });
    const before = service.store.history.latestId();
    for (let i = 0; i < 50; i++) {
      const file = i % 2 ? parts.dent : parts.ok;
      expect((await read('Ready')).Ready).toBe(true);
      await write('ImagePath', DataType.String, file);
      await write('RequestId', DataType.UInt32, 5000 + i);
      expect((await write('Trigger', DataType.Boolean, true)).name).toBe('Good');
      if (i === 7) {
        expect((await write('Trigger', DataType.Boolean, true)).name).toBe('BadInvalidState');
        // ErrorCode 1 until the running inspection publishes its result (a fast one may already have).
        const { ErrorCode } = await read('ErrorCode');
        if (ErrorCode !== 1) expect((await read('Done')).Done).toBe(true);
      }
      let v = await read('Busy', 'Done');
      while (!v.Done) {
        expect(v.Busy || v.Done).toBe(true);
        await new Promise((r) => setTimeout(r, 5));
        v = await read('Busy', 'Done');
      }
      const result = await read('Verdict', 'Score', 'InspectionId', 'ErrorCode', 'ResultOK', 'ResultNG', 'Busy');
      const record = service.store.history.get(result.InspectionId as number);
      expect(record.sourcePath).toBe(file);
      expect(result).toMatchObject({ Verdict: record.verdict, ResultOK: record.verdict === 'OK', ResultNG: record.verdict === 'NG', Busy: false });
      if (i % 2) expect(result.Verdict).toBe('NG');
      if (i !== 7) expect(result.ErrorCode).toBe(0);
      expect(result.Score).toBeCloseTo(record.score!, 6);
      await write('Trigger', DataType.Boolean, false);
      expect(await read('Ready', 'Done')).toEqual({ Ready: true, Done: false });
    }
    expect(service.store.history.latestId() - before).toBe(50);
    // A station output is read-only for the PLC.
    expect((await write('Verdict', DataType.String, 'OK')).name).toMatch(/^Bad/);

    const call = await session.call({ objectId: 'ns=1;s=Argus', methodId: OPCUA_NODE('Inspect'), inputArguments: [{ dataType: DataType.String, value: parts.dent }] });
    expect(call.statusCode.name).toBe('Good');
    expect(call.outputArguments!.map((a) => a.value)).toEqual(['NG', expect.any(Number), expect.any(String), before + 51, 0]);
    await session.close();
    await client.disconnect();
  }, 120_000);

  it('inspects an image a camera or MES posts to POST /inspect (raw or multipart), token-protected, idempotent by id', async () => {
    const server = await startWebServer({ service, staticDir: work.path, token: 'line-token' });
    try {
      const url = new URL('inspect', server.url);
      const auth = { Authorization: 'Bearer line-token' };
      const image = readFileSync(parts.dent);
      expect((await fetch(url, { method: 'POST', body: image, headers: { 'Content-Type': 'image/png' } })).status).toBe(401);
      expect((await fetch(url, { method: 'POST', body: 'x', headers: { ...auth, 'Content-Type': 'text/plain' } })).status).toBe(415);

      url.searchParams.set('id', 'cam-7-000123');
      url.searchParams.set('name', 'part-000123.png');
      const raw = await (await fetch(url, { method: 'POST', body: image, headers: { ...auth, 'Content-Type': 'image/png' } })).json() as Posted;
      expect(raw).toMatchObject({ ok: true, value: { verdict: 'NG', requestKey: 'cam-7-000123', replayed: false, heatmapUrl: expect.stringMatching(/^\/media\/original\/[0-9a-f]{64}$/) } });
      expect(raw.value.file).toMatch(/part-000123\.png$/);
      const heatmap = await fetch(new URL(raw.value.heatmapUrl, server.url), { headers: auth });
      expect(heatmap.status).toBe(200);
      // The camera sends the same image id again (its retry): the stored result, nothing inspected twice.
      const again = await (await fetch(url, { method: 'POST', body: image, headers: { ...auth, 'Content-Type': 'image/png' } })).json() as Posted;
      expect(again.value).toMatchObject({ inspectionId: raw.value.inspectionId, replayed: true });

      const form = new FormData();
      form.append('note', 'line 5');
      form.append('image', new Blob([readFileSync(parts.ok)], { type: 'image/png' }), 'part-ok-7.png');
      const multipart = await (await fetch(new URL('inspect', server.url), { method: 'POST', body: form, headers: auth })).json() as Posted;
      expect(multipart).toMatchObject({ ok: true, value: { requestKey: null, replayed: false } });
      expect(multipart.value.file).toMatch(/part-ok-7\.png$/);
      expect(service.store.history.get(multipart.value.inspectionId).operator).toMatch(/station/);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('with security sign-encrypt, offers no unsecured endpoint and takes a client only once its certificate is trusted', async () => {
    const port = await freePort();
    const makeSecure = (): OpcUaStation => new OpcUaStation(new PlcHandshake(() => Promise.reject(new Error('not used'))), {
      port, security: 'sign-encrypt', pkiFolder: join(work.path, 'pki-secure'), inspectNow: () => Promise.reject(new Error('not used')),
    });
    let secure = makeSecure();
    await secure.start();
    try {
      const connect = async (securityMode: MessageSecurityMode, securityPolicy: SecurityPolicy): Promise<string> => {
        const client = OPCUAClient.create({
          endpointMustExist: false, securityMode, securityPolicy, connectionStrategy: { maxRetry: 0 },
          // The client trusts the station: a refusal can only come from the station not trusting the client.
          clientCertificateManager: new OPCUACertificateManager({ rootFolder: join(work.path, 'pki-client-2'), automaticallyAcceptUnknownCertificate: true }),
        });
        try {
          await client.connect(`opc.tcp://127.0.0.1:${port}`);
          const session = await client.createSession();
          await session.close();
          return 'connected';
        } catch {
          return 'refused';
        } finally {
          await client.disconnect();
        }
      };
      expect(await connect(MessageSecurityMode.None, SecurityPolicy.None)).toBe('refused');
      expect(await connect(MessageSecurityMode.SignAndEncrypt, SecurityPolicy.Basic256Sha256)).toBe('refused');
      // As the README says: the administrator moves the client's certificate from rejected/ to trusted/certs/.
      const pki = join(work.path, 'pki-secure', 'server');
      for (const name of readdirSync(join(pki, 'rejected')).filter((f) => f.endsWith('.pem') || f.endsWith('.der'))) renameSync(join(pki, 'rejected', name), join(pki, 'trusted', 'certs', name));
      // … and applies the configuration again (the station reads its trust list when it starts).
      await secure.stop();
      secure = makeSecure();
      await secure.start();
      expect(await connect(MessageSecurityMode.SignAndEncrypt, SecurityPolicy.Basic256Sha256)).toBe('connected');
    } finally {
      await secure.stop();
    }
  }, 60_000);
});
