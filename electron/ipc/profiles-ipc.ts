/**
 * Profiles feature: switch the active profile, rename and remove.
 */
import type { IpcContext } from './ipc-context.ts';
import { handleInvoke } from './ipc-main.ts';

/** Registers the profile channels; returns the cleanup. */
export function registerProfilesIpc(context: IpcContext): () => void {
  const cleanups = [
    handleInvoke('setActive', context.trust, (request) => context.lab.setActive(request)),
    handleInvoke('renameProfile', context.trust, (request) => context.lab.renameProfile(request)),
    handleInvoke('removeProfile', context.trust, (request) => context.lab.removeProfile(request)),
  ];
  return () => cleanups.forEach((cleanup) => cleanup());
}
