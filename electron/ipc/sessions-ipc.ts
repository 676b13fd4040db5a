/**
 * Sessions feature: pin a live session or a repository to a profile.
 */
import type { IpcContext } from './ipc-context.ts';
import { handleInvoke } from './ipc-main.ts';

/** Registers the pin channels; returns the cleanup. */
export function registerSessionsIpc(context: IpcContext): () => void {
  const cleanups = [
    handleInvoke('pinSession', context.trust, (request) => context.lab.pinSession(request)),
    handleInvoke('pinRepo', context.trust, (request) => context.lab.pinRepo(request)),
  ];
  return () => cleanups.forEach((cleanup) => cleanup());
}
