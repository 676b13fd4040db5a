/**
 * The desktop app as a user starts it, through Playwright's `_electron`, wherever an Electron
 * binary is installed (the desktop workflow's macOS, Windows and Linux runners; Linux under
 * xvfb-run): the tray and its menu, an IPC round trip, the router on its port, a sign-in against
 * the fake issuer that adds a profile and redraws the tray, and a quit that stops the router.
 *
 * Where no binary is installed (this project's CI machine: Electron's binary cannot be downloaded
 * there) it prints one plain line and is reported as skipped. It never calls `require('electron')`,
 * which in Electron 45 downloads the binary from the internet: the binary is found only through
 * ELECTRON_OVERRIDE_DIST_PATH or an existing node_modules/electron/dist (scripts/electron-binary.mjs,
 * which `npm start` uses too), and the first test proves, in a child process, that finding it loads no
 * module of the electron package and opens no connection.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { setNextLogin } from '../fakes/fake-issuer.ts';
import { findElectronBinary } from '../../scripts/electron-binary.mjs';
import { buildRenderer } from '../helpers/ui-browser.ts';

const binary = findElectronBinary({
  env: process.env,
  root: process.cwd(),
  platform: process.platform,
});
if (!binary) {
  console.log(
    'skipped: no Electron binary here (ELECTRON_OVERRIDE_DIST_PATH unset, node_modules/electron/dist empty); the desktop smoke test runs in .github/workflows/desktop.yml',
  );
}

/**
 * Runs the binary search in a fresh Node with every module resolution, socket, DNS lookup and
 * child process recorded, and returns what it saw.
 */
