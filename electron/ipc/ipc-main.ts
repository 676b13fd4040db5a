/**
 * The only place main touches `ipcMain`: typed wrappers that check every message's sender and
 * payload (see ipc-validation.ts) before a handler runs, and a typed push to the renderer.
 * Lint forbids `ipcMain` everywhere else in electron/.
 */
import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent, type WebContents } from 'electron';
import {
  ipcChannels,
  type IpcInvokeKey,
  type IpcRequest,
  type IpcResponse,
} from './ipc-contract.ts';
import {
  checkIpcRequest,
  isTrustedSender,
  type IpcSenderInfo,
  type IpcTrust,
} from './ipc-validation.ts';

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

/**
 * Registers a handler of a channel outside the service contract (the desktop-only ones): the sender
 * is checked the same way; the handler validates its own payload (e.g. with a zod schema).
 */
export function handleTrustedInvoke(
  channel: `codex-lab:${string}`,
  trust: () => IpcTrust,
  handler: (payload: unknown) => Promise<unknown>,
): () => void {
  ipcMain.handle(channel, async (event, payload: unknown) => {
    if (!isTrustedSender(senderInfo(event), trust())) {
      return {
        ok: false,
        code: 'unauthorized',
        message: `Refused ${channel}: the message did not come from a Codex Lab window.`,
      };
    }
    return handler(payload);
  });
  return () => ipcMain.removeHandler(channel);
}

/** Pushes a message on one of our channels to one of our windows. */
export function sendToWindow(
  target: WebContents,
  channel: `codex-lab:${string}`,
  value: unknown,
): void {
  if (!target.isDestroyed()) target.send(channel, value);
}

/**
 * Pushes a message to a window once its page has loaded (a window just opened is still loading,
 * and its page listens only once its scripts ran).
 */
export function sendWhenLoaded(
  window: Pick<BrowserWindow, 'webContents'>,
  channel: `codex-lab:${string}`,
  value: unknown,
): void {
  const send = () => sendToWindow(window.webContents, channel, value);
  if (window.webContents.isLoading()) window.webContents.once('did-finish-load', send);
  else send();
}

/** Pushes a fresh state to one of our windows. */
export function sendStateChanged(target: WebContents, state: IpcRequest<'stateChanged'>): void {
  if (!target.isDestroyed()) target.send(ipcChannels.stateChanged, state);
}

/** Tells one of our windows that the router stopped answering (`subscribe`'s `onOffline`). */
export function sendOffline(target: WebContents, message: IpcRequest<'offline'>): void {
  if (!target.isDestroyed()) target.send(ipcChannels.offline, message);
}
