/**
 * Squirrel.Windows install events. The installer runs the app with `--squirrel-install`,
 * `--squirrel-updated`, `--squirrel-uninstall` or `--squirrel-obsolete` and expects it to do its
 * shortcut work and exit at once: Electron's executable is marked Squirrel-aware, so Squirrel makes
 * no shortcuts itself, and a full start (router, tray, window) during install or uninstall would be
 * wrong. Without the Start Menu shortcut Windows shows no toast notifications either. Pure: the
 * process spawn and the quit are injected, so every event is unit-tested under Node.
 */
import { win32 } from 'node:path';

/** The Squirrel package name (forge.config.ts's MakerSquirrel `name`); shortcuts are keyed on it. */
export const squirrelPackageName = 'codex_lab';

/** The events Squirrel starts the app with (`--squirrel-firstrun` is a normal start). */
export type SquirrelEvent = 'install' | 'updated' | 'uninstall' | 'obsolete';

/** What `handleSquirrelEvent` needs from the process. */
export interface SquirrelHost {
  platform: NodeJS.Platform;
  /** The app's executable (`process.execPath`). */
  execPath: string;
  /** Starts a program detached; `done` runs once when it exits or cannot start. */
  spawnDetached(command: string, args: readonly string[], done: () => void): void;
  /** Ends the app (`app.quit`). */
  quit(): void;
}

/** The Squirrel event named by the first argument after the executable, if any. */
export function squirrelEvent(argv: readonly string[]): SquirrelEvent | null {
  switch (argv[1]) {
    case '--squirrel-install':
      return 'install';
    case '--squirrel-updated':
      return 'updated';
    case '--squirrel-uninstall':
      return 'uninstall';
    case '--squirrel-obsolete':
      return 'obsolete';
    default:
      return null;
  }
}

/** The Update.exe call for an event: Squirrel keeps Update.exe one folder above the app's. */
export function squirrelCommand(
  event: SquirrelEvent,
  execPath: string,
): { command: string; args: string[] } | null {
  // Windows path rules wherever this runs: Squirrel exists only on Windows.
  const updateExe = win32.resolve(win32.dirname(execPath), '..', 'Update.exe');
  const target = win32.basename(execPath);
  switch (event) {
    case 'install':
    case 'updated':
      return { command: updateExe, args: [`--createShortcut=${target}`] };
    case 'uninstall':
      return { command: updateExe, args: [`--removeShortcut=${target}`] };
    case 'obsolete':
      return null;
  }
}

/**
 * Handles a Squirrel event, if the process was started for one: creates, updates or removes the
 * shortcuts, then quits. Returns true when it did, so main starts nothing else.
 */
export function handleSquirrelEvent(argv: readonly string[], host: SquirrelHost): boolean {
  if (host.platform !== 'win32') return false;
  const event = squirrelEvent(argv);
  if (!event) return false;
  const command = squirrelCommand(event, host.execPath);
  if (!command) {
    host.quit();
    return true;
  }
  let finished = false;
  host.spawnDetached(command.command, command.args, () => {
    if (finished) return;
    finished = true;
    host.quit();
  });
  return true;
}

/**
 * The AppUserModelID Squirrel gives the Start Menu shortcut (`com.squirrel.NAME.EXE`); the app
 * must use the same one, or Windows does not show its toast notifications.
 */
export function windowsAppUserModelId(squirrelName: string, execPath: string): string {
  const executable = win32.basename(execPath).replace(/\.exe$/i, '');
  return `com.squirrel.${squirrelName}.${executable}`;
}
