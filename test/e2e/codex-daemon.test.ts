/**
 * The real Codex with its shared background server ("daemon", `codex app-server daemon`), which
 * plain `codex` talks to once `codex-lab codex-config --write` has set Codex up: one long-lived
 * process serves every shell's sessions, built from the environment of the shell that started it,
 * and it keeps the router token it fetched. Sessions are driven as the TUI drives them, over the
 * daemon's control socket (JSON-RPC over a WebSocket on a Unix socket).
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { seedProfiles, type SeededProfile } from '../helpers/seed-profiles.ts';
import { routerUnavailableToken } from '../../core/cli/commands/token.ts';
import { tokenRefreshIntervalMs } from '../../core/proxy/codex-config.ts';
import {
  bearerOf,
  cliEntry,
  quietCodexConfig,
  resolveCodexBins,
  type RunResult,
} from './harness.ts';

const { codexes, skipReason } = resolveCodexBins();
if (skipReason) console.warn(`[e2e] skipping the Codex daemon suite: ${skipReason}`);

interface World {
  bin: string;
  fake: FakeChatGpt;
  root: string;
  labHome: string;
  codexHome: string;
  workdir: string;
  port: number;
  env: NodeJS.ProcessEnv;
  alice: SeededProfile;
  bob: SeededProfile;
  /** Where the token command's runs are counted, one line each. */
  tokenRuns: string;
  /** The daemon's control socket, once `startDaemon` has run. */
  socket?: string;
}

const worlds: World[] = [];
const strangers: Server[] = [];

/** A port that was free a moment ago (the block names its port up front). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs a command to its end (at most 60 s) and collects its output. */
function run(
  command: string,
  args: string[],
  current: World,
  env: NodeJS.ProcessEnv = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...current.env, ...env },
      cwd: current.workdir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function codexLab(current: World, args: string[], env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return run(process.execPath, [cliEntry, ...args], current, env);
}

/** A fake with alice and bob, a home with both, Codex set up with `codex-config --write`. */
async function world(bin: string): Promise<World> {
  const fake = await startFakeChatGpt({
    accounts: [{ email: 'alice@example.com' }, { email: 'bob@example.com' }],
  });
  const root = await mkdtemp(join(tmpdir(), 'codex-lab-daemon-'));
  const labHome = join(root, 'lab');
  const codexHome = join(root, 'codex-home');
  const workdir = join(root, 'work');
  const shims = join(root, 'bin');
  for (const folder of [labHome, codexHome, workdir, shims, join(root, 'home')]) {
    await mkdir(folder, { recursive: true });
  }
  const [alice, bob] = await seedProfiles(fake, labHome, [
    { name: 'alice', email: 'alice@example.com' },
    { name: 'bob', email: 'bob@example.com' },
  ]);
  // `codex-lab` on PATH, as after the README's set-up; each run of it is counted.
  const tokenRuns = join(root, 'token-runs');
  await writeFile(
    join(shims, 'codex-lab'),
    `#!/bin/sh\necho "$*" >> "${tokenRuns}"\nexec "${process.execPath}" "${cliEntry}" "$@"\n`,
  );
  await chmod(join(shims, 'codex-lab'), 0o755);
  await writeFile(tokenRuns, '');
  await writeFile(join(codexHome, 'config.toml'), quietCodexConfig);
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: `${shims}:${process.env['PATH'] ?? ''}`,
    HOME: join(root, 'home'),
    CODEX_HOME: codexHome,
    CODEX_LAB_HOME: labHome,
    CODEX_LAB_PORT: String(port),
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  };
  const created: World = {
    bin,
    fake,
    root,
    labHome,
    codexHome,
    workdir,
    port,
    env,
    alice: alice!,
    bob: bob!,
    tokenRuns,
  };
  worlds.push(created);
  const written = await codexLab(created, ['codex-config', '--write']);
  expect(written.code, written.stderr).toBe(0);
  // The router's own choice is alice, whatever order it weighs them in.
  const used = await codexLab(created, ['use', 'alice']);
  expect(used.code, used.stderr).toBe(0);
  return created;
}

/** Starts Codex's background server from a shell with `env`; remembers its control socket. */
async function startDaemon(current: World, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const started = await run(current.bin, ['app-server', 'daemon', 'start'], current, env);
  expect(started.code, started.stderr).toBe(0);
  const status = JSON.parse(started.stdout.trim().split('\n').at(-1)!) as { socketPath: string };
  current.socket = status.socketPath;
}

/**
 * Ends the updater `daemon start` leaves beside the server (`daemon stop` does not end it, and it
 * outlives its folder): by the pid it recorded, checked to be that home's process.
 */
async function stopUpdater(current: World): Promise<void> {
  const record = await readFile(
    join(current.codexHome, 'app-server-daemon', 'daemon-updater.pid'),
    'utf8',
  ).catch(() => null);
  const pid = record === null ? undefined : (JSON.parse(record) as { pid?: unknown }).pid;
  if (typeof pid !== 'number') return;
  const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (command.includes(current.codexHome)) process.kill(pid, 'SIGTERM');
}

