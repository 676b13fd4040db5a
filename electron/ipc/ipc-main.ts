/**
 * The only place main touches `ipcMain`: typed wrappers that check every message's sender and
 * payload (see ipc-validation.ts) before a handler runs, and a typed push to the renderer.
 * Lint forbids `ipcMain` everywhere else in electron/.
 */
import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import {
  ipcChannels,
  type IpcInvokeKey,
  type IpcRequest,
  type IpcResponse,
} from './ipc-contract.ts';
import { checkIpcRequest, type IpcSenderInfo, type IpcTrust } from './ipc-validation.ts';

/** Reads the sender facts the validation needs from an Electron event. */
export function senderInfo(event: IpcMainInvokeEvent): IpcSenderInfo {
  const frame = event.senderFrame;
  return {
    webContentsId: event.sender.id,
    frameUrl: frame ? frame.url : null,
    isMainFrame: frame ? frame.parent === null : false,
  };
}

/**
 * Registers the handler of one invoke channel. The handler receives an already validated request;
 * a rejected message answers `{ ok:false, code }` (or, for `getState`, rejects the invoke, since a
 * state has no failure shape). Returns a function that removes the handler.
 */
export function handleInvoke<K extends IpcInvokeKey>(
  key: K,
  trust: () => IpcTrust,
  handler: (request: IpcRequest<K>) => Promise<IpcResponse<K>>,
): () => void {
  const channel = ipcChannels[key];
  ipcMain.handle(channel, async (event, payload: unknown) => {
    const check = checkIpcRequest(key, senderInfo(event), payload, trust());
    if (!check.ok) {
      if (key === 'getState') throw new Error(check.message);
      return check;
    }
    return handler(check.request);
  });
  return () => ipcMain.removeHandler(channel);
}

/** Pushes a fresh state to one of our windows. */
export function sendStateChanged(target: WebContents, state: IpcRequest<'stateChanged'>): void {
  if (!target.isDestroyed()) target.send(ipcChannels.stateChanged, state);
}
