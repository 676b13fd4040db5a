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
 * Opens the preferences; `report` is called at most once, naming the file, when it could not be
 * used as it is (it is never written at load, only by the user's change).
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
      // The name a sign-in gives an auth.json it cannot read (docs/auth.md), so one search finds
      // every file Codex Lab kept aside; a second change the same millisecond cannot come here.
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const keptAs = `${damaged}.unreadable-${stamp}`;
      renameSync(damaged, keptAs);
      return keptAs;
    },
    report,
  });
}
