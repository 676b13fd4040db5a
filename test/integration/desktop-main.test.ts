/**
 * The built desktop main process (dist/electron/main.cjs, as packaged) started under plain Node
 * with a recording stand-in for `electron` (test/helpers/electron-standin.cjs): Electron's binary
 * cannot be installed here, so this is how the bundle's start-up, wiring and quit run on every CI
 * pass. The real app runs in test/browser/electron-smoke.test.ts where a binary exists.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

interface AppEvent {
  event: string;
  [field: string]: unknown;
}

let data: string;
let appRoot: string;

/**
 * An app folder as packaged, in a temporary place: the bundles, the icons, package.json and a
 * page file (the stand-in never renders it), so other suites rebuilding dist/ cannot disturb it.
 */
function makeAppFolder(folder: string, withTrayIcon = true): string {
  mkdirSync(join(folder, 'dist', 'renderer'), { recursive: true });
  cpSync('dist/electron', join(folder, 'dist', 'electron'), { recursive: true });
  writeFileSync(
    join(folder, 'dist', 'renderer', 'index.html'),
    '<!doctype html><title>Codex Lab</title>',
  );
  cpSync('package.json', join(folder, 'package.json'));
  cpSync('build', join(folder, 'build'), { recursive: true });
  if (!withTrayIcon) rmSync(join(folder, 'build', 'tray.png'));
  return folder;
}

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build-electron.mjs'], { stdio: 'inherit' });
  appRoot = makeAppFolder(mkdtempSync(join(tmpdir(), 'codex-lab-app-')));
  return () => rmSync(appRoot, { recursive: true, force: true });
});
beforeEach(() => {
  data = mkdtempSync(join(tmpdir(), 'codex-lab-standin-'));
});
afterEach(() => rmSync(data, { recursive: true, force: true }));

/** Runs main until it exits; returns what it did, in order. */
async function runMain(
  root = appRoot,
  env: Record<string, string> = {},
): Promise<{ events: AppEvent[]; code: number | null; stderr: string }> {
  const child = spawn(
    process.execPath,
    [
      '--require',
      join(process.cwd(), 'test/helpers/electron-standin.cjs'),
      join(root, 'dist/electron/main.cjs'),
    ],
    {
      env: {
        ...process.env,
        ELECTRON_STANDIN_APP_ROOT: root,
        ELECTRON_STANDIN_DATA: data,
        CODEX_LAB_HOME: join(data, 'home'),
        CODEX_LAB_PORT: '0',
        CODEX_LAB_CALLBACK_PORT: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const events = stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as AppEvent);
  return { events, code, stderr };
}

const names = (events: AppEvent[]) => events.map((entry) => entry.event);

describe('desktop main process (built bundle, stand-in electron)', () => {
  it('starts, serves state over IPC, applies a preference, and quits after the router stopped', async () => {
    const { events, code, stderr } = await runMain();
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const order = names(events);
    expect(order.slice(0, 2)).toEqual(['lock', 'ready']);
    expect(order.indexOf('tray')).toBeLessThan(order.indexOf('window'));
    // The app asked the system which proxy chatgpt.com takes (none here).
    expect(events.find((entry) => entry.event === 'resolve-proxy')).toEqual({
      event: 'resolve-proxy',
      url: 'https://chatgpt.com/',
    });
    expect(events.find((entry) => entry.event === 'load-file')).toEqual({
      event: 'load-file',
      file: join('dist', 'renderer', 'index.html'),
    });
    expect(events.find((entry) => entry.event === 'tray-menu')!['labels']).toEqual(
      expect.arrayContaining(['Add account…', 'Preferences', 'Quit Codex Lab']),
    );
    const state = events.find((entry) => entry.event === 'state') as unknown as {
      router: { url: string; running: boolean };
    };
    expect(state.router.running).toBe(true);
    expect(events.find((entry) => entry.event === 'preferences')!['preferences']).toEqual({
      launchAtLogin: false,
      signIn: 'browser',
      notifications: true,
    });
    // Launch at login applied at once: Linux gets an XDG autostart entry.
    if (process.platform === 'linux') {
      expect(
        readFileSync(join(data, 'appData', 'autostart', 'codex-lab.desktop'), 'utf8'),
      ).toContain('--opened-at-login');
    }
    // Quit: the tray goes first, the app exits only after the service stopped.
    expect(order.slice(order.indexOf('quit'))).toEqual(['quit', 'tray-destroyed', 'quit', 'exit']);
    await expect(fetch(`${state.router.url}/lab/v1/state`)).rejects.toThrow();
    // The log went to the app's logs folder, not to stderr.
    expect(readdirSync(join(data, 'logs'))).toContain('main.1.log');
  });

  it('a damaged preferences file: one message naming it, defaults used, the file kept', async () => {
    mkdirSync(join(data, 'userData'), { recursive: true });
    writeFileSync(join(data, 'userData', 'preferences.json'), '{"launchAtLogin": tr');
    const { events, code } = await runMain();
    expect(code).toBe(0);
    const messages = events.filter((entry) => entry.event === 'message-box');
    expect(messages).toHaveLength(1);
    expect(messages[0]!['message']).toContain(join(data, 'userData', 'preferences.json'));
    expect(events.find((entry) => entry.event === 'preferences')!['preferences']).toMatchObject({
      signIn: 'browser',
    });
    expect(
      readdirSync(join(data, 'userData')).some((name) =>
        name.startsWith('preferences.json.damaged-'),
      ),
    ).toBe(true);
  });

  it('an unexpected start-up failure: logged first, then one dialog naming the log folder, then quit', async () => {
    const { events, code, stderr } = await runMain(appRoot, { ELECTRON_STANDIN_FAIL_START: '1' });
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const logs = join(data, 'logs');
    expect(events.filter((entry) => entry.event === 'error-box')).toEqual([
      {
        event: 'error-box',
        title: 'Codex Lab could not start',
        content: `Codex Lab hit an unexpected error while starting; the details are in its log file (main.1.log or the highest-numbered main.N.log) in ${logs}.`,
      },
    ]);
    const line = readFileSync(join(logs, 'main.1.log'), 'utf8');
    expect(line).toContain('Codex Lab could not start');
    expect(line).toContain('the session stand-in failed');
    expect(names(events)).not.toContain('tray');
  });

  it('a broken install (the tray icon missing): one dialog naming the file, then quit', async () => {
    const broken = makeAppFolder(join(data, 'app'), false);
    const { events, code } = await runMain(broken);
    expect(code).toBe(0);
    expect(events.filter((entry) => entry.event === 'error-box')).toEqual([
      {
        event: 'error-box',
        title: 'Codex Lab cannot start',
        content: `A file of Codex Lab is missing: ${join(broken, 'build', 'tray.png')}. Reinstall Codex Lab to repair it.`,
      },
    ]);
    expect(names(events)).not.toContain('tray');
    expect(names(events)).not.toContain('window');
  });
});
