import { ServerTCP } from 'modbus-serial';
import type { HandshakeState, PlcHandshake } from './plc-handshake.ts';

/**
 * The register table for PLC programmers (0-based addresses, unit id 1; README "Line
 * integration"). Coils: the handshake bits. Holding registers: results (read), request (written
 * by the PLC). Writing anything the station owns is refused with exception 2 (illegal address).
 */
export const MODBUS_MAP = {
  coils: { trigger: 0, ready: 1, busy: 2, done: 3, resultOk: 4, resultNg: 5 },
  registers: {
    verdict: 0, errorCode: 1, scoreX10000: 2, inspectionIdHigh: 3, inspectionIdLow: 4, defectClassIndex: 5,
    requestIdHigh: 6, requestIdLow: 7, recipe: 8, heartbeat: 9, imagePath: 16,
  },
  /** ImagePath: UTF-8 bytes, two per register (high byte first), NUL-padded. */
  imagePathRegisters: 64,
} as const;

const ILLEGAL_ADDRESS = { modbusErrorCode: 0x02, msg: 'Illegal data address' };
/** Modbus exception 6, "server device busy": a trigger before the previous one was acknowledged. */
const DEVICE_BUSY = { modbusErrorCode: 0x06, msg: 'Server device busy' };

export interface ModbusStationOptions {
  host: string;
  port: number;
}

/** The trigger handshake as a Modbus TCP server (modbus-serial's ServerTCP). */
export class ModbusStation {
  private server?: ServerTCP;
  private readonly requestRegisters = new Uint16Array(MODBUS_MAP.registers.imagePath + MODBUS_MAP.imagePathRegisters);
  private heartbeat = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly handshake: PlcHandshake, private readonly options: ModbusStationOptions) {}

  async start(): Promise<void> {
    const { coils, registers } = MODBUS_MAP;
    const coilOf = (state: HandshakeState, address: number): boolean =>
      address === coils.ready ? state.ready : address === coils.busy ? state.busy : address === coils.done ? state.done
        : address === coils.resultOk ? state.resultOk : address === coils.resultNg ? state.resultNg : false;
    let trigger = false;
    const vector = {
      getCoil: (address: number): boolean => (address === coils.trigger ? trigger : coilOf(this.handshake.state, address)),
      setCoil: (address: number, value: boolean): void => {
        if (address !== coils.trigger) throw ILLEGAL_ADDRESS;
        if (value) {
          // Any trigger while the previous one is busy or unacknowledged is refused, whoever sends it.
          if (!this.handshake.trigger(this.request())) throw DEVICE_BUSY;
          trigger = true;
        } else if (trigger) {
          trigger = false;
          this.handshake.acknowledge();
        }
      },
      getHoldingRegister: (address: number): number => this.register(address),
      getInputRegister: (address: number): number => this.register(address),
      setRegister: (address: number, value: number): void => {
        const writable = address === registers.requestIdHigh || address === registers.requestIdLow || address === registers.recipe
          || (address >= registers.imagePath && address < registers.imagePath + MODBUS_MAP.imagePathRegisters);
        if (!writable) throw ILLEGAL_ADDRESS;
        this.requestRegisters[address] = value;
      },
    };
    this.server = new ServerTCP(vector, { host: this.options.host, port: this.options.port, unitID: 1 });
    this.server.on('socketError', () => undefined); // a PLC dropping its connection is not the station's error
    await new Promise<void>((resolve, reject) => {
      this.server!.on('initialized', () => resolve());
      this.server!.on('error', reject);
    });
    this.timer = setInterval(() => (this.heartbeat = (this.heartbeat + 1) & 0xffff), 1000);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** What the PLC wrote: request id, recipe (project id, 0 = the only production model) and image path. */
  private request(): { requestId: number; imagePath: string; recipe?: number } {
    const r = this.requestRegisters;
    const { registers } = MODBUS_MAP;
    const bytes = Buffer.alloc(MODBUS_MAP.imagePathRegisters * 2);
    for (let i = 0; i < MODBUS_MAP.imagePathRegisters; i++) bytes.writeUInt16BE(r[registers.imagePath + i], i * 2);
    const end = bytes.indexOf(0);
    return {
      requestId: r[registers.requestIdHigh] * 0x10000 + r[registers.requestIdLow],
      imagePath: bytes.subarray(0, end < 0 ? bytes.length : end).toString('utf8'),
      ...(r[registers.recipe] ? { recipe: r[registers.recipe] } : {}),
    };
  }

  private register(address: number): number {
    const s = this.handshake.state;
    const { registers } = MODBUS_MAP;
    switch (address) {
      case registers.verdict: return s.verdict;
      case registers.errorCode: return s.errorCode;
      case registers.scoreX10000: return Math.max(0, Math.min(10000, Math.round(s.score * 10000)));
      case registers.inspectionIdHigh: return Math.floor(s.inspectionId / 0x10000) & 0xffff;
      case registers.inspectionIdLow: return s.inspectionId & 0xffff;
      case registers.defectClassIndex: return s.defectClassIndex;
      case registers.heartbeat: return this.heartbeat;
      default: return address < this.requestRegisters.length ? this.requestRegisters[address] : 0;
    }
  }
}
