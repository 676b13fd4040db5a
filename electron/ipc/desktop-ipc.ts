/**
 * Desktop-only feature: preferences and the logs folder (see desktop-contract.ts).
 */
import type { ContractResult } from '../../core/service/contract.ts';
import type { PreferencesStore } from '../preferences/preferences-model.ts';
import { desktopChannels, userPreferences, type UserPreferences } from './desktop-contract.ts';
import type { IpcContext } from './ipc-context.ts';
import { handleTrustedInvoke } from './ipc-main.ts';

/** What the desktop channels act on. */
export interface DesktopIpcDependencies {
  preferences: PreferencesStore;
  /** Opens the logs folder; resolves with an error sentence, or null when it opened. */
  openLogsFolder(): Promise<string | null>;
}

/** Registers the desktop channels; returns the cleanup. */
export function registerDesktopIpc(
  context: Pick<IpcContext, 'trust'>,
  dependencies: DesktopIpcDependencies,
): () => void {
  const cleanups = [
    handleTrustedInvoke(desktopChannels.getPreferences, context.trust, async () =>
      userPreferences(dependencies.preferences.all()),
    ),
    handleTrustedInvoke(
      desktopChannels.setPreferences,
      context.trust,
      async (payload): Promise<ContractResult<UserPreferences>> => {
        const result = dependencies.preferences.update(payload);
        return result.ok ? { ok: true, value: userPreferences(result.value) } : result;
      },
    ),
    handleTrustedInvoke(
      desktopChannels.openLogsFolder,
      context.trust,
      async (): Promise<ContractResult<null>> => {
        const problem = await dependencies.openLogsFolder();
        return problem === null
          ? { ok: true, value: null }
          : { ok: false, code: 'io_error', message: problem };
      },
    ),
  ];
  return () => cleanups.forEach((cleanup) => cleanup());
}
