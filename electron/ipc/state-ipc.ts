/**
 * State feature: `getState`, plus pushing every new state to our windows, and the router's
 * silence when it stops answering.
 */
import type { LabState } from '../../core/service/contract.ts';
import type { WebContents } from 'electron';
import type { IpcContext } from './ipc-context.ts';
import { handleInvoke, sendOffline, sendStateChanged } from './ipc-main.ts';

/** Registers `getState`; returns the cleanup. */
export function registerStateIpc(context: IpcContext): () => void {
  return handleInvoke('getState', context.trust, () => context.lab.getState());
}

/** Sends one state to every listed window. */
export function broadcastState(targets: Iterable<WebContents>, state: LabState): void {
  for (const target of targets) sendStateChanged(target, state);
}

/** Tells every listed window that the router stopped answering, in one sentence. */
export function broadcastOffline(targets: Iterable<WebContents>, message: string): void {
  for (const target of targets) sendOffline(target, message);
}
