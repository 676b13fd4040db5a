/**
 * App preferences in electron-store (`preferences.json` in the userData folder): window bounds,
 * launch at login, how sign-in opens, notifications. Never secrets: tokens live with the service
 * (profile files or the keyring), not here. The rules (defaults, validation, a damaged file) are
 * in preferences/preferences-model.ts; this file only opens the real store.
 */
import { app } from 'electron';
import Store from 'electron-store';
import { renameSync } from 'node:fs';
import { join } from 'node:path';
import {
  loadPreferences,
  type Preferences,
  type PreferencesStore,
} from './preferences/preferences-model.ts';

export type {
  Preferences,
  PreferencesStore,
  WindowBounds,
} from './preferences/preferences-model.ts';

/**
 * Opens the preferences; `report` is called at most once, when the file had to be replaced or
 * could not be read at all (then it is left as it is).
 */
export function openPreferences(report: (message: string) => void): PreferencesStore {
  const path = join(app.getPath('userData'), 'preferences.json');
  return loadPreferences({
    path,
    open() {
      // The model validates and fills defaults itself; electron-store only reads and writes.
      const store = new Store<Preferences>({ name: 'preferences', clearInvalidConfig: false });
      return {
        read: () => store.store,
        write: (values) => {
          store.store = values;
        },
      };
    },
    setAside(damaged) {
      const keptAs = `${damaged}.damaged-${Date.now()}`;
      renameSync(damaged, keptAs);
      return keptAs;
    },
    report,
  });
}
