/**
 * The settings window: our React page from dist/renderer, with the preload's `window.codexLab`.
 * One instance; reopening focuses it. Bounds are remembered in the preferences.
 */
import { BrowserWindow } from 'electron';
import { hardenedWebPreferences } from '../security/harden.ts';
import type { PreferencesStore } from '../preferences/preferences-model.ts';

/** Paths the window needs. */
export interface SettingsWindowPaths {
  /** Absolute path of dist/renderer/index.html. */
  indexHtml: string;
  /** Absolute path of the bundled preload (dist/electron/preload.cjs). */
  preload: string;
}

let current: BrowserWindow | null = null;

/** Shows the settings window, creating it on first use; returns it. */
export function showSettingsWindow(
  paths: SettingsWindowPaths,
  preferences: PreferencesStore,
  onCreated: (window: BrowserWindow) => void,
): BrowserWindow {
  if (current && !current.isDestroyed()) {
    if (current.isMinimized()) current.restore();
    current.show();
    current.focus();
    return current;
  }
  const bounds = preferences.get('settingsBounds');
  const window = new BrowserWindow({
    ...bounds,
    minWidth: 640,
    minHeight: 480,
    show: false,
    title: 'Codex Lab',
    // Matches the page's dark background so the window does not flash white while loading.
    backgroundColor: '#16181d',
    autoHideMenuBar: true,
    webPreferences: { ...hardenedWebPreferences, preload: paths.preload },
  });
  current = window;
  onCreated(window);
  window.once('ready-to-show', () => window.show());
  window.on('close', () => preferences.set('settingsBounds', window.getBounds()));
  window.on('closed', () => {
    if (current === window) current = null;
  });
  void window.loadFile(paths.indexHtml);
  return window;
}

/** The open settings window, if any. */
export function settingsWindow(): BrowserWindow | null {
  return current && !current.isDestroyed() ? current : null;
}
