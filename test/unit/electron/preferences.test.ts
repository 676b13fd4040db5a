/**
 * Preferences as the app meets them: a real file read and written through `conf` (the store
 * electron-store is built on, here without Electron), damaged or hand-edited, and the OS effects
 * of launch at login on each platform.
 */
import Conf from 'conf';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  applyLoginItemPlan,
  autostartEntry,
  changedPreferences,
  fileEffects,
  loginItemPlan,
  wasOpenedAtLogin,
} from '../../../electron/preferences/apply-preferences.ts';
import {
  defaultPreferences,
  loadPreferences,
  type Preferences,
} from '../../../electron/preferences/preferences-model.ts';

let folder: string;
beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'codex-lab-prefs-'));
});
afterEach(() => rmSync(folder, { recursive: true, force: true }));

/** Opens the preferences the way preferences.ts does, on a conf store in `folder`. */
function open(reports: string[]) {
  const path = join(folder, 'preferences.json');
  return loadPreferences({
    path,
    open() {
      const store = new Conf<Preferences>({
        cwd: folder,
        configName: 'preferences',
        clearInvalidConfig: false,
      });
      return {
        read: () => store.store,
        write: (values) => {
          store.store = values;
        },
      };
    },
    setAside(damaged) {
      renameSync(damaged, `${damaged}.unreadable-1`);
      return `${damaged}.unreadable-1`;
    },
    report: (message) => reports.push(message),
  });
}

const onDisk = () =>
  JSON.parse(readFileSync(join(folder, 'preferences.json'), 'utf8')) as Preferences;