function searchInRecordingChild(env: NodeJS.ProcessEnv): {
  found: unknown;
  electronModules: string[];
  connections: string[];
  lookups: string[];
  spawned: string[];
} {
  const helper = pathToFileURL(join(process.cwd(), 'scripts/electron-binary.mjs')).href;
  const script = `
    import { registerHooks, syncBuiltinESMExports } from 'node:module';
    import childProcess from 'node:child_process';
    import dns from 'node:dns';
    import net from 'node:net';
    const resolved = [], connections = [], lookups = [], spawned = [];
    registerHooks({
      resolve(specifier, context, next) {
        const result = next(specifier, context);
        resolved.push(result.url);
        return result;
      },
    });
    const connect = net.Socket.prototype.connect;
    net.Socket.prototype.connect = function (...args) {
      connections.push(JSON.stringify(args[0]));
      return connect.apply(this, args);
    };
    const lookup = dns.lookup;
    dns.lookup = (host, ...rest) => { lookups.push(String(host)); return lookup(host, ...rest); };
    for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync', 'exec', 'execSync', 'fork']) {
      const original = childProcess[name];
      childProcess[name] = (...args) => { spawned.push(String(args[0])); return original(...args); };
    }
    syncBuiltinESMExports();
    const { findElectronBinary } = await import(${JSON.stringify(helper)});
    const found = findElectronBinary({ env: process.env, root: process.cwd(), platform: process.platform });
    const electronModules = resolved.filter((url) => /node_modules\\/(electron|@electron)\\//.test(url));
    console.log(JSON.stringify({ found, electronModules, connections, lookups, spawned }));
  `;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`the search failed:\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as ReturnType<
    typeof searchInRecordingChild
  >;
}

describe('finding the Electron binary', () => {
  it('never reaches the electron package (its download code) and opens no connection', () => {
    const withoutOverride = { ...process.env };
    delete withoutOverride['ELECTRON_OVERRIDE_DIST_PATH'];
    const empty = mkdtempSync(join(tmpdir(), 'codex-lab-no-electron-'));
    try {
      for (const env of [
        withoutOverride,
        { ...withoutOverride, ELECTRON_OVERRIDE_DIST_PATH: empty },
      ]) {
        const seen = searchInRecordingChild(env);
        expect(seen.electronModules).toEqual([]);
        expect(seen.connections).toEqual([]);
        expect(seen.lookups).toEqual([]);
        expect(seen.spawned).toEqual([]);
      }
      // An override folder without the executable is "no binary", not a reason to look elsewhere.
      expect(
        searchInRecordingChild({ ...withoutOverride, ELECTRON_OVERRIDE_DIST_PATH: empty }).found,
      ).toBeNull();
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

/** What main exposes to this test in development builds (see electron/main.ts). */
interface TestView {
  trayItems(): { id?: string; label?: string }[];
  routerOrigin(): string;
}

describe.skipIf(!binary)('desktop app (real Electron)', () => {
  let fake: FakeChatGpt;
  let app: ElectronApplication;
  let window: Page;
  let home: string;
  let routerOrigin: string;

  const trayLabels = () =>
    app.evaluate(() =>
      (globalThis as unknown as { codexLabTestView: TestView }).codexLabTestView
        .trayItems()
        .map((item) => item.label ?? '—'),
    );

  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build-electron.mjs'], { stdio: 'inherit' });
    buildRenderer();
    fake = await startFakeChatGpt({ accounts: [{ email: 'alice@example.com' }] });
    home = mkdtempSync(join(tmpdir(), 'codex-lab-electron-'));
    app = await _electron.launch({
      executablePath: binary!.path,
      // The Linux runners' Electron has no SUID sandbox helper (see docs/desktop.md).
      args: ['.', '--show-settings', ...(process.platform === 'linux' ? ['--no-sandbox'] : [])],
      env: {
        ...process.env,
        CODEX_LAB_HOME: home,
        CODEX_LAB_PORT: '0',
        CODEX_LAB_CALLBACK_PORT: '0',
        CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
        CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
        CODEX_LAB_LOG_LEVEL: 'warn',
      },
    });
    window = await app.firstWindow();
  });

  afterAll(async () => {
    await app?.close().catch(() => undefined);
    await fake?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('shows the tray with its menu', async () => {
    await expect.poll(trayLabels, { timeout: 20_000 }).toContain('Quit Codex Lab');
    const labels = await trayLabels();
    expect(labels).toEqual(
      expect.arrayContaining(['Auto (best account)', 'No accounts yet', 'Add account…']),
    );
    expect(labels).toContain('Preferences');
  });

  it('answers an IPC round trip from the settings page, with no Node in the page', async () => {
    await window.getByRole('heading', { name: 'Codex Lab' }).waitFor();
    const state = await window.evaluate(() =>
      (
        globalThis as unknown as {
          codexLab: { getState(): Promise<{ profiles: unknown[]; router: { running: boolean } }> };
        }
      ).codexLab.getState(),
    );
    expect(state.router.running).toBe(true);
    expect(state.profiles).toEqual([]);
    expect(await window.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe(
      'undefined',
    );
    const preferences = await window.evaluate(() =>
      (
        globalThis as unknown as { codexLabDesktop: { getPreferences(): Promise<unknown> } }
      ).codexLabDesktop.getPreferences(),
    );
    expect(preferences).toMatchObject({ signIn: 'browser' });
  });

  it('runs the router on its port, refusing a request without the token', async () => {
    routerOrigin = await app.evaluate(() =>
      (globalThis as unknown as { codexLabTestView: TestView }).codexLabTestView.routerOrigin(),
    );
    expect(routerOrigin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${routerOrigin}/lab/v1/state`);
    expect(response.status).toBe(401);
  });

  it('signs in against the fake issuer: a profile is added and the tray redraws', async () => {
    setNextLogin(fake, 'alice@example.com');
    // The popup path: the system browser cannot be driven from here.
    const started = await window.evaluate(() =>
      (
        globalThis as unknown as {
          codexLab: { startLogin(input: unknown): Promise<{ ok: boolean }> };
        }
      ).codexLab.startLogin({ name: 'alice', popup: true }),
    );
    expect(started.ok).toBe(true);
    await expect
      .poll(
        () =>
          window.evaluate(() =>
            (
              globalThis as unknown as {
                codexLab: { getState(): Promise<{ profiles: { name: string }[] }> };
              }
            ).codexLab
              .getState()
              .then((state) => state.profiles.map((profile) => profile.name)),
          ),
        { timeout: 30_000 },
      )
      .toEqual(['alice']);
    await expect
      .poll(async () => (await trayLabels()).some((label) => label.startsWith('alice')), {
        timeout: 10_000,
      })
      .toBe(true);
  });

  it('quits from the tray and stops the router', async () => {
    const exited = new Promise((resolve) => app.process().once('exit', resolve));
    await app.evaluate(({ app: electronApp }) => electronApp.quit());
    await exited;
    await expect(fetch(`${routerOrigin}/lab/v1/state`)).rejects.toThrow();
  });
});
