/**
 * The whole path with the real Codex CLI: `codex-lab codex -- exec …` → Codex → the router
 * (`codex-lab serve`) → the fake ChatGPT. Asserts what Codex prints and what the upstream saw.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expireAccessTokens } from '../fakes/fake-issuer.ts';
import { codexConfigBlock } from '../../core/proxy/codex-config.ts';
import {
  bearerOf,
  cliEntry,
  headerOf,
  quietCodexConfig,
  resolveCodexBin,
  startWorld,
  type E2eWorld,
} from './harness.ts';

const { bin: codexBin, skipReason } = resolveCodexBin();
if (skipReason) console.warn(`[e2e] skipping the Codex CLI suite: ${skipReason}`);

const accounts = [
  { email: 'a@example.com', reply: 'Hello from account A.' },
  // b has less headroom, so an unpinned new session starts on a.
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
];
const profiles = [
  { name: 'a', email: 'a@example.com' },
  { name: 'b', email: 'b@example.com' },
];

let world: E2eWorld | undefined;

afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function start(): Promise<E2eWorld> {
  world = await startWorld({ codexBin: codexBin!, accounts, profiles });
  return world;
}

function expectSucceeded(
  result: { code: number | null; stdout: string; stderr: string },
  reply: string,
): void {
  expect(result.code, `codex failed:\n${result.stderr}`).toBe(0);
  expect(result.stdout).toContain(reply);
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

describe.skipIf(skipReason !== undefined)('the real Codex CLI through the router', () => {
  it('answers a turn with a profile token upstream and never leaks the router token', async () => {
    const current = await start();
    const result = await current.codex(['exec', '--skip-git-repo-check', 'say hi']);
    expectSucceeded(result, 'Hello from account A.');
    const turns = current.turns();
    expect(turns.length).toBe(1);
    const turn = turns[0]!;
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

  it('refreshes once on 401 and retries with the rotated token, written to disk first', async () => {
    const current = await start();
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

  it('works with the printed config.toml block alone (command-backed auth, --strict-config)', async () => {
    const current = await start();
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
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve) => {
        const child = spawn(
          codexBin!,
          ['exec', '--strict-config', '--skip-git-repo-check', 'say hi'],
          {
            cwd: current.workdir,
            env: {
              PATH: `${shims}:${process.env['PATH'] ?? ''}`,
              HOME: join(current.root, 'home'),
              CODEX_HOME: current.codexHome,
              CODEX_LAB_HOME: current.labHome,
              CODEX_LAB_PROFILE: 'b',
              NO_PROXY: '127.0.0.1,localhost',
            },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
        child.once('close', (code) => resolve({ code, stdout, stderr }));
      },
    );
    expectSucceeded(result, 'Hello from account B.');
    const turns = current.turns();
    expect(turns.length).toBe(1);
    expect(profileOf(current, bearerOf(turns[0]!))).toBe('b');
    for (const request of current.fake.requests) {
      expect(JSON.stringify(request.headers)).not.toContain(current.routerToken);
    }
  });
});
