/**
 * The built desktop main process (dist/electron/main.cjs, as packaged) started under plain Node
 * with a recording stand-in for `electron` (test/helpers/electron-standin.cjs): Electron's binary
 * cannot be installed here, so this is how the bundle's start-up, wiring and quit run on every CI
 * pass. The real app runs in test/browser/electron-smoke.test.ts where a binary exists.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import { startServe, stopServes, type ServeChild } from './cli-serve-helper.ts';

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
/** A copy of the built app in `folder`, without the file at the relative path `missing`. */
function makeAppFolder(folder: string, missing?: string): string {
  mkdirSync(join(folder, 'dist', 'renderer'), { recursive: true });
  cpSync('dist/electron', join(folder, 'dist', 'electron'), { recursive: true });
  writeFileSync(
    join(folder, 'dist', 'renderer', 'index.html'),
    '<!doctype html><title>Codex Lab</title>',
  );
  cpSync('package.json', join(folder, 'package.json'));
  cpSync('build', join(folder, 'build'), { recursive: true });
  if (missing) rmSync(join(folder, missing));
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

  it('a damaged preferences file: one message naming it, defaults used, the file kept aside at the first change', async () => {
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
    // Never written at start; the user's change (the stand-in turns on launch at login) keeps the
    // damaged bytes under a named backup, as a sign-in keeps an auth.json, and writes a new file.
    expect(events.find((entry) => entry.event === 'preferences-changed')!['result']).toMatchObject({
      ok: true,
    });
    const userData = join(data, 'userData');
    const kept = readdirSync(userData).filter((name) => name.startsWith('preferences.json.'));
    expect(kept).toEqual([expect.stringMatching(/^preferences\.json\.unreadable-\d{4}-/)]);
    expect(readFileSync(join(userData, kept[0]!), 'utf8')).toBe('{"launchAtLogin": tr');
    expect(JSON.parse(readFileSync(join(userData, 'preferences.json'), 'utf8'))).toMatchObject({
      launchAtLogin: true,
    });
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
    const broken = makeAppFolder(join(data, 'app'), 'build/tray.png');
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
  it('a broken install (the keychain broker missing): one dialog naming the file, then quit', async () => {
    // Without it every keychain call would start a helper that exits 1, with no reason given.
    const broken = makeAppFolder(join(data, 'app'), 'dist/electron/keyring-broker.cjs');
    const { events, code } = await runMain(broken);
    expect(code).toBe(0);
    expect(events.filter((entry) => entry.event === 'error-box')).toEqual([
      {
        event: 'error-box',
        title: 'Codex Lab cannot start',
        content: `A file of Codex Lab is missing: ${join(broken, 'dist', 'electron', 'keyring-broker.cjs')}. Reinstall Codex Lab to repair it.`,
      },
    ]);
    expect(names(events)).not.toContain('tray');
  });
});

/** The app under the stand-in, played by the test (ELECTRON_STANDIN_DRIVE=stdin). */
interface DrivenApp {
  events: AppEvent[];
  /** Sends one command (see the stand-in's `drive`). */
  send(command: Record<string, unknown>): void;
  /** Waits (at most 10 s) for an event after index `from` matching `check`; returns its index. */
  next(check: (event: AppEvent) => boolean, from?: number): Promise<number>;
  /** Quits from the tray and waits for the exit. */
  quit(): Promise<number | null>;
}

const driven: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const child of driven.splice(0)) child.kill('SIGKILL');
});

