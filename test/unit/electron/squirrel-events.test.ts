import { describe, expect, it } from 'vitest';
import {
  handleSquirrelEvent,
  squirrelPackageName,
  squirrelEvent,
  windowsAppUserModelId,
  type SquirrelHost,
} from '../../../electron/startup/squirrel-events.ts';
import config from '../../../forge.config.ts';

const execPath = 'C:\\Users\\ada\\AppData\\Local\\codex_lab\\app-0.1.0\\codex-lab-desktop.exe';

/** A host that records what the handler asked for; `exit` ends the spawned program. */
function recordingHost(platform: NodeJS.Platform = 'win32') {
  const calls: string[] = [];
  let exit: (() => void) | null = null;
  const host: SquirrelHost = {
    platform,
    execPath,
    spawnDetached(command, args, done) {
      calls.push(`spawn ${command} ${args.join(' ')}`);
      exit = done;
    },
    quit: () => calls.push('quit'),
  };
  return { host, calls, exitSpawned: () => exit?.() };
}

describe('squirrelEvent', () => {
  it('reads the four events from the first argument and nothing else', () => {
    expect(squirrelEvent(['app.exe', '--squirrel-install', '0.1.0'])).toBe('install');
    expect(squirrelEvent(['app.exe', '--squirrel-updated', '0.1.1'])).toBe('updated');
    expect(squirrelEvent(['app.exe', '--squirrel-uninstall', '0.1.0'])).toBe('uninstall');
    expect(squirrelEvent(['app.exe', '--squirrel-obsolete', '0.1.0'])).toBe('obsolete');
    // The first run after install is a normal start.
    expect(squirrelEvent(['app.exe', '--squirrel-firstrun'])).toBeNull();
    expect(squirrelEvent(['app.exe'])).toBeNull();
    expect(squirrelEvent(['app.exe', '--show-settings', '--squirrel-install'])).toBeNull();
  });
});

describe('handleSquirrelEvent', () => {
  it('install: creates the shortcut with Update.exe beside the app folder, then quits', () => {
    const { host, calls, exitSpawned } = recordingHost();
    expect(handleSquirrelEvent(['app.exe', '--squirrel-install', '0.1.0'], host)).toBe(true);
    expect(calls).toEqual([
      'spawn C:\\Users\\ada\\AppData\\Local\\codex_lab\\Update.exe --createShortcut=codex-lab-desktop.exe',
    ]);
    exitSpawned();
    exitSpawned();
    expect(calls.slice(1)).toEqual(['quit']);
  });

  it('updated: refreshes the shortcut, then quits', () => {
    const { host, calls, exitSpawned } = recordingHost();
    expect(handleSquirrelEvent(['app.exe', '--squirrel-updated', '0.1.1'], host)).toBe(true);
    expect(calls[0]).toContain('--createShortcut=codex-lab-desktop.exe');
    expect(calls).not.toContain('quit');
    exitSpawned();
    expect(calls).toContain('quit');
  });

  it('uninstall: removes the shortcut, then quits', () => {
    const { host, calls, exitSpawned } = recordingHost();
    expect(handleSquirrelEvent(['app.exe', '--squirrel-uninstall', '0.1.0'], host)).toBe(true);
    expect(calls[0]).toContain('--removeShortcut=codex-lab-desktop.exe');
    exitSpawned();
    expect(calls.at(-1)).toBe('quit');
  });

  it('obsolete: quits at once without running anything', () => {
    const { host, calls } = recordingHost();
    expect(handleSquirrelEvent(['app.exe', '--squirrel-obsolete', '0.1.0'], host)).toBe(true);
    expect(calls).toEqual(['quit']);
  });

  it('a normal start, and every start outside Windows, is left alone', () => {
    const windows = recordingHost();
    expect(handleSquirrelEvent(['app.exe', '--squirrel-firstrun'], windows.host)).toBe(false);
    expect(handleSquirrelEvent(['app.exe'], windows.host)).toBe(false);
    const linux = recordingHost('linux');
    expect(handleSquirrelEvent(['electron', '--squirrel-install'], linux.host)).toBe(false);
    expect([...windows.calls, ...linux.calls]).toEqual([]);
  });
});

describe('windowsAppUserModelId', () => {
  it('matches the id Squirrel gives the Start Menu shortcut', () => {
    expect(windowsAppUserModelId(squirrelPackageName, execPath)).toBe(
      'com.squirrel.codex_lab.codex-lab-desktop',
    );
    // The same name the installer is made with, and the executable the packager names.
    const squirrel = (config.makers ?? []).find(
      (maker) => (maker as unknown as { name: string }).name === 'squirrel',
    ) as unknown as { configOrConfigFetcher: { name: string } };
    expect(squirrel.configOrConfigFetcher.name).toBe(squirrelPackageName);
    expect(config.packagerConfig?.executableName).toBe('codex-lab-desktop');
  });
});
