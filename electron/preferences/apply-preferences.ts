/**
 * Applying preferences to the operating system, the same way on every OS: launch at login
 * (macOS and Windows through Electron's login items, Linux through an XDG autostart entry, which
 * Electron does not manage there), and telling at start whether the login launched us (Electron
 * knows that only on macOS; elsewhere the login item passes `--opened-at-login`). Pure: the
 * Electron calls and file writes are injected.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Preferences } from './preferences-model.ts';

/** The argument the login item starts the app with (Windows and Linux). */
export const openedAtLoginArgument = '--opened-at-login';

/** The autostart entry's file name under `<config>/autostart/`. */
export const autostartFileName = 'codex-lab.desktop';

/** What the OS needs to launch the app at login, or stop doing so. */
export type LoginItemPlan =
  | { kind: 'login-item'; settings: { openAtLogin: boolean; args?: string[] } }
  | { kind: 'autostart-file'; path: string; contents: string | null };

/** Facts about this install that the plan needs. */
export interface LaunchFacts {
  platform: NodeJS.Platform;
  /** The command that starts the app: the executable, plus the app folder in development. */
  command: readonly string[];
  /** The per-user config folder (`app.getPath('appData')`: `~/.config` on Linux). */
  configFolder: string;
}

/** Quotes one argument for a desktop entry's Exec key (freedesktop Desktop Entry spec). */
function desktopExecArgument(argument: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(argument)) return argument;
  return `"${argument.replace(/(["`$\\])/g, '\\$1')}"`;
}

/** The XDG autostart entry that starts the app at login with `--opened-at-login`. */
export function autostartEntry(command: readonly string[]): string {
  const exec = [...command, openedAtLoginArgument].map(desktopExecArgument).join(' ');
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Codex Lab',
    'Comment=Use several ChatGPT accounts with the Codex CLI',
    `Exec=${exec}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

/** What to do so the app does (or does not) start at login. */
export function loginItemPlan(enabled: boolean, facts: LaunchFacts): LoginItemPlan {
  if (facts.platform === 'linux') {
    return {
      kind: 'autostart-file',
      path: join(facts.configFolder, 'autostart', autostartFileName),
      contents: enabled ? autostartEntry(facts.command) : null,
    };
  }
  if (facts.platform === 'win32') {
    // Windows starts the registered executable with these arguments.
    return {
      kind: 'login-item',
      settings: { openAtLogin: enabled, args: [...facts.command.slice(1), openedAtLoginArgument] },
    };
  }
  return { kind: 'login-item', settings: { openAtLogin: enabled } };
}

/** The effects a plan is carried out with. */
export interface LoginItemEffects {
  setLoginItemSettings(settings: { openAtLogin: boolean; args?: string[] }): void;
  /** Writes a file (creating its folder). */
  writeFile(path: string, contents: string): void;
  /** Removes a file; a missing file is fine. */
  removeFile(path: string): void;
}

/** The file effects on the real file system (the autostart entry is not a secret: mode 0644). */
export const fileEffects: Pick<LoginItemEffects, 'writeFile' | 'removeFile'> = {
  writeFile(path, contents) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, contents);
  },
  removeFile(path) {
    rmSync(path, { force: true });
  },
};

/** Carries out a plan. */
export function applyLoginItemPlan(plan: LoginItemPlan, effects: LoginItemEffects): void {
  if (plan.kind === 'login-item') effects.setLoginItemSettings(plan.settings);
  else if (plan.contents === null) effects.removeFile(plan.path);
  else effects.writeFile(plan.path, plan.contents);
}

/**
 * True when this start came from the login item: on macOS Electron says so; on Windows and Linux
 * our login item passes `--opened-at-login`. A login start stays in the tray (no window).
 */
export function wasOpenedAtLogin(
  platform: NodeJS.Platform,
  argv: readonly string[],
  macLoginItem: () => { wasOpenedAtLogin?: boolean },
): boolean {
  if (argv.includes(openedAtLoginArgument)) return true;
  return platform === 'darwin' && macLoginItem().wasOpenedAtLogin === true;
}

/** Which of the OS-facing preferences changed between two values. */
export function changedPreferences(
  previous: Preferences,
  next: Preferences,
): (keyof Preferences)[] {
  return (Object.keys(next) as (keyof Preferences)[]).filter(
    (key) => JSON.stringify(previous[key]) !== JSON.stringify(next[key]),
  );
}
