/**
 * The whole path with the real Codex CLI: `codex-lab codex -- exec …` → Codex → the router
 * (`codex-lab serve`) → the fake ChatGPT. Asserts what Codex prints and what the upstream saw.
 * Runs once per installed Codex version (CI: the pinned one and the newest), every run with
 * `--strict-config` and no "is ignored" warning for the keys Codex Lab sets.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkEncryptedContent } from '../fakes/ciphertext.ts';
import { setCompression } from '../fakes/fake-backend.ts';
import { isChatGptSidePath } from '../fakes/fake-chatgpt-side.ts';
import type { RecordedRequest } from '../fakes/fake-chatgpt.ts';
import { expireAccessTokens } from '../fakes/fake-issuer.ts';
import { codexConfigBlock, codexProviderId } from '../../core/proxy/codex-config.ts';
import { labPaths } from '../../core/home/paths.ts';
import { extractRouteContext } from '../../core/router/route-context.ts';
import { HealthStore } from '../../core/state/health-store.ts';
import { runCodexLab } from '../helpers/cli.ts';
import {
  bearerOf,
  cliEntry,
  execRunningTools,
  headerOf,
  ignoredKeyWarning,
  quietCodexConfig,
  resolveCodexBins,
  startWorld,
  type E2eWorld,
  type RunResult,
} from './harness.ts';

const { codexes, skipReason } = resolveCodexBins();
if (skipReason) console.warn(`[e2e] skipping the Codex CLI suite: ${skipReason}`);

const accounts = [
  { email: 'a@example.com', reply: 'Hello from account A.' },
  // b has less headroom, so an unpinned new session starts on a; c has the least.
  {
    email: 'b@example.com',
    reply: 'Hello from account B.',
    primary: {
      usedPercent: 60,
      windowMinutes: 300,
      resetAt: Math.floor(Date.now() / 1000) + 3600,
      unstarted: false,
    },
  },
  {
    email: 'c@example.com',
    reply: 'Hello from account C.',
    primary: {
      usedPercent: 80,
      windowMinutes: 300,
      resetAt: Math.floor(Date.now() / 1000) + 3600,
      unstarted: false,
    },
  },
  // The user's own ChatGPT login (not a profile), for the tests that put one in CODEX_HOME.
  { email: 'me@example.com', reply: 'Hello from my own account.' },
];
const profiles = [
  { name: 'a', email: 'a@example.com' },
  { name: 'b', email: 'b@example.com' },
  { name: 'c', email: 'c@example.com' },
];

let world: E2eWorld | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

function expectSucceeded(result: RunResult, reply: string): void {
  expect(result.code, `codex failed:\n${result.stderr}`).toBe(0);
  expect(result.stdout).toContain(reply);
  // --strict-config only warns about unknown keys under model_providers.*: fail on it here.
  expect(result.stderr).not.toMatch(ignoredKeyWarning);
}

/** The account-bound blobs a recorded turn replayed. */
function blobsOf(request: RecordedRequest): string[] {
  const body = JSON.parse(request.body) as { input?: Array<{ encrypted_content?: unknown }> };
  return (body.input ?? []).flatMap((item) =>
    typeof item.encrypted_content === 'string' ? [item.encrypted_content] : [],
  );
}

/**
 * Runs Codex directly with the printed config.toml block (command-backed auth): `exec ARGS`, by
 * default a new thread saying hi.
 */
