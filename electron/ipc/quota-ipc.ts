/**
 * Quota and priming feature: refresh usage, turn priming on or off, prime now.
 */
import type { IpcContext } from './ipc-context.ts';
import { handleInvoke } from './ipc-main.ts';

/** Registers the quota and priming channels; returns the cleanup. */
export function registerQuotaIpc(context: IpcContext): () => void {
  const cleanups = [
    handleInvoke('refreshUsage', context.trust, (request) => context.lab.refreshUsage(request)),
    handleInvoke('setPriming', context.trust, (request) => context.lab.setPriming(request)),
    handleInvoke('primeNow', context.trust, (request) => context.lab.primeNow(request)),
  ];
  return () => cleanups.forEach((cleanup) => cleanup());
}
