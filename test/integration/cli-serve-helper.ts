/** Runs `codex-lab serve --port 0` as a child process for the serve and priming tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { cliEntry, makeTempHome, repoRoot } from '../helpers/cli.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';

/** A `codex-lab serve` child with its output so far. */
export interface ServeChild {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `codex-lab serve --port 0` (on 127.0.0.1, or `--host ::1` or `0.0.0.0`) and waits for its
 * URL line.
 */
export async function startServe(
  home: string,
  env: Record<string, string>,
  extraArgs: string[] = [],
): Promise<ServeChild> {
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('CODEX_LAB_')) childEnv[key] = value;
  }
  Object.assign(childEnv, { CODEX_LAB_HOME: home, ...env });
  const child = spawn(process.execPath, [cliEntry, 'serve', '--port', '0', ...extraArgs], {
    cwd: repoRoot,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 30_000);
    const check = () => {
      const match = /listening on (http:\/\/(?:127\.0\.0\.1|\[::1\]|0\.0\.0\.0):\d+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', check);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      // Everything it said, and how it ended, so a failure far from here can be told.
      reject(
        new Error(
          `serve exited early (code ${code}, signal ${signal}): ${stderr}${stdout ? `\nstdout: ${stdout}` : ''}`,
        ),
      );
    });
  });
  return { child, url, output: () => stdout + stderr, exited };
}

/** Kills every serve child still running, waits for it, and empties the list (teardown). */
export async function stopServes(children: ServeChild[]): Promise<void> {
  for (const serve of children.splice(0)) {
    if (serve.child.exitCode === null && serve.child.signalCode === null) {
      serve.child.kill('SIGKILL');
      await serve.exited;
    }
  }
}

/**
 * One streamed Codex turn ("hi") through a serve child's router for `session`, with the router
 * token `bearer`; the answer (its body not yet read).
 */
export function postTurn(serve: ServeChild, bearer: string, session: string): Promise<Response> {
  return fetch(`${serve.url}/backend-api/codex/responses`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${bearer}`,
      'content-type': 'application/json',
      session_id: session,
    },
    body: JSON.stringify({
      model: 'gpt-6.2-sol',
      stream: true,
      store: false,
      input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }],
    }),
  });
}

/** The serve tests' usual world: a fake ChatGPT with alpha and beta, both signed in to a home. */
export interface TwoProfileWorld {
  fake: FakeChatGpt;
  home: string;
  /** The `serve` children a test started: killed by `close`. */
  children: ServeChild[];
  /** Stops the children and the fake, and removes the home. */
  close(): Promise<void>;
}

/**
 * Starts the world the serve tests share: alpha and beta on the fake (answering with their own
 * names), signed in to a fresh home named after `prefix`.
 */
export async function startTwoProfileWorld(prefix: string): Promise<TwoProfileWorld> {
  const fake = await startFakeChatGpt({
    accounts: [
      { email: 'alpha@example.com', reply: 'Hello from alpha.' },
      { email: 'beta@example.com', reply: 'Hello from beta.' },
    ],
  });
  const home = await makeTempHome(prefix);
  await seedProfiles(fake, home, [
    { name: 'alpha', email: 'alpha@example.com' },
    { name: 'beta', email: 'beta@example.com' },
  ]);
  const children: ServeChild[] = [];
  return {
    fake,
    home,
    children,
    async close() {
      await stopServes(children);
      await fake.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}