describe('loadPreferences', () => {
  it('starts from the defaults: sign-in in the system browser, notifications on', () => {
    const reports: string[] = [];
    const preferences = open(reports);
    expect(preferences.all()).toEqual(defaultPreferences);
    expect(preferences.get('signIn')).toBe('browser');
    expect(reports).toEqual([]);
  });

  it('a damaged file is reported once by name and left as it is until the user changes a preference', () => {
    const path = join(folder, 'preferences.json');
    writeFileSync(path, '{"launchAtLogin": tru');
    const reports: string[] = [];
    const preferences = open(reports);
    expect(preferences.all()).toEqual(defaultPreferences);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toContain(path);
    expect(reports[0]).toContain('default preferences');
    // Loading never writes: the damaged bytes stay where they were, and nothing is set aside.
    expect(readFileSync(path, 'utf8')).toBe('{"launchAtLogin": tru');
    expect(readdirSync(folder)).toEqual(['preferences.json']);
    // Closing the settings window is not a change of a preference: the bounds stay in memory.
    preferences.set('settingsBounds', { width: 900, height: 700 });
    expect(readFileSync(path, 'utf8')).toBe('{"launchAtLogin": tru');
    // Until a change, each start names the file again.
    const again: string[] = [];
    open(again);
    expect(again).toHaveLength(1);
    // The first change keeps the damaged file under a named backup, then writes a new one.
    expect(preferences.update({ notifications: false })).toMatchObject({ ok: true });
    expect(readFileSync(`${path}.unreadable-1`, 'utf8')).toBe('{"launchAtLogin": tru');
    expect(onDisk()).toEqual({
      ...defaultPreferences,
      settingsBounds: { width: 900, height: 700 },
      notifications: false,
    });
    expect(preferences.update({ signIn: 'popup' })).toMatchObject({ ok: true });
    expect(readdirSync(folder).sort()).toEqual([
      'preferences.json',
      'preferences.json.unreadable-1',
    ]);
    expect(reports).toHaveLength(1);
    // The next start finds a good file and says nothing.
    const saved: string[] = [];
    expect(open(saved).get('signIn')).toBe('popup');
    expect(saved).toEqual([]);
  });

  it('a damaged file that cannot be moved at the first change is left as it is; the change applies for this run', () => {
    writeFileSync(join(folder, 'preferences.json'), '{not json');
    const reports: string[] = [];
    const preferences = loadPreferences({
      path: join(folder, 'preferences.json'),
      open: () => {
        const store = new Conf<Preferences>({ cwd: folder, configName: 'preferences' });
        return { read: () => store.store, write: (values) => (store.store = values) };
      },
      setAside: () => {
        throw Object.assign(new Error('read-only folder'), { code: 'EROFS' });
      },
      report: (message) => reports.push(message),
    });
    expect(preferences.all()).toEqual(defaultPreferences);
    const result = preferences.update({ notifications: false });
    expect(result).toMatchObject({ ok: false, code: 'io_error' });
    expect(!result.ok && result.message).toContain(join(folder, 'preferences.json'));
    expect(!result.ok && result.message).toContain('could not be moved aside (EROFS)');
    expect(preferences.get('notifications')).toBe(false);
    expect(reports).toHaveLength(1);
    expect(readFileSync(join(folder, 'preferences.json'), 'utf8')).toBe('{not json');
  });

  it('a preferences.json that is a folder: defaults, reported once by name, left alone, changes not saved', () => {
    const path = join(folder, 'preferences.json');
    mkdirSync(join(path, 'inside'), { recursive: true });
    const reports: string[] = [];
    const preferences = open(reports);
    expect(preferences.all()).toEqual(defaultPreferences);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toContain(path);
    expect(reports[0]).toContain('default preferences');
    // A change applies for this run, and says it could not be saved, naming the file.
    const result = preferences.update({ notifications: false });
    expect(result).toMatchObject({ ok: false, code: 'io_error' });
    expect(!result.ok && result.message).toContain(path);
    expect(preferences.get('notifications')).toBe(false);
    preferences.set('settingsBounds', { width: 900, height: 700 });
    expect(reports).toHaveLength(1);
    // Nothing was moved, replaced or removed.
    expect(statSync(path).isDirectory()).toBe(true);
    expect(readdirSync(folder)).toEqual(['preferences.json']);
    expect(readdirSync(path)).toEqual(['inside']);
  });

  it('keeps the valid values of a hand-edited file and resets only the wrong ones, once', () => {
    writeFileSync(
      join(folder, 'preferences.json'),
      JSON.stringify({ launchAtLogin: true, signIn: 'webview', notifications: 'yes' }),
    );
    const reports: string[] = [];
    const preferences = open(reports);
    expect(preferences.all()).toEqual({ ...defaultPreferences, launchAtLogin: true });
    expect(reports).toHaveLength(1);
    expect(reports[0]).toContain('signIn, notifications');
    expect(reports[0]).toContain(join(folder, 'preferences.json'));
    const again: string[] = [];
    expect(open(again).get('launchAtLogin')).toBe(true);
  });

  it('never writes at load: a file with invalid values is written only by a change', () => {
    const path = join(folder, 'preferences.json');
    const text = JSON.stringify({ launchAtLogin: true, signIn: 'webview' });
    writeFileSync(path, text);
    const reports: string[] = [];
    const preferences = open(reports);
    expect(readFileSync(path, 'utf8')).toBe(text);
    // Until a change is saved, each start names the file again (it still holds the values).
    const again: string[] = [];
    open(again);
    expect(again).toHaveLength(1);
    expect(preferences.update({ notifications: false })).toMatchObject({ ok: true });
    expect(onDisk()).toEqual({ ...defaultPreferences, launchAtLogin: true, notifications: false });
    const saved: string[] = [];
    open(saved);
    expect(saved).toEqual([]);
  });

  it('a read-only file with invalid values: starts on the defaults, and a change says it could not be saved', () => {
    const path = join(folder, 'preferences.json');
    const text = JSON.stringify({ launchAtLogin: true, notifications: 'yes' });
    writeFileSync(path, text);
    const reports: string[] = [];
    const load = () =>
      loadPreferences({
        path,
        open: () => {
          const store = new Conf<Preferences>({ cwd: folder, configName: 'preferences' });
          return {
            read: () => store.store,
            write: () => {
              throw Object.assign(new Error(`EACCES: permission denied, open '${path}.tmp'`), {
                code: 'EACCES',
              });
            },
          };
        },
        setAside: () => {
          throw new Error('not damaged');
        },
        report: (message) => reports.push(message),
      });
    const preferences = load();
    expect(preferences.all()).toEqual({ ...defaultPreferences, launchAtLogin: true });
    expect(reports).toHaveLength(1);
    expect(reports[0]).toContain(path);
    expect(reports[0]).toContain('notifications');
    const result = preferences.update({ signIn: 'popup' });
    expect(result).toMatchObject({ ok: false, code: 'io_error' });
    expect(!result.ok && result.message).toContain(`${path} cannot be written (EACCES)`);
    // The change applies for this run all the same.
    expect(preferences.get('signIn')).toBe('popup');
    expect(reports).toHaveLength(1);
    expect(readFileSync(path, 'utf8')).toBe(text);
  });
});

