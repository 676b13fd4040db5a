/** Shared set-up for the auth tests: temp homes, a recording logger, the redirect-following "browser". */
import type { FailureFix } from '../../core/view-types.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isLabError } from '../../core/errors.ts';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import type { Logger } from '../../core/ports.ts';
import type { FakeAccountInit } from '../fakes/accounts.ts';
import { expect } from 'vitest';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { runCodexLab } from './cli.ts';

/** A temporary `CODEX_LAB_HOME`; remove it in teardown. */
export interface TempHome {
  home: string;
  paths: LabPaths;
  remove(): Promise<void>;
}

/** Creates a temporary home folder. */
export async function createTempHome(): Promise<TempHome> {
  const home = await mkdtemp(join(tmpdir(), 'codex-lab-auth-'));
  return { home, paths: labPaths(home), remove: () => rm(home, { recursive: true, force: true }) };
}

/** A logger that keeps every call, serialized, so tests can search it for secrets. */
export function createRecordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const make = (bindings: object): Logger => {
    const record = (level: string) => (fields: object, message?: string) => {
      lines.push(JSON.stringify({ level, ...bindings, ...serialize(fields), message }));
    };
    return {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return Object.assign(make({}), { lines });
}

function serialize(fields: object): object {
  // Errors keep their message and cause chain, which is where a leaked token would hide.
  return JSON.parse(
    JSON.stringify(fields, (_key, value: unknown) =>
      value instanceof Error
        ? {
            name: value.name,
            message: value.message,
            stack: value.stack,
            cause: String(value.cause),
          }
        : value,
    ),
  ) as object;
}

/** What the "browser" saw at the end of the redirects. */
export interface BrowserVisit {
  status: number;
  url: string;
  text: string;
}

/** Follows an authorize URL like a browser: issuer → callback → success page. */
export async function visit(url: string): Promise<BrowserVisit> {
  const response = await fetch(url, { redirect: 'follow' });
  return { status: response.status, url: response.url, text: await response.text() };
}

/** The repository root. */
export const repositoryRoot = resolve(import.meta.dirname, '../..');

/** A running `codex-lab` child process with its collected output. */
export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout line matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the first stderr line matching `pattern`. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code. */
  exited: Promise<number>;
}

/** Spawns `node bin/codex-lab.mjs ARGS` with `env` added to the environment. */
export function spawnCli(args: string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, [join(repositoryRoot, 'bin/codex-lab.mjs'), ...args], {
    cwd: repositoryRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    for (const waiter of waiters.splice(0)) waiter();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
    for (const waiter of waiters.splice(0)) waiter();
  });
  const exited = new Promise<number>((resolveExit) =>
    child.on('close', (code) => resolveExit(code ?? -1)),
  );
  const waitFor = (read: () => string, pattern: RegExp, timeoutMs: number) =>
    new Promise<string>((resolveLine, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no line matching ${pattern} in:\n${out}\n${err}`)),
        timeoutMs,
      );
      const check = () => {
        const line = read()
          .split('\n')
          .find((candidate) => pattern.test(candidate));
        if (line !== undefined) {
          clearTimeout(timer);
          resolveLine(line);
        } else if (child.exitCode !== null) {
          clearTimeout(timer);
          reject(
            new Error(
              `process exited (${child.exitCode}) without a line matching ${pattern}:\n${out}\n${err}`,
            ),
          );
        } else {
          waiters.push(check);
        }
      };
      child.once('close', check);
      check();
    });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForLine: (pattern, timeoutMs = 20_000) => waitFor(() => out, pattern, timeoutMs),
    waitForStderr: (pattern, timeoutMs = 20_000) => waitFor(() => err, pattern, timeoutMs),
  };
}

/** Asserts no secret occurs in any of `outputs`; returns the offending secrets for a clear failure. */
export function leakedSecrets(secrets: string[], outputs: string[]): string[] {
  const text = outputs.join('\n');
  return secrets.filter((secret) => secret.length >= 12 && text.includes(secret));
}

/** Kills every child in `processes` that is still running and empties the list (teardown). */
export function killRunning(processes: CliProcess[], signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const running of processes.splice(0))
    if (running.child.exitCode === null) running.child.kill(signal);
}

/** The code and message of the `LabError` `promise` rejects with; anything else fails the test. */
export async function rejection(
  promise: Promise<unknown>,
): Promise<{ code: string; message: string; fix?: FailureFix }> {
  try {
    await promise;
  } catch (error) {
    if (isLabError(error)) {
      return { code: error.code, message: error.message, ...(error.fix ? { fix: error.fix } : {}) };
    }
    throw error;
  }
  throw new Error('expected a rejection');
}

/** Three fake accounts on three plans, for the sign-in tests; `carolAccountId` names carol's. */
export function threeAccounts(carolAccountId = 'acct-carol'): FakeAccountInit[] {
  return [
    { email: 'alice@example.com', plan: 'plus', accountId: 'acct-alice' },
    { email: 'bob@example.com', plan: 'pro', accountId: 'acct-bob' },
    { email: 'carol@example.com', plan: 'team', accountId: carolAccountId },
  ];
}

/** A fake ChatGPT and a temporary home for one sign-in test; `close` ends both (teardown). */
export interface SignInFixture {
  fake: FakeChatGpt;
  home: TempHome;
  close(): Promise<void>;
}

/** Starts a fake ChatGPT with `accounts` (default `threeAccounts()`) and creates a temporary home. */
export async function startSignInFixture(
  accounts: FakeAccountInit[] = threeAccounts(),
): Promise<SignInFixture> {
  const fake = await startFakeChatGpt({ accounts });
  const home = await createTempHome();
  return {
    fake,
    home,
    close: async () => {
      await fake.close();
      await home.remove();
    },
  };
}

/** The line `codex-lab login --no-browser` prints: the authorize URL to open. */
export const authorizeLine = /^http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?/;

/**
 * The environment of a `codex-lab login` child: its home, the fake issuer and backend (a sign-in
 * reads the new profile's quota right away), any callback port, debug logs.
 */
export function loginEnv(home: TempHome, fake: FakeChatGpt): Record<string, string> {
  return {
    CODEX_LAB_HOME: home.home,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_CALLBACK_PORT: '0',
    CODEX_LAB_LOG_LEVEL: 'debug',
  };
}

/**
 * The CLI as the live-state tests drive it on one home: `cli` runs a command that must reach the
 * running router (never "working on the files directly") and succeed; `login` runs `codex-lab
 * login --no-browser ARGS` and follows the printed URL as a browser would. Each resolves with the
 * time it started (`Date.now()`), to measure how soon the change shows. Spawned logins join
 * `processes`, for the test's teardown to kill.
 */
export function liveCli(options: {
  home: () => string;
  env: () => Record<string, string>;
  processes: CliProcess[];
}): { cli(args: string[]): Promise<number>; login(args: string[]): Promise<number> } {
  return {
    async cli(args) {
      const started = Date.now();
      const run = await runCodexLab(args, { home: options.home(), env: options.env() });
      expect(run.stderr).not.toMatch(/working on the files directly/);
      expect(run.code, run.stderr).toBe(0);
      return started;
    },
    async login(args) {
      const started = Date.now();
      const running = spawnCli(['login', '--no-browser', ...args], options.env());
      options.processes.push(running);
      await visit(await running.waitForLine(authorizeLine));
      expect(await running.exited, running.stderr()).toBe(0);
      return started;
    },
  };
}
