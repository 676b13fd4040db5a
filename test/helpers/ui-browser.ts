/**
 * Shared set-up for the dashboard browser tests: Debian's Chromium through playwright-core, the
 * real `codex-lab serve` on port 0 against the fake ChatGPT, and the dashboard URL with the token
 * in its fragment.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import type { LabState } from '../../core/service/contract.ts';
import { turnThroughRouter } from './lab-service.ts';
import { tempFolder } from './temp-folder.ts';

/** Debian's Chromium. */
export const chromiumPath = '/usr/bin/chromium';

/** Launches headless Chromium with the flags this machine needs. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Builds dist/renderer so serve has a current page to show. */
export function buildRenderer(): void {
  execFileSync(
    process.execPath,
    [
      'node_modules/vite/bin/vite.js',
      'build',
      '--config',
      'renderer/vite.config.ts',
      '--logLevel',
      'error',
    ],
    {
      stdio: 'inherit',
      // Vitest sets NODE_ENV=test, which would make Vite bundle React's development build (about
      // twice the size, and not what users run): build the production page, as npm run build does.
      env: { ...process.env, NODE_ENV: 'production' },
    },
  );
}

/** A running `codex-lab serve`. */
export interface ServeProcess {
  url: string;
  token: string;
  home: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * One Codex turn of `session` through the serve's router, read to its end (as Codex reads it);
 * `headers` are sent besides its `session_id` (e.g. the turn metadata naming a repository).
 */
export function routerTurn(
  serve: ServeProcess,
  session: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return turnThroughRouter(serve.url, serve.token, session, { session_id: session, ...headers });
}

/** Spawns `codex-lab serve --port 0` with a fresh home pointed at the fake. */
export async function startServe(
  env: Record<string, string>,
  /** Writes files into the fresh home before serve starts (seeded profiles, saved state). */
  prepare?: (home: string) => Promise<void>,
  /** More `serve` options (e.g. `--print-dashboard-url`). */
  extraArgs: string[] = [],
): Promise<ServeProcess> {
  const home = mkdtempSync(join(tmpdir(), 'codex-lab-ui-'));
  await prepare?.(home);
  // `codex-lab` on PATH, as after the README's set-up: the page's config.toml block then names
  // the command, not this machine's paths (which would end up in the docs' screenshots).
  const bin = join(home, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, 'codex-lab'),
    `#!/bin/sh\nexec "${process.execPath}" "${join(process.cwd(), 'bin', 'codex-lab.mjs')}" "$@"\n`,
    { mode: 0o755 },
  );
  const fullEnv = {
    ...process.env,
    PATH: `${bin}${delimiter}${process.env['PATH'] ?? ''}`,
    CODEX_LAB_HOME: home,
    CODEX_LAB_CALLBACK_PORT: '0',
    CODEX_LAB_LOG_LEVEL: 'warn',
    ...env,
  };
  // CODEX_LAB_UI_TEST_SOURCE=1 runs the TypeScript sources instead of the bundle (for debugging a
  // broken bundle); the default is exactly what users run.
  const command = process.env['CODEX_LAB_UI_TEST_SOURCE']
    ? [
        '-e',
        `import('./core/cli/main.ts').then(async (m) => { process.exitCode = await m.runCli(${JSON.stringify(['serve', '--port', '0', ...extraArgs])}); })`,
      ]
    : ['bin/codex-lab.mjs', 'serve', '--port', '0', ...extraArgs];
  const child = spawn(process.execPath, command, {
    env: fullEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let url: string;
  let token: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 30_000);
      const check = () => {
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout?.on('data', check);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`serve exited with ${code}:\n${output}`));
      });
    });
    token = execFileSync(process.execPath, ['bin/codex-lab.mjs', 'token'], { env: fullEnv })
      .toString()
      .trim();
  } catch (error) {
    // No ServeProcess to stop: end the child and remove the home here.
    child.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    token,
    home,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/**
 * Where a test's screenshots go: docs/screenshots/ with CODEX_LAB_UPDATE_SCREENSHOTS=1, to be
 * kept and committed; else a temporary folder removed when the test ends (an ordinary run only
 * proves the screenshots can be taken), so a run neither rewrites committed files nor leaves
 * folders in the OS temp folder. Call it inside the test.
 */
export function screenshotFolder(): string {
  if (process.env['CODEX_LAB_UPDATE_SCREENSHOTS'] === '1') {
    mkdirSync('docs/screenshots', { recursive: true });
    return 'docs/screenshots';
  }
  return tempFolder('codex-lab-screenshots-');
}

/** True when Chromium is installed here. */
export const hasChromium = existsSync(chromiumPath);

/**
 * Makes every page of `context` render `state` as it is: a stand-in for the Electron preload's
 * `window.codexLab` answers the state and refuses every operation, so a test can show states
 * the fake cannot reach quickly (a limited profile with its weekly quota used up, say). The page
 * itself still comes from a real `serve`.
 */
export async function showLabState(context: BrowserContext, state: LabState): Promise<void> {
  await context.addInitScript((given: LabState) => {
    const refuse = async () => ({
      ok: false,
      code: 'invalid_input',
      message: 'This page shows a fixed state.',
    });
    const operations = [
      'setActive',
      'renameProfile',
      'removeProfile',
      'startLogin',
      'cancelLogin',
      'completeLogin',
      'setPriming',
      'primeNow',
      'pinSession',
      'pinRepo',
      'refreshUsage',
    ];
    Object.assign(window, {
      codexLab: {
        getState: async () => given,
        subscribe: () => () => undefined,
        ...Object.fromEntries(operations.map((name) => [name, refuse])),
      },
    });
  }, state);
}

/**
 * Makes every page of `context` start with the accounts shown as `view` (the page's remembered
 * choice, `renderer/stores/accounts-view.ts`): tests about the cards show them with four
 * accounts or more, where the page's own choice would be the list.
 */
export async function showAccountsAs(
  context: BrowserContext,
  view: 'auto' | 'list' | 'cards',
): Promise<void> {
  await context.addInitScript((given: string) => {
    window.localStorage.setItem('codex-lab.accounts-view', given);
  }, view);
}