describe('PreferencesStore.update', () => {
  it('applies a valid change at once, tells the listeners, and remembers it across restarts', () => {
    const preferences = open([]);
    const seen: [boolean, boolean][] = [];
    preferences.onChange((next, previous) =>
      seen.push([previous.launchAtLogin, next.launchAtLogin]),
    );
    const result = preferences.update({ launchAtLogin: true, signIn: 'popup' });
    expect(result).toMatchObject({ ok: true, value: { launchAtLogin: true, signIn: 'popup' } });
    expect(seen).toEqual([[false, true]]);
    expect(open([]).all()).toMatchObject({ launchAtLogin: true, signIn: 'popup' });
  });

  it('keeps a one-time code as the sign-in method the tray and Add account start from', () => {
    const preferences = open([]);
    expect(preferences.update({ signIn: 'device' })).toMatchObject({
      ok: true,
      value: { signIn: 'device' },
    });
    expect(open([]).get('signIn')).toBe('device');
  });

  it('refuses unknown keys and wrong values with bad_request, changing nothing', () => {
    const preferences = open([]);
    for (const patch of [
      { signIn: 'webview' },
      { settingsBounds: { width: 1, height: 1 } },
      { notifications: 'off' },
      null,
      'launchAtLogin',
    ]) {
      const result = preferences.update(patch);
      expect(result).toMatchObject({ ok: false, code: 'bad_request' });
    }
    expect(preferences.all()).toEqual(defaultPreferences);
    // Nothing was written: a refused change never reaches the file.
    expect(existsSync(join(folder, 'preferences.json'))).toBe(false);
  });
});

describe('launch at login on each OS', () => {
  const command = ['/opt/Codex Lab/codex-lab-desktop'];

  it('macOS uses the login item and knows from Electron whether the login started the app', () => {
    const plan = loginItemPlan(true, { platform: 'darwin', command, configFolder: '/x' });
    expect(plan).toEqual({ kind: 'login-item', settings: { openAtLogin: true } });
    expect(wasOpenedAtLogin('darwin', ['app'], () => ({ wasOpenedAtLogin: true }))).toBe(true);
    expect(wasOpenedAtLogin('darwin', ['app'], () => ({ wasOpenedAtLogin: false }))).toBe(false);
  });

  it('Windows registers the login item with --opened-at-login and reads it back', () => {
    const plan = loginItemPlan(true, {
      platform: 'win32',
      command: ['C:\\codex-lab-desktop.exe'],
      configFolder: 'C:\\AppData',
    });
    expect(plan).toEqual({
      kind: 'login-item',
      settings: { openAtLogin: true, args: ['--opened-at-login'] },
    });
    const macOnly = () => ({ wasOpenedAtLogin: true });
    expect(wasOpenedAtLogin('win32', ['app.exe', '--opened-at-login'], macOnly)).toBe(true);
    expect(wasOpenedAtLogin('win32', ['app.exe'], macOnly)).toBe(false);
  });

  it('Linux writes and removes an XDG autostart entry that passes --opened-at-login', () => {
    const facts = { platform: 'linux' as const, command, configFolder: folder };
    const effects = {
      ...fileEffects,
      setLoginItemSettings: () => {
        throw new Error('Electron has no login items on Linux');
      },
    };
    const entry = join(folder, 'autostart', 'codex-lab.desktop');
    applyLoginItemPlan(loginItemPlan(true, facts), effects);
    const text = readFileSync(entry, 'utf8');
    expect(text).toContain('Exec="/opt/Codex Lab/codex-lab-desktop" --opened-at-login');
    expect(text).toContain('Type=Application');
    applyLoginItemPlan(loginItemPlan(false, facts), effects);
    expect(existsSync(entry)).toBe(false);
    expect(wasOpenedAtLogin('linux', ['electron', '.', '--opened-at-login'], () => ({}))).toBe(
      true,
    );
  });

  it('quotes Exec arguments as the Desktop Entry spec asks', () => {
    expect(autostartEntry(['/usr/bin/electron', '/home/a "b"/$app'])).toContain(
      'Exec=/usr/bin/electron "/home/a \\"b\\"/\\$app" --opened-at-login',
    );
  });

  it('changedPreferences names what changed', () => {
    expect(
      changedPreferences(defaultPreferences, { ...defaultPreferences, notifications: false }),
    ).toEqual(['notifications']);
  });
});
