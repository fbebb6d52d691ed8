import { join } from 'node:path';
import {
  DataType, MessageSecurityMode, OPCUACertificateManager, OPCUAServer, SecurityPolicy, StatusCodes, Variant, VariantArrayType,
  type CallMethodResultOptions, type Namespace, type StatusCode, type UAObject,
} from 'node-opcua';
import type { LineResult } from '../contract/contract.ts';
import { type HandshakeState, PLC_ERROR, type PlcHandshake, type TriggerRequest } from './plc-handshake.ts';

export interface OpcUaStationOptions {
  port: number;
  /** Folder of the server's certificate and of trusted/rejected client certificates. */
  pkiFolder: string;
  /** "none" for a closed cell network; "sign-encrypt" allows only Basic256Sha256 with signed and encrypted messages. */
  security: 'none' | 'sign-encrypt';
  /** The Inspect method's inspection, outside the handshake. */
  inspectNow: (path: string, recipe?: string) => Promise<LineResult>;
}

/** Node ids of the address space, documented for PLC programmers: ns=1;s=Argus.<Name>. */
export const OPCUA_NODE = (name: string): string => `ns=1;s=Argus.${name}`;

const VERDICTS = ['', 'OK', 'NG', 'REVIEW', 'ERROR'];

/**
 * The trigger handshake as an OPC UA server (node-opcua): an object Argus under Objects with the
 * handshake's variables (Trigger, RequestId, ImagePath and Recipe written by the PLC; Ready, Busy,
 * Done, ResultOK, ResultNG, Verdict, Score, DefectClass, InspectionId, ErrorCode read) and a method
 * Inspect(ImagePath) that inspects one image outside the handshake.
 */
export class OpcUaStation {
  private server?: OPCUAServer;
  private readonly request = { requestId: 0, imagePath: '', recipe: '' };
  private trigger = false;

  constructor(private readonly handshake: PlcHandshake, private readonly options: OpcUaStationOptions) {}

  get endpointUrl(): string {
    return this.server?.getEndpointUrl() ?? '';
  }

  async start(): Promise<void> {
    const secure = this.options.security === 'sign-encrypt';
    const serverCertificateManager = new OPCUACertificateManager({ rootFolder: join(this.options.pkiFolder, 'server'), automaticallyAcceptUnknownCertificate: !secure });
    this.server = new OPCUAServer({
      port: this.options.port,
      serverCertificateManager,
      securityPolicies: secure ? [SecurityPolicy.Basic256Sha256] : [SecurityPolicy.None],
      securityModes: secure ? [MessageSecurityMode.SignAndEncrypt] : [MessageSecurityMode.None],
      buildInfo: { productName: 'Argus', manufacturerName: 'Argus' },
      serverInfo: { applicationName: { text: 'Argus station' } },
    });
    await this.server.initialize();
    const namespace = this.server.engine.addressSpace!.getOwnNamespace();
    const argus = namespace.addObject({ organizedBy: this.server.engine.addressSpace!.rootFolder.objects, browseName: 'Argus', nodeId: 's=Argus' });
    this.addVariables(namespace, argus);
    this.addInspectMethod(namespace, argus);
    await this.server.start();
  }

  async stop(): Promise<void> {
    await this.server?.shutdown(0);
  }