afterEach(async () => {
  for (const stranger of strangers.splice(0)) {
    await new Promise((resolve) => stranger.close(resolve));
  }
  for (const current of worlds.splice(0)) {
    await run(current.bin, ['app-server', 'daemon', 'stop'], current).catch(() => undefined);
    await stopUpdater(current);
    await codexLab(current, ['stop']).catch(() => undefined);
    await current.fake.close();
    await rm(current.root, { recursive: true, force: true });
  }
});

/** What one session's turn ended with: the agent's words, or the error Codex reported. */
interface TurnOutcome {
  status: string;
  text: string;
  error: string;
}

/**
 * One new session on the daemon, as the TUI opens it: a thread, one turn saying `text`, the turn's
 * end (or `timeoutMs`). Returns the thread id and how the turn ended.
 */
async function session(
  current: World,
  text: string,
  timeoutMs = 45_000,
): Promise<TurnOutcome & { threadId: string }> {
  const socket = new WebSocket(`ws+unix://${current.socket!}:/`);
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  let nextId = 0;
  const waiting = new Map<number, (message: Record<string, unknown>) => void>();
  let outcome: TurnOutcome = { status: 'timeout', text: '', error: '' };
  let ended: () => void = () => undefined;
  const turnEnded = new Promise<void>((resolve) => (ended = resolve));
  socket.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString('utf8')) as {
      id?: number;
      method?: string;
      params?: Record<string, unknown>;
    };
    if (message.method === undefined && typeof message.id === 'number') {
      waiting.get(message.id)?.(message as Record<string, unknown>);
      return;
    }
    const params = message.params ?? {};
    const item = params['item'] as { type?: string; text?: string } | undefined;
    if (message.method === 'item/completed' && item?.type === 'agentMessage') {
      outcome.text += item.text ?? '';
    }
    if (message.method === 'error') outcome.error += JSON.stringify(params['error'] ?? params);
    if (message.method === 'turn/completed') {
      const turn = params['turn'] as { status?: string; error?: unknown };
      outcome = {
        ...outcome,
        status: String(turn.status),
        error: outcome.error + (turn.error ? JSON.stringify(turn.error) : ''),
      };
      ended();
    }
  });
  const request = (method: string, params: unknown): Promise<Record<string, unknown>> =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  try {
    const init = await request('initialize', {
      clientInfo: { name: 'codex-lab-test', title: 'Codex Lab test', version: '1.0.0' },
    });
    expect(init['error']).toBeUndefined();
    socket.send(JSON.stringify({ method: 'initialized' }));
    const thread = await request('thread/start', { cwd: current.workdir });
    const threadId = (thread['result'] as { thread: { id: string } }).thread.id;
    const turn = await request('turn/start', {
      threadId,
      input: [{ type: 'text', text, text_elements: [] }],
    });
    expect(turn['error'], JSON.stringify(turn)).toBeUndefined();
    await Promise.race([turnEnded, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
    return { ...outcome, threadId };
  } finally {
    socket.close();
  }
}

/** The turns the fake received. */
function turns(current: World): ReturnType<FakeChatGpt['requests']['filter']> {
  return current.fake.requests.filter((request) => request.path === '/backend-api/codex/responses');
}

async function tokenRunCount(current: World): Promise<number> {
  return (await readFile(current.tokenRuns, 'utf8')).split('\n').filter((line) => line !== '')
    .length;
}

/** Something else on the router's port: answers 404 and records every Authorization it is sent. */
async function stranger(port: number): Promise<string[]> {
  const seen: string[] = [];
  const server = createHttpServer((request, response) => {
    seen.push(String(request.headers['authorization'] ?? ''));
    request.resume();
    response.writeHead(404).end('not a router');
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  strangers.push(server);
  return seen;
}

/** A word for `sh -c`, quoted. */
function shellWord(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Terminal text with the escape sequences and all white space taken out. */
function screenText(raw: string): string {
  return raw
    .replace(
      // eslint-disable-next-line no-control-regex
      /\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78DEHMcNO]/g,
      '',
    )
    .replace(/\s+/g, '');
}

/**
 * Opens Codex's TUI through `codex-lab codex` in a terminal (`script` gives it one), waits for its
 * composer, opens each of its startup warnings (F2, then Esc dismisses it) and quits; returns
 * everything it drew, as `screenText`.
 */
async function tuiWarnings(current: World): Promise<string> {
  const command = [process.execPath, cliEntry, 'codex'].map(shellWord).join(' ');
  const child = spawn('script', ['-qfec', `stty cols 120 rows 40; exec ${command}`, '/dev/null'], {
    env: { ...current.env, CODEX_LAB_CODEX_BIN: current.bin, TERM: 'xterm-256color' },
    cwd: current.workdir,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let raw = '';
  const closed = new Promise((resolve) => child.once('close', resolve));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    raw += chunk;
    // The TUI asks where the cursor is and what the terminal is before it draws.
    if (chunk.includes('\x1b[6n')) child.stdin.write('\x1b[1;1R');
    if (chunk.includes('\x1b[c')) child.stdin.write('\x1b[?1;2c');
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (raw += chunk));
  const pause = (ms: number): Promise<unknown> => new Promise((resolve) => setTimeout(resolve, ms));
  try {
    const deadline = Date.now() + 30_000;
    while (!screenText(raw).includes('AskCodex') && Date.now() < deadline) await pause(100);
    expect(screenText(raw), raw).toContain('AskCodex');
    for (let shown = 0; shown < 3; shown += 1) {
      child.stdin.write('\x1b[12~');
      await pause(1_000);
      child.stdin.write('\x1b');
      await pause(500);
    }
    child.stdin.write('\x03');
    await pause(300);
    child.stdin.write('\x03');
    await Promise.race([closed, pause(10_000)]);
  } finally {
    child.kill('SIGKILL');
  }
  return screenText(raw);
}

describe.skipIf(codexes.length === 0).each(codexes)(
  'codex-lab codex and Codex $version’s shared background server',
  ({ bin }) => {
    it('opens the TUI in its own process, without Codex’s warning that the overrides need it', async () => {
      const current = await world(bin);
      const drawn = await tuiWarnings(current);
      expect(drawn).not.toContain('Runningwithoutthesharedbackgroundserver');
      expect(drawn).not.toContain('requiresembeddedmode');
    });

    it('hands queue to the running server as Codex would, and the message is queued', async () => {
      const current = await world(bin);
      await startDaemon(current);
      const first = await session(current, 'say hi');
      expect(first.status, first.error).toBe('completed');
      const queued = await codexLab(
        current,
        ['codex', '--', 'queue', '--thread', first.threadId, '--message', 'and then?'],
        { CODEX_LAB_CODEX_BIN: bin },
      );
      expect(queued.code, queued.stderr).toBe(0);
      expect(queued.stdout + queued.stderr).toContain(`for thread ${first.threadId}`);
    });
  },
);

describe.skipIf(codexes.length === 0).each(codexes)(
  'Codex $version through its shared background server with the codex-config block',
  ({ bin }) => {
    it('pins no session from the environment of the shell that started the server; a block of an earlier version did, and --write mends it without a restart', async () => {
      const current = await world(bin);
      // What earlier versions wrote: the pin read from Codex's environment (the provider's table
      // is the file's last).
      const path = join(current.codexHome, 'config.toml');
      const block = await readFile(path, 'utf8');
      expect(block.trimEnd().split('\n').at(-1)).not.toContain('[');
      await writeFile(
        path,
        `${block}env_http_headers = { "x-codex-lab-profile" = "CODEX_LAB_PROFILE" }\n`,
      );
      // The shell that starts the server happens to pin bob: with that block, every session of
      // every shell follows it.
      await startDaemon(current, { CODEX_LAB_PROFILE: 'bob' });
      const old = await session(current, 'say hi');
      expect(old.text, old.error).toBe('Hello from bob@example.com');

      const written = await codexLab(current, ['codex-config', '--write']);
      expect(written.code, written.stderr).toBe(0);
      const before = turns(current).length;
      const first = await session(current, 'say hi');
      expect(first.status, first.error).toBe('completed');
      expect(first.text).toBe('Hello from alice@example.com');
      const served = turns(current).slice(before);
      expect(served.length).toBeGreaterThan(0);
      for (const turn of served) expect(bearerOf(turn)).toBe(current.alice.accessToken);
    });

    it('runs the token command again within the refresh interval: after codex-lab stop a stranger on the router’s port gets a placeholder, not the token, and then a new session starts a router', async () => {
      const current = await world(bin);
      await startDaemon(current);
      const first = await session(current, 'say hi');
      expect(first.status, first.error).toBe('completed');
      const routerToken = (
        await readFile(join(current.labHome, 'state', 'router-token'), 'utf8')
      ).trim();
      const stopped = await codexLab(current, ['stop']);
      expect(stopped.code, stopped.stderr).toBe(0);

      // Another program takes the port. Codex's clock cannot be injected: wait out the interval
      // the block sets, from the end of the turn that last used the token.
      const seen = await stranger(current.port);
      await new Promise((resolve) => setTimeout(resolve, tokenRefreshIntervalMs + 1_000));
      const runsBefore = await tokenRunCount(current);
      const refused = await session(current, 'say hi again', 20_000);
      // The token command ran, found the port taken and could start no router: Codex got a
      // placeholder in place of the token it held, so only the placeholder reached the stranger.
      expect(await tokenRunCount(current)).toBeGreaterThan(runsBefore);
      expect(refused.status).not.toBe('completed');
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.filter((authorization) => authorization.includes(routerToken))).toEqual([]);
      expect(new Set(seen)).toEqual(new Set([`Bearer ${routerUnavailableToken}`]));

      // The port is free again: the next session's token command starts a router at once.
      for (const server of strangers.splice(0)) {
        await new Promise((resolve) => server.close(resolve));
      }
      const before = turns(current).length;
      const again = await session(current, 'say hi once more');
      expect(again.status, again.error).toBe('completed');
      expect(again.text).toBe('Hello from alice@example.com');
      expect(turns(current).length).toBeGreaterThan(before);
    });
  },
);
