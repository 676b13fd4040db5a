/**
 * The desktop-only channels (preferences, "Open logs folder") as main registers them, with
 * `electron`'s ipcMain replaced by a recording stand-in: the same sender check as every other
 * channel, payloads validated, changes applied and answered as values.
 */
import { describe, expect, it, vi } from 'vitest';

const handlers = vi.hoisted(() => new Map<string, (event: unknown, payload: unknown) => unknown>());

vi.mock('electron', () => ({
  ipcMain: {
    handle: (channel: string, handler: (event: unknown, payload: unknown) => unknown) =>
      handlers.set(channel, handler),
    removeHandler: (channel: string) => handlers.delete(channel),
  },
}));

const { registerDesktopIpc } = await import('../../../electron/ipc/desktop-ipc.ts');
const { desktopChannels } = await import('../../../electron/ipc/desktop-contract.ts');
const { PreferencesStore, defaultPreferences } =
  await import('../../../electron/preferences/preferences-model.ts');

const page = 'file:///opt/app/dist/renderer/index.html';
const trust = () => ({ webContentsIds: new Set([7]), pageUrls: [page] });
const event = (id: number, url = page) => ({
  sender: { id },
  senderFrame: { url, parent: null },
});

function setUp(openLogs: () => Promise<string | null> = async () => null) {
  handlers.clear();
  const written: unknown[] = [];
  const preferences = new PreferencesStore(
    { ...defaultPreferences },
    { read: () => ({}), write: (values) => written.push(values) },
  );
  const cleanup = registerDesktopIpc({ trust }, { preferences, openLogsFolder: openLogs });
  const invoke = (channel: string, payload?: unknown, from = event(7)) =>
    handlers.get(channel)!(from, payload);
  return { preferences, written, invoke, cleanup };
}

describe('desktop IPC', () => {
  it('answers our window with the user preferences (not the window bounds)', async () => {
    const { invoke } = setUp();
    expect(await invoke(desktopChannels.getPreferences)).toEqual({
      launchAtLogin: false,
      signIn: 'browser',
      notifications: true,
    });
  });

  it('applies a valid change and refuses a malformed one', async () => {
    const { invoke, preferences, written } = setUp();
    expect(await invoke(desktopChannels.setPreferences, { signIn: 'popup' })).toEqual({
      ok: true,
      value: { launchAtLogin: false, signIn: 'popup', notifications: true },
    });
    expect(preferences.get('signIn')).toBe('popup');
    expect(written).toHaveLength(1);
    expect(
      await invoke(desktopChannels.setPreferences, { settingsBounds: { width: 1, height: 1 } }),
    ).toMatchObject({ ok: false, code: 'bad_request' });
    expect(written).toHaveLength(1);
  });

  it('refuses every channel from a foreign webContents or page, changing nothing', async () => {
    const { invoke, preferences } = setUp();
    for (const from of [event(8), event(7, 'https://evil.test/'), event(7, `${page}.evil`)]) {
      for (const channel of [
        desktopChannels.getPreferences,
        desktopChannels.setPreferences,
        desktopChannels.openLogsFolder,
      ]) {
        expect(await invoke(channel, { launchAtLogin: true }, from)).toMatchObject({
          ok: false,
          code: 'unauthorized',
        });
      }
    }
    expect(preferences.get('launchAtLogin')).toBe(false);
  });

  it('opens the logs folder, or says why it could not', async () => {
    expect(await setUp().invoke(desktopChannels.openLogsFolder)).toEqual({ ok: true, value: null });
    const failing = setUp(async () => 'The logs folder /x could not be opened: no handler');
    expect(await failing.invoke(desktopChannels.openLogsFolder)).toEqual({
      ok: false,
      code: 'io_error',
      message: 'The logs folder /x could not be opened: no handler',
    });
    failing.cleanup();
    expect(handlers.size).toBe(0);
  });
});
