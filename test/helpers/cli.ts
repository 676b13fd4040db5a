/**
 * Runs the real `codex-lab` command (`node bin/codex-lab.mjs`) in a child process with its own
 * `CODEX_LAB_HOME`, and captures stdout, stderr and the exit code. Shared by every CLI test.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository root (this file is test/helpers/cli.ts). */
export const repoRoot = resolve(import.meta.dirname, '..', '..');

/** The command's entry point. */
export const cliEntry = join(repoRoot, 'bin', 'codex-lab.mjs');

/** What one run of the command produced. */
export interface CliRun {
  stdout: string;
  stderr: string;
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Options for `runCodexLab`. */
export interface CliRunOptions {
  /** `CODEX_LAB_HOME` for the child. */
  home: string;
  /** Extra environment (undefined removes a variable). */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Text written to stdin (stdin is closed either way). */
  input?: string;
  /** Kill the child after this long (default 30 s). */
  timeoutMs?: number;
}

/**
 * Runs `codex-lab ARGS…`. The child's environment is the parent's minus every `CODEX_LAB_*`
 * variable (so a developer's own settings never leak in), plus `CODEX_LAB_HOME` and `env`.
 */
export function runCodexLab(args: string[], options: CliRunOptions): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliEntry, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: childEnvironment(options),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ stdout, stderr, code, signal });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** The child's environment: the parent's minus every `CODEX_LAB_*`, plus the home and `env`. */
function childEnvironment(options: CliRunOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('CODEX_LAB_')) env[key] = value;
  }
  env['CODEX_LAB_HOME'] = options.home;
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/**
 * Runs `codex-lab ARGS…` with stdout and stderr on one file, as `2>&1` or a terminal shows them:
 * the text in the order the command wrote it, and the exit code.
 */
export async function runCodexLabMerged(
  args: string[],
  options: CliRunOptions,
): Promise<{ output: string; code: number | null }> {
  const folder = await mkdtemp(join(tmpdir(), 'codex-lab-output-'));
  const file = join(folder, 'output');
  const handle = await open(file, 'w');
  try {
    const code = await new Promise<number | null>((resolvePromise, reject) => {
      const child = spawn(process.execPath, [cliEntry, ...args], {
        cwd: options.cwd ?? repoRoot,
        env: childEnvironment(options),
        stdio: ['ignore', handle.fd, handle.fd],
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on('close', (exitCode) => {
        clearTimeout(timer);
        resolvePromise(exitCode);
      });
    });
    return { output: await readFile(file, 'utf8'), code };
  } finally {
    await handle.close();
    await rm(folder, { recursive: true, force: true });
  }
}

/**
 * A fresh, empty temporary folder to use as `CODEX_LAB_HOME`; the caller removes it (`afterEach`,
 * `afterAll`). Inside a single test, `tempFolder` (temp-folder.ts) removes it by itself.
 */
export function makeTempHome(prefix = 'codex-lab-home-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A loopback port nothing listens on right now (for a router a test lets start). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The lines of a command's stderr said to the user (`codex-lab: …`), without the debug and info
 * lines a test's `CODEX_LAB_LOG_LEVEL` asked for (`codex-lab: debug: …`, `codex-lab: info: …`).
 */
export function saidToUser(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('codex-lab:') && !/^codex-lab: (debug|info): /.test(line));
}
