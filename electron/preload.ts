/**
 * The sandboxed preload: exposes one small, domain-shaped `window.codexLab` implementing the
 * service contract (`LabApi`). It never exposes `ipcRenderer` or a generic `send(channel)`, and no
 * token ever crosses it: main answers with views only. Bundled to CommonJS because sandboxed
 * preloads cannot load ES modules.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { LabApi, LabState } from '../core/service/contract.ts';
import { desktopChannels, type DesktopApi, type UserPreferences } from './ipc/desktop-contract.ts';
import {
  ipcChannels,
  type IpcArgs,
  type IpcInvokeKey,
  type IpcResponse,
} from './ipc/ipc-contract.ts';

/** The typed preload-side invoke: the only way the preload calls main. */
function invoke<K extends IpcInvokeKey>(key: K, ...args: IpcArgs<K>): Promise<IpcResponse<K>> {
  return ipcRenderer.invoke(ipcChannels[key], ...args) as Promise<IpcResponse<K>>;
}

/**
 * The typed preload-side listener for state pushes, and for main's word that the router stopped
 * answering (the page then says "Not connected" until the next state). Returns the unsubscribe
 * function: a React effect must return it, or every re-render leaks a listener.
 */
function onStateChanged(
  listener: (state: LabState) => void,
  onOffline?: (message: string) => void,
): () => void {
  const wrapped = (_event: IpcRendererEvent, state: LabState) => listener(state);
  const offline = (_event: IpcRendererEvent, message: string) => onOffline?.(message);
  ipcRenderer.on(ipcChannels.stateChanged, wrapped);
  ipcRenderer.on(ipcChannels.offline, offline);
  return () => {
    ipcRenderer.removeListener(ipcChannels.stateChanged, wrapped);
    ipcRenderer.removeListener(ipcChannels.offline, offline);
  };
}

/** `window.codexLab`: every method is one validated request to main. */
export const codexLab: LabApi = {
  getState: () => invoke('getState'),
  subscribe: (listener, onOffline) => onStateChanged(listener, onOffline),
  setActive: (input) => invoke('setActive', input),
  renameProfile: (input) => invoke('renameProfile', input),
  removeProfile: (input) => invoke('removeProfile', input),
  startLogin: (input) => invoke('startLogin', input),
  cancelLogin: (input) => invoke('cancelLogin', input),
  completeLogin: (input) => invoke('completeLogin', input),
  setPriming: (input) => invoke('setPriming', input),
  primeNow: (input) => invoke('primeNow', input),
  pinSession: (input) => invoke('pinSession', input),
  pinRepo: (input) => invoke('pinRepo', input),
  refreshUsage: (input) => invoke('refreshUsage', input),
};

/** Listens to one of main's pushes; returns the unsubscribe. */
function onPush<T>(channel: string, listener: (value: T) => void): () => void {
  const wrapped = (_event: IpcRendererEvent, value: T) => listener(value);
  ipcRenderer.on(channel, wrapped);
  return () => {
    ipcRenderer.removeListener(channel, wrapped);
  };
}

/** `window.codexLabDesktop`: the desktop-only preferences and logs folder. */
export const codexLabDesktop: DesktopApi = {
  getPreferences: () => ipcRenderer.invoke(desktopChannels.getPreferences),
  setPreferences: (patch) => ipcRenderer.invoke(desktopChannels.setPreferences, patch),
  openLogsFolder: () => ipcRenderer.invoke(desktopChannels.openLogsFolder),
  onPreferencesChanged: (listener) =>
    onPush<UserPreferences>(desktopChannels.preferencesChanged, listener),
  onFocusProfile: (listener) => onPush<string>(desktopChannels.focusProfile, listener),
  onAddAccount: (listener) => onPush<null>(desktopChannels.addAccount, () => listener()),
};

contextBridge.exposeInMainWorld('codexLab', codexLab);
contextBridge.exposeInMainWorld('codexLabDesktop', codexLabDesktop);
