/**
 * The end-to-end harness: the fake ChatGPT, seeded profiles, the real router (`codex-lab serve`
 * as a child process) and the real Codex CLI run through `codex-lab codex`, all on loopback with
 * throw-away homes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import {
  fakeTlsCaFile,
  startFakeChatGpt,
  type FakeChatGpt,
  type RecordedRequest,
} from '../fakes/fake-chatgpt.ts';
import { issueAuthDotJson } from '../fakes/fake-issuer.ts';
import type { FakeAccountInit } from '../fakes/accounts.ts';
import { seedProfiles, type SeedProfile, type SeededProfile } from '../helpers/seed-profiles.ts';

/** Where CI installs each Codex version: `<cache>/codex-cli-<version>` (see `.ci/run`). */
export const codexCacheFolder = join(
  process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'),
  'codex-lab-ci',
);

/** One Codex binary under test and its version. */
export interface CodexUnderTest {
  bin: string;
  version: string;
}

/** The version of the `@openai/codex` package a `node_modules/.bin/codex` belongs to. */
function codexVersionOf(bin: string): string {
  try {
    const manifest = JSON.parse(
      readFileSync(join(dirname(bin), '..', '@openai', 'codex', 'package.json'), 'utf8'),
    ) as { version?: unknown };
    if (typeof manifest.version === 'string') return manifest.version;
  } catch {
    // Not an npm install layout: ask the binary.
  }
  const printed = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return /(\d+\.\d+\.\d+)/.exec(printed)?.[1] ?? 'unknown';
}

/**
 * The Codex binaries the e2e suite runs against, oldest first: `CODEX_LAB_TEST_CODEX_BINS`
 * (colon-separated, what `.ci/run` exports: the pinned and the newest version), else
 * `CODEX_LAB_TEST_CODEX_BIN`, else every `codex-cli-<version>` install in the cache folder.
 * Empty with a reason when none is installed.
 */
export function resolveCodexBins(env: NodeJS.ProcessEnv = process.env): {
  codexes: CodexUnderTest[];
  skipReason?: string;
} {
  const listed =
    env['CODEX_LAB_TEST_CODEX_BINS']?.trim() || env['CODEX_LAB_TEST_CODEX_BIN']?.trim();
  let bins: string[];
  if (listed) {
    bins = listed.split(':').filter((bin) => bin !== '');
  } else {
    const folders = existsSync(codexCacheFolder) ? readdirSync(codexCacheFolder) : [];
    bins = folders
      .filter((folder) => /^codex-cli(-\d+\.\d+\.\d+)?$/.test(folder))
      .map((folder) => join(codexCacheFolder, folder, 'node_modules', '.bin', 'codex'));
  }
  const codexes = new Map<string, CodexUnderTest>();
  for (const bin of bins.filter((candidate) => existsSync(candidate))) {
    const version = codexVersionOf(bin);
    if (!codexes.has(version)) codexes.set(version, { bin, version });
  }
  const sorted = [...codexes.values()].sort((left, right) =>
    left.version.localeCompare(right.version, 'en', { numeric: true }),
  );
  if (sorted.length > 0) return { codexes: sorted };
  return {
    codexes: [],
    skipReason: `the real Codex CLI is not installed (CODEX_LAB_TEST_CODEX_BINS and CODEX_LAB_TEST_CODEX_BIN unset, no ${join(codexCacheFolder, 'codex-cli-<version>')}); run .ci/run or install @openai/codex into such a folder to run the e2e suite`,
  };
}

/**
 * Codex's warning for a key it does not know under `model_providers.*` given with `-c`
 * (`--strict-config` only warns there): the suite fails on it for every key Codex Lab sets.
 */
export const ignoredKeyWarning = /is ignored/;

/** Puts `--strict-config` right after the subcommand (`exec`), as a user checking their set-up would. */
export function withStrictConfig(args: string[]): string[] {
  if (args[0] !== 'exec' || args.includes('--strict-config')) return args;
  return ['exec', '--strict-config', ...args.slice(1)];
}

const repoRoot = resolve(import.meta.dirname, '../..');
/** The `codex-lab` entry point the tests run. */
export const cliEntry = join(repoRoot, 'bin/codex-lab.mjs');

/**
 * Codex settings for the test home: nothing may try a real OpenAI host, so update checks,
 * analytics, feedback and OpenTelemetry export are off (all accepted by 0.169 under
 * `--strict-config`).
 */
export const quietCodexConfig = [
  'check_for_update_on_startup = false',
  '',
  '[analytics]',
  'enabled = false',
  '',
  '[feedback]',
  'enabled = false',
  '',
  '[otel]',
  'exporter = "none"',
  '',
].join('\n');

