/**
 * The desktop-only channels, next to the service contract's: the user's preferences (launch at
 * login, sign-in method, notifications), "Open logs folder", and three pushes (preferences changed
 * elsewhere, e.g. from the tray; a notification asking to show one profile; the tray's Add
 * account… asking the page to open its dialog). The web dashboard has none of these, so they are a
 * second small object, `window.codexLabDesktop`.
 */
import type { ContractResult } from '../../core/service/contract.ts';
import type { Preferences } from '../preferences/preferences-model.ts';

export type { SignInMethod } from '../preferences/preferences-model.ts';

/** Channel names, under the same `codex-lab:` prefix the sender check relies on. */
export const desktopChannels = {
  getPreferences: 'codex-lab:get-preferences',
  setPreferences: 'codex-lab:set-preferences',
  openLogsFolder: 'codex-lab:open-logs-folder',
  preferencesChanged: 'codex-lab:preferences-changed',
  focusProfile: 'codex-lab:focus-profile',
  addAccount: 'codex-lab:add-account',
} as const satisfies Record<string, `codex-lab:${string}`>;

/** The preferences a user sees and changes (window bounds stay internal). */
export type UserPreferences = Pick<Preferences, 'launchAtLogin' | 'signIn' | 'notifications'>;

/** The user's part of the preferences. */
export function userPreferences(preferences: Preferences): UserPreferences {
  return {
    launchAtLogin: preferences.launchAtLogin,
    signIn: preferences.signIn,
    notifications: preferences.notifications,
  };
}

/** `window.codexLabDesktop`, set by the preload in the desktop app only. */
export interface DesktopApi {
  getPreferences(): Promise<UserPreferences>;
  /** Changes some preferences; applied at once (launch at login, tray, this page). */
  setPreferences(patch: Partial<UserPreferences>): Promise<ContractResult<UserPreferences>>;
  /** Opens the logs folder in the file manager. */
  openLogsFolder(): Promise<ContractResult<null>>;
  onPreferencesChanged(listener: (preferences: UserPreferences) => void): () => void;
  /** A notification was clicked: show this profile. */
  onFocusProfile(listener: (profile: string) => void): () => void;
  /**
   * The tray's Add account… was clicked: open the page's Add account dialog, which runs the
   * sign-in and shows why it could not start (a callback port in use, a router not answering).
   */
  onAddAccount(listener: () => void): () => void;
}