  private addVariables(namespace: Namespace, argus: UAObject): void {
    const state = (): HandshakeState => this.handshake.state;
    const read = (name: string, dataType: DataType, value: () => unknown): void => {
      namespace.addVariable({
        componentOf: argus, browseName: name, nodeId: `s=Argus.${name}`, dataType, minimumSamplingInterval: 50, accessLevel: 'CurrentRead', userAccessLevel: 'CurrentRead',
        value: { get: () => new Variant({ dataType, value: value() }) },
      });
    };
    const written = (name: string, dataType: DataType, get: () => unknown, set: (value: unknown) => StatusCode): void => {
      namespace.addVariable({
        componentOf: argus, browseName: name, nodeId: `s=Argus.${name}`, dataType, minimumSamplingInterval: 50,
        value: { get: () => new Variant({ dataType, value: get() }), set: (variant: Variant) => set(variant.value) },
      });
    };
    written('RequestId', DataType.UInt32, () => this.request.requestId, (v) => ((this.request.requestId = Number(v) >>> 0), StatusCodes.Good));
    written('ImagePath', DataType.String, () => this.request.imagePath, (v) => ((this.request.imagePath = String(v ?? '')), StatusCodes.Good));
    written('Recipe', DataType.String, () => this.request.recipe, (v) => ((this.request.recipe = String(v ?? '')), StatusCodes.Good));
    written('Trigger', DataType.Boolean, () => this.trigger, (v) => {
      if (v === true) {
        const request: TriggerRequest = { requestId: this.request.requestId, imagePath: this.request.imagePath, ...(this.request.recipe ? { recipe: this.request.recipe } : {}) };
        if (!this.handshake.trigger(request)) return StatusCodes.BadInvalidState;
        this.trigger = true;
      } else if (v === false && this.trigger) {
        this.trigger = false;
        this.handshake.acknowledge();
      }
      return StatusCodes.Good;
    });
    read('Ready', DataType.Boolean, () => state().ready);
    read('Busy', DataType.Boolean, () => state().busy);
    read('Done', DataType.Boolean, () => state().done);
    read('ResultOK', DataType.Boolean, () => state().resultOk);
    read('ResultNG', DataType.Boolean, () => state().resultNg);
    read('Verdict', DataType.String, () => VERDICTS[state().verdict] ?? '');
    read('Score', DataType.Double, () => state().score);
    read('DefectClass', DataType.String, () => state().defectClass);
    read('InspectionId', DataType.UInt32, () => state().inspectionId);
    read('ErrorCode', DataType.Int32, () => state().errorCode);
  }

  private addInspectMethod(namespace: Namespace, argus: UAObject): void {
    const method = namespace.addMethod(argus, {
      browseName: 'Inspect', nodeId: 's=Argus.Inspect',
      inputArguments: [{ name: 'ImagePath', dataType: DataType.String, description: { text: 'An image file on the station' } }],
      outputArguments: [
        { name: 'Verdict', dataType: DataType.String }, { name: 'Score', dataType: DataType.Double }, { name: 'DefectClass', dataType: DataType.String },
        { name: 'InspectionId', dataType: DataType.UInt32 }, { name: 'ErrorCode', dataType: DataType.Int32 },
      ],
    });
    const outputs = (verdict: string, score: number, defectClass: string, inspectionId: number, errorCode: number): CallMethodResultOptions => ({
      statusCode: StatusCodes.Good,
      outputArguments: [
        { dataType: DataType.String, value: verdict }, { dataType: DataType.Double, value: score }, { dataType: DataType.String, value: defectClass },
        { dataType: DataType.UInt32, value: inspectionId }, { dataType: DataType.Int32, value: errorCode, arrayType: VariantArrayType.Scalar },
      ],
    });
    // node-opcua takes an async method by its two parameters (arguments, session context).
    method.bindMethod(async (inputs: Variant[], _context: unknown) => {
      const path = String(inputs[0]?.value ?? '');
      if (!path) return outputs('ERROR', 0, '', 0, PLC_ERROR.noImage);
      if (!this.handshake.state.ready) return outputs('', 0, '', 0, PLC_ERROR.busy);
      try {
        const r = await this.options.inspectNow(path, this.request.recipe || undefined);
        return outputs(r.verdict, r.score ?? 0, r.defectClass ?? '', r.inspectionId, r.verdict === 'ERROR' ? PLC_ERROR.unreadableImage : PLC_ERROR.none);
      } catch {
        return outputs('ERROR', 0, '', 0, PLC_ERROR.internal);
      }
    });
  }
}