/** The result of one child process run. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One fully wired world for a test. */
export interface E2eWorld {
  fake: FakeChatGpt;
  root: string;
  labHome: string;
  codexHome: string;
  workdir: string;
  profiles: SeededProfile[];
  /** Where the router listens now (changes with `restartRouter`). */
  routerUrl: string;
  routerPort: number;
  routerToken: string;
  routerOutput: () => string;
  /** Runs `codex-lab codex [--profile P] -- ARGS` and collects its output. */
  codex: (args: string[], options?: { profile?: string }) => Promise<RunResult>;
  /** Starts `codex-lab codex -- ARGS` with piped standard streams (Codex's app-server speaks on them). */
  spawnCodex: (args: string[]) => ChildProcess;
  /**
   * The turns the fake received on `/codex/responses`, in order, over either transport (a
   * WebSocket turn is one `response.create` frame, `transport: 'websocket'`).
   */
  turns: () => RecordedRequest[];
  /** Stops the router and starts a new one over the same home (it remembers nothing in memory). */
  restartRouter: () => Promise<void>;
  /** Writes a ChatGPT login for the fake account `email` into Codex's home; returns its access token. */
  signInCodexHome: (email: string) => Promise<string>;
  close: () => Promise<void>;
}

function baseEnv(world: { root: string; labHome: string; fake: FakeChatGpt }): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'],
    HOME: join(world.root, 'home'),
    CODEX_LAB_HOME: world.labHome,
    CODEX_LAB_CHATGPT_BASE_URL: world.fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: world.fake.issuerUrl,
    CODEX_LAB_CALLBACK_PORT: '0',
    // Keep every child off the network except loopback, whatever the machine's proxy settings.
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  };
}

function runChild(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  timeoutMs = 120_000,
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

async function startRouter(
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [cliEntry, 'serve', '--port', '0'], {
    env,
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolvePromise, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`router did not start in 30 s:\n${output}`)),
      30_000,
    );
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolvePromise(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`router exited with ${code} before listening:\n${output}`));
    });
  });
  return { child, url, output: () => output };
}

