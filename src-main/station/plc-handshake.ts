import type { LineResult, Verdict } from '../contract/contract.ts';

/** What a PLC reads in ErrorCode (documented for PLC programmers in the README). */
export const PLC_ERROR = {
  none: 0,
  /** A trigger came while the previous one was still busy or not yet acknowledged. */
  busy: 1,
  /** No image path was given with the trigger. */
  noImage: 2,
  /** The image could not be read or decoded (the verdict is ERROR). */
  unreadableImage: 3,
  /** No model is in production for the recipe. */
  noModel: 4,
  /** Anything else; the station's log has the reason. */
  internal: 5,
} as const;

/** Verdict as a number for PLCs: 0 none yet, 1 OK, 2 NG, 3 REVIEW, 4 ERROR. */
export const VERDICT_CODE: Record<Verdict, number> = { OK: 1, NG: 2, REVIEW: 3, ERROR: 4 };

/** The station's side of the handshake, mirrored into OPC UA variables or Modbus registers. */
export interface HandshakeState {
  ready: boolean;
  busy: boolean;
  /** The result variables are valid (set with Busy's fall, cleared when the PLC acknowledges). */
  done: boolean;
  resultOk: boolean;
  resultNg: boolean;
  verdict: number;
  score: number;
  defectClass: string;
  /** 1-based index of the defect class in the model's classes (0 = none). */
  defectClassIndex: number;
  inspectionId: number;
  errorCode: number;
  /** The request the results belong to. */
  requestId: number;
}

/** What the PLC wrote before raising Trigger. */
export interface TriggerRequest {
  requestId: number;
  imagePath: string;
  recipe?: number | string;
}

export type Inspect = (request: TriggerRequest) => Promise<LineResult>;

/**
 * The trigger handshake shared by the OPC UA and Modbus servers:
 * 1. the station shows Ready; 2. the PLC writes ImagePath, RequestId (and Recipe) and sets
 * Trigger; 3. the station drops Ready, raises Busy and clears the results; 4. it writes Verdict,
 * Score, DefectClass, InspectionId, ErrorCode, ResultOK/ResultNG, then drops Busy and raises Done;
 * 5. the PLC reads them and acknowledges by clearing Trigger; the station drops Done and shows
 * Ready. A trigger while Busy or Done is refused (ErrorCode 1) and changes nothing else.
 * Request ids make a repeated trigger (the PLC's retry after a station restart) return the result
 * already recorded instead of inspecting twice.
 */
export class PlcHandshake {
  private current: HandshakeState = { ready: true, busy: false, done: false, resultOk: false, resultNg: false, verdict: 0, score: 0, defectClass: '', defectClassIndex: 0, inspectionId: 0, errorCode: 0, requestId: 0 };
  private readonly listeners = new Set<(state: HandshakeState, previous: HandshakeState) => void>();
  private running?: Promise<void>;

  constructor(private readonly inspect: Inspect, private readonly onError: (error: unknown) => void = () => undefined) {}

  get state(): HandshakeState {
    return { ...this.current };
  }

  /** Called on every change, with the state before it (adapters write only what changed). */
  onChange(listener: (state: HandshakeState, previous: HandshakeState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The PLC raised Trigger. False (ErrorCode busy) when the station is not Ready. */
  trigger(request: TriggerRequest): boolean {
    if (!this.current.ready) {
      this.set({ errorCode: PLC_ERROR.busy });
      return false;
    }
    this.set({ ready: false, busy: true, done: false, resultOk: false, resultNg: false, verdict: 0, score: 0, defectClass: '', defectClassIndex: 0, inspectionId: 0, errorCode: 0, requestId: request.requestId });
    this.running = this.run(request);
    return true;
  }

  /** The PLC cleared Trigger: results read. */
  acknowledge(): void {
    if (this.current.done) this.set({ done: false, ready: true });
  }

  /** Resolves when the inspection in progress (if any) has written its results. */
  async settled(): Promise<void> {
    await this.running;
  }

  private async run(request: TriggerRequest): Promise<void> {
    if (!request.imagePath) return this.finish({ errorCode: PLC_ERROR.noImage, verdict: VERDICT_CODE.ERROR });
    try {
      const result = await this.inspect(request);
      this.finish({
        verdict: VERDICT_CODE[result.verdict], score: result.score ?? 0, defectClass: result.defectClass ?? '', defectClassIndex: result.defectClassIndex, inspectionId: result.inspectionId,
        resultOk: result.verdict === 'OK', resultNg: result.verdict === 'NG', errorCode: result.verdict === 'ERROR' ? PLC_ERROR.unreadableImage : PLC_ERROR.none,
      });
    } catch (error) {
      this.onError(error);
      const code = (error as { code?: string }).code === 'not_found' && /production/i.test((error as Error).message) ? PLC_ERROR.noModel : PLC_ERROR.internal;
      this.finish({ errorCode: code, verdict: VERDICT_CODE.ERROR });
    }
  }

  private finish(result: Partial<HandshakeState>): void {
    // Results first, then Busy falls and Done rises: a PLC that sees Done reads complete results.
    this.set(result);
    this.set({ busy: false, done: true });
  }

  private set(change: Partial<HandshakeState>): void {
    const previous = this.current;
    this.current = { ...previous, ...change };
    for (const listener of this.listeners) listener(this.current, previous);
  }
}
