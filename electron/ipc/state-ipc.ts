/**
 * State feature: `getState`, plus pushing every new state to our windows.
 */
import type { LabState } from '../../core/service/contract.ts';
import type { WebContents } from 'electron';
import type { IpcContext } from './ipc-context.ts';
import { handleInvoke, sendStateChanged } from './ipc-main.ts';

/** Registers `getState`; returns the cleanup. */
export function registerStateIpc(context: IpcContext): () => void {
  return handleInvoke('getState', context.trust, () => context.lab.getState());
}

/** Sends one state to every listed window. */
export function broadcastState(targets: Iterable<WebContents>, state: LabState): void {
  for (const target of targets) sendStateChanged(target, state);
}