/** Starts the fake, seeds `profiles`, starts the router and prepares a Codex home. */
export async function startWorld(options: {
  codexBin: string;
  accounts: FakeAccountInit[];
  profiles: SeedProfile[];
  /** Extra settings for the router and Codex (`CODEX_LAB_*`). */
  env?: Record<string, string>;
  /** Runs on the fake before the router starts (e.g. to enable its WebSocket side). */
  prepareFake?: (fake: FakeChatGpt) => void;
  /**
   * The fake serves HTTPS and WSS, as chatgpt.com does; the router (and Codex) trust its test CA
   * through `NODE_EXTRA_CA_CERTS` and `CODEX_CA_CERTIFICATE`.
   */
  tls?: boolean;
}): Promise<E2eWorld> {
  const fake = await startFakeChatGpt({ accounts: options.accounts, tls: options.tls ?? false });
  options.prepareFake?.(fake);
  const root = await mkdtemp(join(tmpdir(), 'codex-lab-e2e-'));
  const labHome = join(root, 'lab');
  const codexHome = join(root, 'codex-home');
  const workdir = join(root, 'work');
  for (const folder of [labHome, codexHome, workdir, join(root, 'home')])
    await mkdir(folder, { recursive: true });
  await writeFile(join(codexHome, 'config.toml'), quietCodexConfig);
  const profiles = await seedProfiles(fake, labHome, options.profiles);
  const env = {
    ...baseEnv({ root, labHome, fake }),
    ...(options.tls
      ? { NODE_EXTRA_CA_CERTS: fakeTlsCaFile, CODEX_CA_CERTIFICATE: fakeTlsCaFile }
      : {}),
    ...options.env,
  };
  let router: Awaited<ReturnType<typeof startRouter>> | undefined;
  try {
    router = await startRouter(env, workdir);
  } catch (error) {
    await fake.close();
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  let started = router;
  const stopRouter = async (): Promise<void> => {
    const child = started.child;
    child.kill('SIGTERM');
    await new Promise<void>((resolvePromise) => {
      if (child.exitCode !== null) return resolvePromise();
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolvePromise();
      }, 5_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolvePromise();
      });
    });
  };
  const routerToken = (await readFile(join(labHome, 'state', 'router-token'), 'utf8')).trim();
  // What `codex-lab codex` runs with: the router of this world and the Codex under test.
  const codexEnv = (): NodeJS.ProcessEnv => ({
    ...env,
    CODEX_LAB_PORT: String(world.routerPort),
    CODEX_LAB_CODEX_BIN: options.codexBin,
    CODEX_HOME: codexHome,
  });
  const world: E2eWorld = {
    fake,
    root,
    labHome,
    codexHome,
    workdir,
    profiles,
    routerUrl: started.url,
    routerPort: Number(new URL(started.url).port),
    routerToken,
    routerOutput: () => started.output(),
    codex: (args, runOptions = {}) =>
      runChild(
        process.execPath,
        [
          cliEntry,
          'codex',
          ...(runOptions.profile ? ['--profile', runOptions.profile] : []),
          '--',
          ...withStrictConfig(args),
        ],
        codexEnv(),
        workdir,
      ),
    spawnCodex: (args) =>
      spawn(process.execPath, [cliEntry, 'codex', '--', ...args], {
        env: codexEnv(),
        cwd: workdir,
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    turns: () =>
      fake.requests.filter((request) => request.path.startsWith('/backend-api/codex/responses')),
    async restartRouter() {
      await stopRouter();
      started = await startRouter(env, workdir);
      world.routerUrl = started.url;
      world.routerPort = Number(new URL(started.url).port);
    },
    async signInCodexHome(email) {
      const auth = issueAuthDotJson(fake, email) as { tokens: { access_token: string } };
      await writeFile(join(codexHome, 'auth.json'), JSON.stringify(auth), { mode: 0o600 });
      return auth.tokens.access_token;
    },
    async close() {
      await stopRouter();
      await fake.close();
      await rm(root, { recursive: true, force: true });
    },
  };
  return world;
}

/** The bearer of a recorded request. */
export function bearerOf(request: RecordedRequest): string | undefined {
  const header = request.headers['authorization'];
  return typeof header === 'string' ? /^Bearer\s+(\S+)/i.exec(header)?.[1] : undefined;
}

/** A header of a recorded request as one string. */
export function headerOf(request: RecordedRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Native Codex signed in with ChatGPT and talking to the fake directly (no router). */
export interface NativeCodexWorld {
  fake: FakeChatGpt;
  root: string;
  codexHome: string;
  workdir: string;
  /** Runs the Codex binary with ARGS in this world and collects its output. */
  codex: (args: string[]) => Promise<RunResult>;
  /** The turns the fake received, as `E2eWorld.turns` (prewarm frames included). */
  turns: () => RecordedRequest[];
  close: () => Promise<void>;
}

/**
 * Native Codex against the fake, for comparison with the router: the fake serves HTTPS and WSS
 * with the test certificate (Codex signed in with ChatGPT refuses a workspace backend that is
 * not HTTPS) and Codex trusts the test CA through `CODEX_CA_CERTIFICATE`. Codex uses its own
 * OpenAI provider settings (named `OpenAI`, ChatGPT auth, WebSocket on) with the fake's URLs, so
 * it sends what it sends OpenAI: zstd bodies, the WebSocket with a prewarm, incremental frames.
 */
export async function startNativeCodex(options: {
  codexBin: string;
  accounts: FakeAccountInit[];
  /** The account Codex is signed in as. */
  email: string;
  /** `false` for Codex's HTTP transport (the provider's `supports_websockets`). */
  webSocket?: boolean;
}): Promise<NativeCodexWorld> {
  const fake = await startFakeChatGpt({ accounts: options.accounts, tls: true });
  const root = await mkdtemp(join(tmpdir(), 'codex-lab-native-'));
  const codexHome = join(root, 'codex-home');
  const workdir = join(root, 'work');
  for (const folder of [codexHome, workdir, join(root, 'home')]) {
    await mkdir(folder, { recursive: true });
  }
  // Top-level keys before the tables of the quiet settings.
  await writeFile(
    join(codexHome, 'config.toml'),
    [
      'model_provider = "native"',
      `chatgpt_base_url = "${fake.backendUrl}/"`,
      quietCodexConfig,
      '[model_providers.native]',
      'name = "OpenAI"',
      `base_url = "${fake.backendUrl}/codex"`,
      'wire_api = "responses"',
      'requires_openai_auth = true',
      `supports_websockets = ${options.webSocket === false ? 'false' : 'true'}`,
      '',
    ].join('\n'),
  );
  await writeFile(
    join(codexHome, 'auth.json'),
    JSON.stringify(issueAuthDotJson(fake, options.email)),
    { mode: 0o600 },
  );
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: join(root, 'home'),
    CODEX_HOME: codexHome,
    CODEX_CA_CERTIFICATE: fakeTlsCaFile,
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  };
  return {
    fake,
    root,
    codexHome,
    workdir,
    codex: (args) => runChild(options.codexBin, withStrictConfig(args), env, workdir),
    turns: () =>
      fake.requests.filter((request) => request.path.startsWith('/backend-api/codex/responses')),
    async close() {
      await fake.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/**
 * The account of a tool loop: its model first asks for a shell command that prints
 * `<marker>-42` (computed by the shell, so only a command that really ran can print it), then
 * answers "Done." and says whether the command's output came back.
 */
export function toolLoopAccount(email: string, marker: string): FakeAccountInit {
  return {
    email,
    reply: 'Done.',
    reasoning: true,
    toolCall: {
      name: 'exec_command',
      arguments: JSON.stringify({ cmd: `echo ${marker}-$((6 * 7))` }),
      expect: `${marker}-42`,
    },
  };
}

/** `codex exec` that runs the model's command itself: no approval prompt, no sandbox. */
export const execRunningTools = [
  'exec',
  '--skip-git-repo-check',
  '--dangerously-bypass-approvals-and-sandbox',
];
