import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import ModbusRTU from 'modbus-serial';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, hasShared, pngOf, SHARED_WEIGHTS, tempDir, texture, writeFile, writeGoodParts } from '../../test-support/fixtures.ts';
import { MODBUS_MAP } from './modbus-server.ts';

const REPO = join(import.meta.dirname, '../..');
const CLI = ['--import', 'tsx', 'src-main/cli/main.ts'];
const argus = (...args: string[]) => promisify(execFile)(process.execPath, [...CLI, ...args], { cwd: REPO, maxBuffer: 1 << 24 });
const W = 128, H = 96;
const { coils, registers } = MODBUS_MAP;

/** `argus station` as its own process, resolved once its Modbus server listens. */
function startStation(dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...CLI, 'station', '--modbus', String(port), '--data-dir', dataDir], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Modbus TCP')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`station exited (${code}): ${out}`)));
  });
}

describe.skipIf(!hasShared)('a station killed mid-handshake (kill -9) and started again', () => {
  const data = tempDir('argus-station-crash-');
  const work = tempDir('argus-station-crash-work-');
  let station: ChildProcess | undefined;

  beforeAll(async () => {
    await writeGoodParts(join(work.path, 'ds'), { name: 'line-6', width: W, height: H, train: 4, val: 2 });
    for (let i = 0; i < 6; i++) writeFile(join(work.path, 'line', `part-${i}.png`), await pngOf(texture(W, H, 300 + i, i % 2 ? { x: 60, y: 40, r: 8 } : undefined), W, H));
    await argus('train', '--mode', 'anomaly', '--dataset', join(work.path, 'ds'), '--weights', SHARED_WEIGHTS, '--device', 'cpu', '--input', `${W}x${H}`, '--coreset', '200', '--data-dir', data.path);
    await argus('model', 'promote', '1', '--data-dir', data.path);
  }, 120_000);
  afterAll(() => {
    station?.kill('SIGKILL');
    data.cleanup();
    work.cleanup();
  });

  it('loses no result and records none twice: the PLC\'s retry of a request gets the one stored result', async () => {
    const port = await freePort();
    const answered = new Map<number, number>(); // request id → inspection id the PLC received
    for (let request = 1; request <= 6; request++) {
      const file = join(work.path, 'line', `part-${request - 1}.png`);
      // The PLC keeps retrying its request until it reads a result, across station restarts.
      for (let attempt = 0; !answered.has(request); attempt++) {
        station ??= await startStation(data.path, port);
        const plc = new ModbusRTU();
        await plc.connectTCP('127.0.0.1', { port });
        plc.setID(1);
        const path = Buffer.alloc(MODBUS_MAP.imagePathRegisters * 2);
        path.write(file, 'utf8');
        await plc.writeRegisters(registers.imagePath, Array.from({ length: MODBUS_MAP.imagePathRegisters }, (_, i) => path.readUInt16BE(i * 2)));
        await plc.writeRegisters(registers.requestIdHigh, [0, request]);
        await plc.writeCoil(coils.trigger, true);
        if (attempt === 0) {
          // The first attempt at each request is killed at a different point of the handshake: while
          // it loads the model or inspects, or (the last two) once the result is recorded and Done
          // is up but before the PLC has read it.
          if (request <= 4) await new Promise((r) => setTimeout(r, [0, 20, 150, 400][request - 1]));
          else while (!(await plc.readCoils(coils.done, 1)).data[0]) await new Promise((r) => setTimeout(r, 5));
          station.kill('SIGKILL');
          await new Promise((r) => station!.once('exit', r));
          station = undefined;
          plc.close(() => undefined);
          continue;
        }
        while (!(await plc.readCoils(coils.done, 1)).data[0]) await new Promise((r) => setTimeout(r, 10));
        const r = (await plc.readHoldingRegisters(0, 10)).data;
        answered.set(request, r[registers.inspectionIdHigh] * 0x10000 + r[registers.inspectionIdLow]);
        await plc.writeCoil(coils.trigger, false);
        plc.close(() => undefined);
      }
    }
    station?.kill('SIGTERM');
    await new Promise((r) => station!.once('exit', r));
    station = undefined;

    // Exactly one inspection per request, and it is the one the PLC was given.
    const db = new Database(join(data.path, 'argus.db'), { readonly: true });
    const rows = db.prepare("SELECT path, inspection_id FROM processed_files WHERE scope = 'line:plc' ORDER BY CAST(path AS INTEGER)").all() as { path: string; inspection_id: number }[];
    const inspections = db.prepare("SELECT id, source_path FROM inspections WHERE operator LIKE '%station%' OR source_path LIKE ?").all(`${join(work.path, 'line')}%`) as { id: number; source_path: string }[];
    db.close();
    expect(rows.map((r) => Number(r.path))).toEqual([1, 2, 3, 4, 5, 6]);
    for (const row of rows) expect(answered.get(Number(row.path))).toBe(row.inspection_id);
    for (let request = 1; request <= 6; request++) {
      expect(inspections.filter((i) => i.source_path.endsWith(`part-${request - 1}.png`))).toHaveLength(1);
    }
  }, 240_000);
});
