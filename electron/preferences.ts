/**
 * App preferences in electron-store: window bounds, launch at login, how sign-in opens. Never
 * secrets: tokens live with the service (profile files or the keyring), not here.
 */
import Store from 'electron-store';

/** Saved window position and size. */
export interface WindowBounds {
  x?: number;
  y?: number;
  width: number;
  height: number;
}

/** Everything the app remembers between runs. */
export interface Preferences {
  settingsBounds: WindowBounds;
  launchAtLogin: boolean;
  /** Where Add account opens the sign-in page. */
  signIn: 'browser' | 'popup';
  notifications: boolean;
}

/** First-run values. */
export const defaultPreferences: Preferences = {
  settingsBounds: { width: 980, height: 760 },
  launchAtLogin: false,
  signIn: 'browser',
  notifications: true,
};

/** The typed preferences store. */
export type PreferencesStore = Store<Preferences>;

/** Opens the preferences file in the app's userData folder. */
export function openPreferences(): PreferencesStore {
  return new Store<Preferences>({ name: 'preferences', defaults: defaultPreferences });
}