function driveMain(env: Record<string, string> = {}): DrivenApp {
  const child = spawn(
    process.execPath,
    [
      '--require',
      join(process.cwd(), 'test/helpers/electron-standin.cjs'),
      join(appRoot, 'dist/electron/main.cjs'),
    ],
    {
      env: {
        ...process.env,
        ELECTRON_STANDIN_APP_ROOT: appRoot,
        ELECTRON_STANDIN_DATA: data,
        ELECTRON_STANDIN_DRIVE: 'stdin',
        CODEX_LAB_HOME: join(data, 'home'),
        CODEX_LAB_PORT: '0',
        CODEX_LAB_CALLBACK_PORT: '0',
        ...env,
      },
    },
  );
  driven.push(child);
  const events: AppEvent[] = [];
  let buffer = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let end = buffer.indexOf('\n');
    while (end !== -1) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      end = buffer.indexOf('\n');
      if (line.startsWith('{')) events.push(JSON.parse(line) as AppEvent);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const next = async (check: (event: AppEvent) => boolean, from = 0): Promise<number> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const index = events.findIndex((event, at) => at >= from && check(event));
      if (index !== -1) return index;
      if (Date.now() > deadline) {
        throw new Error(`no such event; the app did: ${JSON.stringify(events.slice(from))}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return {
    events,
    send: (command) => child.stdin.write(`${JSON.stringify(command)}\n`),
    next,
    async quit() {
      child.stdin.write(`${JSON.stringify({ quit: true })}\n`);
      return exited;
    },
  };
}

/** The ids of a tray-menu event's items. */
const itemIds = (event: AppEvent) =>
  (event['items'] as Array<{ id?: string }>).map((item) => item.id);

describe('tray actions that fail are never silent (built bundle, stand-in electron)', () => {
  let fake: FakeChatGpt | null = null;
  afterEach(async () => {
    await fake?.close();
    fake = null;
  });

  it("Add account… with the callback port held: the page's dialog opens and its sign-in says why", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as AddressInfo).port;
    try {
      const app = driveMain({ CODEX_LAB_CALLBACK_PORT: String(port) });
      await app.next((event) => event.event === 'window');
      const drawn = await app.next((event) => event.event === 'tray-menu');
      app.send({ click: 'add-account' });
      // The page is asked to open its Add account dialog, which runs the sign-in itself.
      await app.next(
        (event) => event.event === 'push' && event['channel'] === 'codex-lab:add-account',
        drawn,
      );
      // What that dialog's Continue sends; its answer is what the dialog shows.
      const asked = app.events.length;
      app.send({
        invoke: 'codex-lab:start-login',
        payload: { name: null, popup: false, method: 'browser' },
      });
      const answer = app.events[await app.next((event) => event.event === 'answer', asked)]!;
      expect(answer['answer']).toMatchObject({ ok: false, code: 'port_in_use' });
      expect((answer['answer'] as { message: string }).message).toContain(String(port));
      // Nothing opened a browser for a sign-in that could not start.
      expect(names(app.events)).not.toContain('open-external');
      expect(await app.quit()).toBe(0);
    } finally {
      holder.close();
    }
  });

  it('a profile switch that fails: a message saying so, and the menu drawn again from state', async () => {
    fake = await startFakeChatGpt();
    fake.addAccount({ email: 'alpha@example.com' });
    const home = join(data, 'home');
    mkdirSync(home, { recursive: true, mode: 0o700 });
    await seedProfiles(fake, home, [{ name: 'alpha', email: 'alpha@example.com' }]);
    const app = driveMain({
      CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
      CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    });
    await app.next((event) => event.event === 'window');
    await app.next((event) => event.event === 'tray-menu' && itemIds(event).includes('use:alpha'));
    // The user opens the menu; meanwhile the profile is removed (here from the settings page).
    app.send({ open: true });
    const removing = app.events.length;
    app.send({ invoke: 'codex-lab:remove-profile', payload: { profile: 'alpha' } });
    await app.next((event) => event.event === 'answer', removing);
    // The app has the state without alpha (the tray is given each state before the pages) …
    await app.next(
      (event) =>
        event.event === 'push' &&
        event['channel'] === 'codex-lab:state-changed' &&
        !(event['profiles'] as string[]).includes('alpha'),
      removing,
    );
    // … but the menu on screen was not replaced while open (that would close it under the
    // pointer). The user clicks alpha in it.
    const clicked = app.events.length;
    expect(names(app.events.slice(removing, clicked))).not.toContain('tray-menu');
    app.send({ click: 'use:alpha' });
    // The menu closed: the drawing that waited is shown.
    const closed = await app.next((event) => event.event === 'tray-menu', clicked);
    expect(itemIds(app.events[closed]!)).not.toContain('use:alpha');
    const shown = await app.next((event) => event.event === 'message-box', clicked);
    expect(app.events[shown]).toMatchObject({ message: 'Codex Lab could not switch to alpha' });
    expect(app.events[shown]!['detail']).toMatch(/alpha/);
    // Electron's menu showed the click: it is drawn again from the state, as it is.
    const redrawn = await app.next((event) => event.event === 'tray-menu', shown);
    expect(itemIds(app.events[redrawn]!)).not.toContain('use:alpha');
    expect(await app.quit()).toBe(0);
  }, 30_000);
});

describe('an app attached to a serve that stops answering (built bundle, stand-in electron)', () => {
  const serves: ServeChild[] = [];
  afterEach(() => stopServes(serves));

  it('says so in the tray, its tooltip and the page, then is live again once it hosts the router', async () => {
    const home = join(data, 'home');
    mkdirSync(home, { recursive: true, mode: 0o700 });
    const serve = await startServe(home, {});
    serves.push(serve);
    const app = driveMain();
    await app.next((event) => event.event === 'window');
    const drawn = await app.next((event) => event.event === 'tray-menu');
    expect(itemIds(app.events[drawn]!)[0]).not.toBe('offline');

    // The stream it follows goes (a frozen serve's silence ends the same way, after 20 s: the
    // rule itself is tested with a fake clock in desktop-host.test.ts).
    const killed = app.events.length;
    serve.child.kill('SIGKILL');
    const pushed = await app.next(
      (event) => event.event === 'push' && event['channel'] === 'codex-lab:offline',
      killed,
    );
    expect(app.events[pushed]!['value']).toBe(
      `The Codex Lab router at ${serve.url} is not answering. Codex Lab keeps trying to reach it, and runs the router itself if that one stops.`,
    );
    const offlineMenu = await app.next(
      (event) => event.event === 'tray-menu' && itemIds(event)[0] === 'offline',
      killed,
    );
    expect(app.events[offlineMenu]!['items']).toContainEqual({
      id: 'use:auto',
      label: 'Auto (best account)',
      checked: true,
      enabled: false,
    });
    await app.next(
      (event) =>
        event.event === 'tooltip' &&
        event['tooltip'] === 'Codex Lab is not answering — showing its last state',
      killed,
    );

    // The app hosts the router now: a new state, and the tray is live again.
    await app.next(
      (event) => event.event === 'tray-menu' && itemIds(event)[0] !== 'offline',
      offlineMenu,
    );
    await app.next(
      (event) => event.event === 'push' && event['channel'] === 'codex-lab:state-changed',
      offlineMenu,
    );
    expect(await app.quit()).toBe(0);
  }, 30_000);
});
