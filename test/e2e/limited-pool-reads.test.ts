/**
 * Requests that spend no quota, from a pool whose every account has reached its usage limit: the
 * real Codex still gets its model list and its usage read through the router, as it does natively
 * from a limited account (the upstream answers both). Only the turn is refused, with the pool's
 * usage-limit message; Codex prints no "failed to refresh available models" before it.
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { bearerOf, resolveCodexBins, startWorld, type E2eWorld } from './harness.ts';
import { rpc } from './app-server-rpc.ts';

const { codexes, skipReason } = resolveCodexBins();

let world: E2eWorld | undefined;
let server: ChildProcess | undefined;

afterEach(async () => {
  server?.kill('SIGKILL');
  server = undefined;
  await world?.close();
  world = undefined;
});

const hour = 3600;

/**
 * Two profiles whose limit is spent (the fake reports the 5-hour window full: a frees in 3 hours,
 * b in 1 hour, the soonest) and the
 * user's own ChatGPT login, which has room (Codex's app-server reads usage only with one).
 */
async function limitedPool(codexBin: string): Promise<E2eWorld> {
  const now = Math.floor(Date.now() / 1000);
  const current = await startWorld({
    codexBin,
    accounts: [
      {
        email: 'a@example.com',
        secondary: {
          usedPercent: 40,
          windowMinutes: 10080,
          resetAt: now + 3 * hour,
          unstarted: false,
        },
      },
      {
        email: 'b@example.com',
        secondary: { usedPercent: 40, windowMinutes: 10080, resetAt: now + hour, unstarted: false },
      },
      {
        email: 'me@example.com',
        secondary: {
          usedPercent: 7,
          windowMinutes: 10080,
          resetAt: now + 50 * hour,
          unstarted: false,
        },
      },
    ],
    profiles: [
      { name: 'a', email: 'a@example.com' },
      { name: 'b', email: 'b@example.com' },
    ],
  });
  current.fake.account('a@example.com').stickyFailure = {
    kind: 'usage_limit',
    resetsInSeconds: 3 * hour,
  };
  current.fake.account('b@example.com').stickyFailure = {
    kind: 'usage_limit',
    resetsInSeconds: hour,
  };
  // The router learns the limits as `codex-lab usage --refresh` (or its poll) would.
  const answer = await fetch(`${current.routerUrl}/lab/v1/refreshUsage`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${current.routerToken}`,
      'content-type': 'application/json',
    },
    body: '{}',
  });
  expect(answer.status, await answer.text()).toBe(200);
  return current;
}

describe.skipIf(skipReason !== undefined).each(codexes)(
  'the real Codex $version with every account limited',
  ({ bin: codexBin }) => {
    it('gets its model list, and only the turn is refused with the pool’s usage limit', async () => {
      world = await limitedPool(codexBin);
      const current = world;
      const result = await current.codex(['exec', '--skip-git-repo-check', 'say hi']);
      expect(result.code).not.toBe(0);
      expect(result.stdout + result.stderr).toMatch(/usage limit/i);
      expect(result.stderr).not.toContain('failed to refresh available models');
      const models = current.fake.requests.filter((request) =>
        request.path.startsWith('/backend-api/codex/models'),
      );
      expect(models.length).toBeGreaterThan(0);
      // With a profile's token (never the router's), as Codex would send its own.
      const tokens = new Set(current.profiles.map((profile) => profile.accessToken));
      for (const request of models) expect(tokens.has(bearerOf(request) ?? '')).toBe(true);
      // No turn went upstream: the router knew every account was limited.
      expect(current.turns()).toEqual([]);
    }, 90_000);

    it('answers account/rateLimits/read with the pool’s limit reached and its soonest reset', async () => {
      world = await limitedPool(codexBin);
      await world.signInCodexHome('me@example.com');
      server = world.spawnCodex(['app-server']);
      let stderr = '';
      server.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const client = rpc(server);
      const init = await client.request('initialize', {
        clientInfo: { name: 'codex-lab-test', title: 'Codex Lab test', version: '1.0.0' },
      });
      expect(init['error'], stderr).toBeUndefined();
      client.notify('initialized');
      const read = await client.request('account/rateLimits/read');
      expect(read['error'], `${JSON.stringify(read)}\n${stderr}`).toBeUndefined();
      const result = read['result'] as {
        rateLimits: {
          primary: { usedPercent: number; resetsAt: number | null } | null;
          rateLimitReachedType: string | null;
        };
      };
      // The pool's view, not the user's own login (its turns go to the pool, which is limited):
      // the account that frees first (b, in an hour), as a user waiting for the pool wants.
      expect(result.rateLimits.primary?.usedPercent).toBe(100);
      const resetsAt = result.rateLimits.primary?.resetsAt ?? 0;
      expect(Math.abs(resetsAt - (Math.floor(Date.now() / 1000) + hour))).toBeLessThan(120);
      expect(result.rateLimits.rateLimitReachedType).not.toBeNull();
    }, 90_000);
  },
);