async function runWithConfigBlock(
  current: E2eWorld,
  codexBin: string,
  env: Record<string, string> = {},
  args: string[] = ['say hi'],
): Promise<RunResult> {
  // `codex-lab` on PATH, as the installed package provides it.
  const shims = join(current.root, 'bin');
  await mkdir(shims, { recursive: true });
  const shim = join(shims, 'codex-lab');
  await writeFile(shim, `#!/bin/sh\nexec "${process.execPath}" "${cliEntry}" "$@"\n`);
  await chmod(shim, 0o755);
  await writeFile(
    join(current.codexHome, 'config.toml'),
    // In TOML top-level keys precede every table: the quiet settings' one top-level key, then
    // the block, then the quiet settings' tables.
    `check_for_update_on_startup = false\n${codexConfigBlock({ routerUrl: current.routerUrl })}\n${quietCodexConfig.replace('check_for_update_on_startup = false', '')}`,
  );
  return new Promise<RunResult>((resolve) => {
    const child = spawn(codexBin, ['exec', '--strict-config', '--skip-git-repo-check', ...args], {
      cwd: current.workdir,
      env: {
        PATH: `${shims}:${process.env['PATH'] ?? ''}`,
        HOME: join(current.root, 'home'),
        CODEX_HOME: current.codexHome,
        CODEX_LAB_HOME: current.labHome,
        NO_PROXY: '127.0.0.1,localhost',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The model input of a recorded turn (a WebSocket frame or an HTTP body) as text. */
function inputOf(request: RecordedRequest): string {
  return JSON.stringify((JSON.parse(request.body) as { input?: unknown }).input ?? []);
}

/** The outputs of the tool calls a recorded turn carries, as text. */
function toolOutputsOf(request: RecordedRequest): string[] {
  const body = JSON.parse(request.body) as { input?: Array<{ type?: unknown; output?: unknown }> };
  return (body.input ?? []).flatMap((item) =>
    item.type === 'function_call_output' ? [JSON.stringify(item.output)] : [],
  );
}

function profileOf(current: E2eWorld, token: string | undefined): string | undefined {
  return current.profiles.find((profile) => profile.accessToken === token)?.name;
}

async function accessTokenOnDisk(current: E2eWorld, name: string): Promise<string> {
  const auth = JSON.parse(
    await readFile(join(current.labHome, 'auth-profiles', name, 'auth.json'), 'utf8'),
  ) as {
    tokens: { access_token: string };
  };
  return auth.tokens.access_token;
}

describe.skipIf(skipReason !== undefined).each(codexes)(
  'the real Codex $version through the router',
  ({ bin: codexBin, version }) => {
    /**
     * The router with its defaults (the WebSocket upstream on), or with `env`: tests about what
     * an HTTP request to OpenAI carries (its encoding, its body, a 401 on it, upgrades that must
     * not be forwarded) set `CODEX_LAB_UPSTREAM_WEBSOCKET=off`; the WebSocket upstream has its own
     * end-to-end suite (codex-websocket.test.ts).
     */
    async function start(env: Record<string, string> = {}): Promise<E2eWorld> {
      world = await startWorld({ codexBin, accounts, profiles, env });
      return world;
    }
    const httpUpstream = { CODEX_LAB_UPSTREAM_WEBSOCKET: 'off' };

    it('answers a turn with a profile token upstream and never leaks the router token', async () => {
      const current = await start();
      const result = await current.codex(['exec', '--skip-git-repo-check', 'say hi']);
      expectSucceeded(result, 'Hello from account A.');
      const turns = current.turns();
      expect(turns.length).toBe(1);
      const turn = turns[0]!;
      // By default the turn goes as a response.create frame on the profile's WebSocket.
      expect(turn.transport).toBe('websocket');
      expect(profileOf(current, bearerOf(turn))).toBe('a');
      expect(headerOf(turn, 'chatgpt-account-id')).toBe(current.profiles[0]!.accountId);
      expect(headerOf(turn, 'session-id') ?? headerOf(turn, 'session_id')).toBeTruthy();
      for (const request of current.fake.requests) {
        expect(JSON.stringify(request.headers)).not.toContain(current.routerToken);
        expect(request.body).not.toContain(current.routerToken);
      }
      expect(result.stdout + result.stderr).not.toContain(current.routerToken);
      for (const profile of current.profiles) {
        expect(result.stdout + result.stderr + current.routerOutput()).not.toContain(
          profile.accessToken,
        );
      }
    });

    it('sends Codex’s whole context zstd-compressed over HTTP when the WebSocket upstream is off', async () => {
      const current = await start(httpUpstream);
      const result = await current.codex(['exec', '--skip-git-repo-check', 'say hi']);
      expectSucceeded(result, 'Hello from account A.');
      const turns = current.turns();
      expect(turns.length).toBe(1);
      const turn = turns[0]!;
      expect(turn.transport).toBeUndefined();
      expect(profileOf(current, bearerOf(turn))).toBe('a');
      expect(headerOf(turn, 'session-id') ?? headerOf(turn, 'session_id')).toBeTruthy();
      // Codex's whole context goes to OpenAI zstd-compressed, as Codex sends it natively.
      expect(headerOf(turn, 'content-encoding')).toBe('zstd');
      // This Codex's turn metadata is in the layout the router reads without JSON.parse (a
      // layout change would cost every request a parse; the answers would stay right).
      const metadata = headerOf(turn, 'x-codex-turn-metadata')!;
      const facts = JSON.parse(metadata) as { model?: string };
      const parse = vi.spyOn(JSON, 'parse');
      try {
        expect(extractRouteContext({ 'x-codex-turn-metadata': metadata }, null).model).toBe(
          facts.model,
        );
        expect(parse).not.toHaveBeenCalled();
      } finally {
        parse.mockRestore();
      }
      expect(turn.bytes).toBeLessThan(Buffer.byteLength(turn.body) / 2);
      for (const request of current.fake.requests) {
        expect(JSON.stringify(request.headers)).not.toContain(current.routerToken);
        expect(request.body).not.toContain(current.routerToken);
      }
    });

    it('keeps both turns of one session on the same profile (sticky)', async () => {
      const current = await start();
      expectSucceeded(
        await current.codex(['exec', '--skip-git-repo-check', 'first turn']),
        'Hello from account A.',
      );
      // Make b the better account: a sticky session must not move anyway.
      current.fake.account('a@example.com').primary!.usedPercent = 90;
      current.fake.account('b@example.com').primary!.usedPercent = 0;
      expectSucceeded(
        await current.codex(['exec', '--skip-git-repo-check', 'resume', '--last', 'second turn']),
        'Hello from account A.',
      );
      const turns = current.turns();
      expect(turns.length).toBe(2);
      expect(headerOf(turns[1]!, 'session-id')).toBe(headerOf(turns[0]!, 'session-id'));
      expect(turns.map((turn) => profileOf(current, bearerOf(turn)))).toEqual(['a', 'a']);
    });

    it('keeps a resumed session on its account across a router restart, its reasoning replayed byte-exact', async () => {
      const current = await start();
      const resume = (text: string) =>
        current.codex(['exec', '--skip-git-repo-check', 'resume', '--last', text]);
      expectSucceeded(
        await current.codex(['exec', '--skip-git-repo-check', 'first turn']),
        'Hello from account A.',
      );
      expectSucceeded(await resume('second turn'), 'Hello from account A.');
      // New sessions go to b from now on: only the router's memory of the session keeps it on a.
      expect((await runCodexLab(['use', 'b'], { home: current.labHome })).code).toBe(0);
      await current.restartRouter();
      const before = current.turns().length;
      expectSucceeded(await resume('third turn, after the restart'), 'Hello from account A.');
      const after = current.turns().slice(before);
      expect(after.map((turn) => profileOf(current, bearerOf(turn)))).toEqual(['a']);
      const replayed = blobsOf(after[0]!);
      expect(replayed.length).toBeGreaterThanOrEqual(2);
      for (const blob of replayed) {
        expect(
          checkEncryptedContent(current.fake, current.fake.account('a@example.com'), blob),
        ).toBe('ok');
      }
      expect(current.routerOutput()).not.toMatch(/retrying once without it/);
    });

    it('pins a Codex process to a profile with --profile (CODEX_LAB_PROFILE)', async () => {
      const current = await start();
      const result = await current.codex(['exec', '--skip-git-repo-check', 'say hi'], {
        profile: 'b',
      });
      expectSucceeded(result, 'Hello from account B.');
      const turns = current.turns();
      expect(turns.length).toBe(1);
      expect(headerOf(turns[0]!, 'x-codex-lab-profile')).toBeUndefined();
      expect(profileOf(current, bearerOf(turns[0]!))).toBe('b');
      expect(headerOf(turns[0]!, 'chatgpt-account-id')).toBe(current.profiles[1]!.accountId);
    });

    it('a repository pin holds for Codex run in a subfolder, and a pin on that subfolder is refused', async () => {
      const current = await start();
      const repo = join(current.workdir, 'repo');
      const subfolder = join(repo, 'packages', 'app');
      await mkdir(subfolder, { recursive: true });
      expect(spawnSync('git', ['init', '--quiet', repo]).status).toBe(0);
      const lab = (args: string[]) => runCodexLab(args, { home: current.labHome, cwd: subfolder });
      // Codex names the repository, never the subfolder it runs in: a pin there would route nothing.
      const refused = await lab(['pin', 'b', '--repo', '.']);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`inside the git repository ${repo}`);
      expect((await lab(['pin', 'b', '--repo', repo])).code).toBe(0);
      // Unpinned, the session would start on a (b has less headroom).
      const result = await current.codex([
        'exec',
        '--skip-git-repo-check',
        '--cd',
        subfolder,
        'say hi',
      ]);
      expectSucceeded(result, 'Hello from account B.');
      const turns = current.turns();
      expect(turns.map((turn) => profileOf(current, bearerOf(turn)))).toEqual(['b']);
    });

    it('falls over to another profile within the same turn on 429 usage_limit_reached, and skips the limited one until its reset', async () => {
      const current = await start();
      const first = await current.codex(['exec', '--skip-git-repo-check', 'first turn']);
      expectSucceeded(first, 'Hello from account A.');
      // No turn moved: `codex-lab codex` adds nothing after Codex exits.
      expect(first.stderr).not.toContain('codex-lab: this run');
      current.fake.account('a@example.com').stickyFailure = {
        kind: 'usage_limit',
        resetsInSeconds: 3600,
      };
      const fallback = await current.codex([
        'exec',
        '--skip-git-repo-check',
        'resume',
        '--last',
        'second turn',
      ]);
      expectSucceeded(fallback, 'Hello from account B.');
      expect(fallback.stdout + fallback.stderr).not.toContain('usage limit');
      // Codex sent the run id (env_http_headers), so the move is told once Codex has exited.
      expect(fallback.stderr.trimEnd().split('\n').at(-1)).toMatch(
        /^codex-lab: this run: a → b at \d\d:\d\d, a limited until \d\d:\d\d$/,
      );
      const afterFallback = current.turns();
      expect(afterFallback.map((turn) => profileOf(current, bearerOf(turn)))).toEqual([
        'a',
        'a',
        'b',
      ]);
      // A new session does not try the limited profile again before its reset.
      expectSucceeded(
        await current.codex(['exec', '--skip-git-repo-check', 'new session']),
        'Hello from account B.',
      );
      const later = current.turns().slice(afterFallback.length);
      expect(later.map((turn) => profileOf(current, bearerOf(turn)))).toEqual(['b']);
    });

    it.each([
      ['HTTP', httpUpstream],
      ['WebSocket', {}],
    ])(
      'moves a turn whose account keeps cutting its stream mid-turn to another profile within Codex’s stream retries (%s upstream)',
      async (_transport, env) => {
        const current = await start(env);
        expectSucceeded(
          await current.codex(['exec', '--skip-git-repo-check', 'first turn']),
          'Hello from account A.',
        );
        // From now on every stream of a's is cut after its first events: the router cannot
        // retry it, Codex retries the turn itself, and the session's affinity sends it to a.
        current.fake.account('a@example.com').stickyFailure = { kind: 'reset_mid_stream' };
        const before = current.turns().length;
        const moved = await current.codex([
          'exec',
          '--skip-git-repo-check',
          'resume',
          '--last',
          'second turn',
        ]);
        expectSucceeded(moved, 'Hello from account B.');
        const served = current
          .turns()
          .slice(before)
          .map((turn) => profileOf(current, bearerOf(turn)));
        expect(served[0]).toBe('a');
        expect(served.at(-1)).toBe('b');
        // A new session does not start on the account that keeps cutting.
        const after = current.turns().length;
        expectSucceeded(
          await current.codex(['exec', '--skip-git-repo-check', 'new session']),
          'Hello from account B.',
        );
        expect(
          current
            .turns()
            .slice(after)
            .map((turn) => profileOf(current, bearerOf(turn))),
        ).toEqual(['b']);
      },
    );

    it('refreshes once on 401 and retries with the rotated token, written to disk first', async () => {
      // A 401 on an HTTP turn (an open WebSocket was authorized at its handshake).
      const current = await start(httpUpstream);
      expectSucceeded(
        await current.codex(['exec', '--skip-git-repo-check', 'first turn']),
        'Hello from account A.',
      );
      const before = await accessTokenOnDisk(current, 'a');
      expireAccessTokens(current.fake, 'a@example.com');
      expectSucceeded(
        await current.codex(['exec', '--skip-git-repo-check', 'resume', '--last', 'second turn']),
        'Hello from account A.',
      );
      const after = await accessTokenOnDisk(current, 'a');
      expect(after).not.toBe(before);
      const turns = current.turns();
      // The expired token may be met by the turn or by the router's usage poll first; either way
      // exactly one refresh happens and the turn completes with the rotated token.
      expect(bearerOf(turns[0]!)).toBe(before);
      expect(bearerOf(turns.at(-1)!)).toBe(after);
      const refreshes = current.fake.requests.filter((request) =>
        request.path.startsWith('/oauth/token'),
      );
      expect(refreshes.length).toBe(1);
    });

    it('works with the printed config.toml block alone (command-backed auth, --strict-config), which takes no pin from the environment', async () => {
      const current = await start();
      // Plain `codex` would hand its sessions to Codex's shared background server, built from
      // the environment of whichever shell started it: the block reads no CODEX_LAB_PROFILE.
      const result = await runWithConfigBlock(current, codexBin, { CODEX_LAB_PROFILE: 'b' });
      expectSucceeded(result, 'Hello from account A.');
      const turns = current.turns();
      expect(turns.length).toBe(1);
      expect(profileOf(current, bearerOf(turns[0]!))).toBe('a');
      for (const request of current.fake.requests) {
        expect(JSON.stringify(request.headers)).not.toContain(current.routerToken);
      }
    });

    it('carries a session with reasoning history across a fallback and a router restart, each profile keeping its own ciphertext', async () => {
      // Reads the ciphertext each turn's body replays: whole bodies, as HTTP carries them.
      const current = await start(httpUpstream);
      const resume = (text: string) =>
        current.codex(['exec', '--skip-git-repo-check', 'resume', '--last', text]);
      expectSucceeded(
        await current.codex(['exec', '--skip-git-repo-check', 'first turn']),
        'Hello from account A.',
      );
      expectSucceeded(await resume('second turn'), 'Hello from account A.');
      // Codex replays the first turn's reasoning, minted by a, to a: byte-exact.
      const second = current.turns().at(-1)!;
      expect(blobsOf(second).length).toBeGreaterThanOrEqual(1);
      for (const blob of blobsOf(second)) {
        expect(
          checkEncryptedContent(current.fake, current.fake.account('a@example.com'), blob),
        ).toBe('ok');
      }
      // a runs out: the session moves to b in the middle of its history.
      current.fake.account('a@example.com').stickyFailure = {
        kind: 'usage_limit',
        resetsInSeconds: 3600,
      };
      const moved = await resume('third turn');
      expectSucceeded(moved, 'Hello from account B.');
      const b = current.fake.account('b@example.com');
      const onB = current.turns().at(-1)!;
      expect(profileOf(current, bearerOf(onB))).toBe('b');
      for (const blob of blobsOf(onB))
        expect(checkEncryptedContent(current.fake, b, blob)).toBe('ok');
      expectSucceeded(await resume('fourth turn'), 'Hello from account B.');
      const fourth = current.turns().at(-1)!;
      const own = blobsOf(fourth);
      // b's own reasoning from the third turn is kept, byte-exact; a's stays out.
      expect(own.length).toBeGreaterThanOrEqual(1);
      for (const blob of own) expect(checkEncryptedContent(current.fake, b, blob)).toBe('ok');
      // A restarted router still knows who minted what (its request journal names each blob by
      // a digest); b runs out too: c gets the history without a's and b's blobs, in one request,
      // never refused and retried.
      await current.restartRouter();
      b.stickyFailure = { kind: 'usage_limit', resetsInSeconds: 3600 };
      const before = current.turns().length;
      expectSucceeded(await resume('fifth turn'), 'Hello from account C.');
      const onC = current
        .turns()
        .slice(before)
        .filter((turn) => profileOf(current, bearerOf(turn)) === 'c');
      expect(onC.length).toBe(1);
      expect(blobsOf(onC[0]!)).toEqual([]);
      // What c received still carried the history: every turn's message reached it.
      expect(onC[0]!.body).toContain('fourth turn');
    });

    it('keeps Codex’s own ChatGPT traffic working with a ChatGPT login in CODEX_HOME, through codex-lab codex and the config block', async () => {
      const current = await start();
      const mine = await current.signInCodexHome('me@example.com');
      const sendsSideTraffic = version.localeCompare('0.171.0', 'en', { numeric: true }) >= 0;
      for (const run of [
        () => current.codex(['exec', '--skip-git-repo-check', 'say hi']),
        () => runWithConfigBlock(current, codexBin),
      ]) {
        const seenBefore = current.fake.requests.length;
        const result = await run();
        expectSucceeded(result, 'Hello from account A.');
        // A status 401, not the digits inside a session id or a timestamp.
        expect(result.stdout + result.stderr).not.toMatch(/AuthRequired|\b401\b/);
        const side = current.fake.requests
          .slice(seenBefore)
          .filter((request) => isChatGptSidePath(request.path.split('?')[0]!));
        // 0.169 sends no side traffic; 0.171 does, and it must arrive with the user's own token.
        if (sendsSideTraffic) {
          expect(side.some((request) => request.path.startsWith('/backend-api/ps/mcp'))).toBe(true);
          expect(side.some((request) => bearerOf(request) === mine)).toBe(true);
        }
        // The router's own reads (a profile's workspace check, with that profile's token) name
        // Codex Lab in their user agent; Codex's side traffic carries the user's own token.
        const routerOwn = (request: RecordedRequest): boolean =>
          String(request.headers['user-agent'] ?? '').endsWith(' codex-lab');
        expect(
          side
            .filter(routerOwn)
            .every((request) => request.path === '/backend-api/wham/accounts/check'),
        ).toBe(true);
        for (const request of side.filter((request) => !routerOwn(request))) {
          const bearer = bearerOf(request);
          if (bearer !== undefined) expect(bearer, request.path).toBe(mine);
        }
        // The turn itself is routed: a profile's token, never the user's.
        expect(profileOf(current, bearerOf(current.turns().at(-1)!))).toBe('a');
      }
    });

    it('answers supports_websockets = true with 426 so Codex starts as fast as without it, and never forwards the upgrade', async () => {
      // Codex -> router: with the upstream on HTTP, any upgrade at the fake would be a forwarded one.
      const current = await start(httpUpstream);
      const timed = async (extra: string[]): Promise<number> => {
        const started = Date.now();
        const result = await current.codex(['exec', ...extra, '--skip-git-repo-check', 'say hi']);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).toContain('Hello from account A.');
        return Date.now() - started;
      };
      const plain = await timed([]);
      const withWebSockets = await timed([
        '-c',
        `model_providers.${codexProviderId}.supports_websockets=true`,
      ]);
      expect(withWebSockets - plain).toBeLessThan(1000);
      expect(current.fake.upgrades).toEqual([]);
      expect(
        current.fake.requests.filter(
          (request) =>
            request.method === 'GET' && request.path.startsWith('/backend-api/codex/responses'),
        ),
      ).toEqual([]);
    });

    it('says at once, with no retry, when every profile needs a sign-in and when the pinned one does', async () => {
      const current = await start();
      const health = new HealthStore(labPaths(current.labHome));
      for (const name of ['a', 'b', 'c']) {
        await health.markAuthError(
          name,
          'refresh_token_reused',
          `${name} was signed out`,
          Date.now(),
        );
      }
      // The router reads health.json again when it changes.
      const deadline = Date.now() + 10_000;
      for (;;) {
        const answer = await fetch(`${current.routerUrl}/lab/v1/state`, {
          headers: { authorization: `Bearer ${current.routerToken}` },
        });
        const state = (await answer.json()) as { profiles: Array<{ status: string }> };
        if (state.profiles.every((profile) => profile.status === 'auth_error')) break;
        if (Date.now() > deadline) throw new Error('the router never saw the sign-in marks');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const all = await current.codex(['exec', '--skip-git-repo-check', 'say hi']);
      expect(all.code).not.toBe(0);
      // The router's sentence as written (no JSON around it), after one request: Codex retries
      // a 503 thirty times (~25 s) and a 403 six times before it says anything.
      expect(all.stdout + all.stderr).toContain(
        'Every Codex Lab profile needs a new sign-in (a, b, c): run codex-lab login a',
      );
      expect(all.stderr).toMatch(/refused once/);
      const pinned = await current.codex(['exec', '--skip-git-repo-check', 'say hi'], {
        profile: 'b',
      });
      expect(pinned.code).not.toBe(0);
      expect(pinned.stdout + pinned.stderr).toContain(
        'The pinned profile b needs a new sign-in: run codex-lab login b.',
      );
      expect(pinned.stderr).toMatch(/refused once/);
      expect(current.turns()).toEqual([]);
    });

    it('offers Codex’s web search tool through codex-lab codex and through the config block, and -c web_search="disabled" still removes it', async () => {
      const current = await start();
      const offersWebSearch = (turn: RecordedRequest): boolean => turn.body.includes('web__run');
      expectSucceeded(
        await current.codex(['exec', '--skip-git-repo-check', 'say hi']),
        'Hello from account A.',
      );
      expect(offersWebSearch(current.turns()[0]!)).toBe(true);
      expectSucceeded(await runWithConfigBlock(current, codexBin), 'Hello from account A.');
      expect(current.turns()).toHaveLength(2);
      expect(offersWebSearch(current.turns()[1]!)).toBe(true);
      // The user's own setting wins over the provider's support.
      expectSucceeded(
        await current.codex(['exec', '-c', 'web_search="disabled"', '--skip-git-repo-check', 'hi']),
        'Hello from account A.',
      );
      expect(current.turns()).toHaveLength(3);
      expect(offersWebSearch(current.turns()[2]!)).toBe(false);
    });

    it('resumes a thread of codex-lab codex under the pasted config block, and the other way round (one provider id)', async () => {
      // Whole bodies over HTTP: a resumed turn carries the thread's history as Codex sent it.
      const current = await start(httpUpstream);
      expectSucceeded(
        await current.codex(['exec', '--skip-git-repo-check', 'first turn: the word is cobalt']),
        'Hello from account A.',
      );
      const resumed = await runWithConfigBlock(current, codexBin, {}, [
        'resume',
        '--last',
        'second turn',
      ]);
      expectSucceeded(resumed, 'Hello from account A.');
      expect(current.turns()).toHaveLength(2);
      const [first, second] = current.turns();
      expect(headerOf(second!, 'session-id')).toBe(headerOf(first!, 'session-id'));
      expect(inputOf(second!)).toContain('the word is cobalt');

      // A thread the block started, resumed by codex-lab codex over that same config.toml (the
      // overrides merge into the block's provider table).
      expectSucceeded(
        await runWithConfigBlock(current, codexBin, {}, ['third turn: the word is saffron']),
        'Hello from account A.',
      );
      expectSucceeded(
        await current.codex(['exec', '--skip-git-repo-check', 'resume', '--last', 'fourth turn']),
        'Hello from account A.',
      );
      const [, , third, fourth] = current.turns();
      expect(current.turns()).toHaveLength(4);
      expect(headerOf(fourth!, 'session-id')).toBe(headerOf(third!, 'session-id'));
      expect(headerOf(third!, 'session-id')).not.toBe(headerOf(first!, 'session-id'));
      expect(inputOf(fourth!)).toContain('the word is saffron');
    });

    it('keeps the router token out of the commands the model runs', async () => {
      // The model asks for `env`; what the command printed goes upstream as the call's output.
      world = await startWorld({
        codexBin,
        accounts: [
          {
            email: 'a@example.com',
            reply: 'Done.',
            toolCall: {
              name: 'exec_command',
              arguments: JSON.stringify({ cmd: 'env' }),
              expect: 'CODEX_LAB_RUN=',
            },
          },
        ],
        profiles: [{ name: 'a', email: 'a@example.com' }],
      });
      const current = world;
      const result = await current.codex([...execRunningTools, 'print the environment']);
      expectSucceeded(result, 'Done. (the tool said so)');
      const outputs = current.turns().flatMap(toolOutputsOf);
      expect(outputs).toHaveLength(1);
      expect(outputs[0]).not.toContain(current.routerToken);
      expect(outputs[0]).not.toContain('CODEX_LAB_ROUTER_TOKEN');
      for (const request of current.fake.requests) {
        expect(request.body).not.toContain(current.routerToken);
      }
    });

    it('falls over on a 429 from an upstream that compresses every answer', async () => {
      const current = await start();
      setCompression(current.fake, true);
      current.fake.account('a@example.com').stickyFailure = {
        kind: 'usage_limit',
        resetsInSeconds: 3600,
      };
      const result = await current.codex(['exec', '--skip-git-repo-check', 'say hi']);
      expectSucceeded(result, 'Hello from account B.');
      expect(result.stdout + result.stderr).not.toContain('exceeded retry limit');
      expect(current.turns().map((turn) => profileOf(current, bearerOf(turn)))).toEqual(['a', 'b']);
    });
  },
);
