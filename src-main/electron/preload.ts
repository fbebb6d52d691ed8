import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { ApiResult, ArgusBridge, ArgusEvent, PickPathsRequest } from '../contract/contract.ts';

// The renderer gets exactly this: one call function, one event subscription and the native open
// dialog. No ipcRenderer, no Node, no process.env.
const bridge: ArgusBridge = {
  invoke: (method: string, input: unknown): Promise<ApiResult<unknown>> => ipcRenderer.invoke('argus:call', method, input),
  onEvent: (listener: (event: ArgusEvent) => void): (() => void) => {
    const wrapped = (_e: IpcRendererEvent, event: ArgusEvent): void => listener(event);
    ipcRenderer.on('argus:event', wrapped);
    return () => ipcRenderer.removeListener('argus:event', wrapped);
  },
  pickPaths: (request: PickPathsRequest): Promise<string[]> => ipcRenderer.invoke('argus:pick', request),
  mediaBase: 'argus-media://',
};

contextBridge.exposeInMainWorld('argus', bridge);
