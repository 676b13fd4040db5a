/**
 * Codex's own usage read, from inside Codex: the real Codex app-server (what the TUI and the IDE
 * extensions use) answers `account/rateLimits/read` through the router. With the user's own ChatGPT
 * login in Codex's home, the upstream accepts the user's token and the router answers with the
 * pool's view (the account a new session would be routed to), so Codex never tells a user who
 * has headroom in the pool that they are out; the reset credits it shows beside it are never the
 * personal account's when that view is another account's.
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveCodexBins, startWorld, type E2eWorld } from './harness.ts';
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

/** Has the running router read every profile's usage now (what `codex-lab usage --refresh` does). */
async function refreshUsage(current: E2eWorld): Promise<void> {
  const answer = await fetch(`${current.routerUrl}/lab/v1/refreshUsage`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${current.routerToken}`,
      'content-type': 'application/json',
    },
    body: '{}',
  });
  expect(answer.status, await answer.text()).toBe(200);
}

describe.skipIf(skipReason !== undefined).each(codexes)(
  'the real Codex $version app-server reads usage through the router',
  ({ bin: codexBin }) => {
    it('answers account/rateLimits/read with the pool’s view', async () => {
      const soon = Math.floor(Date.now() / 1000) + 3600;
      world = await startWorld({
        codexBin,
        accounts: [
          // The user's own login: its five-hour window is spent.
          {
            email: 'me@example.com',
            primary: { usedPercent: 100, windowMinutes: 300, resetAt: soon, unstarted: false },
          },
          {
            email: 'spare@example.com',
            primary: { usedPercent: 7, windowMinutes: 300, resetAt: soon, unstarted: false },
          },
        ],
        profiles: [
          { name: 'me', email: 'me@example.com' },
          { name: 'spare', email: 'spare@example.com' },
        ],
      });
      // The user's own account has a banked reset; redeeming it would not touch the spare's limit.
      world.fake.account('me@example.com').resetCredits = [
        {
          id: 'credit-mine',
          resetType: 'codex_rate_limits',
          status: 'available',
          grantedAt: soon - 7200,
          expiresAt: soon + 86_400,
          title: 'One reset',
        },
      ];
      const ownToken = await world.signInCodexHome('me@example.com');
      await refreshUsage(world);
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
        ordinaryUsageAllowed: boolean | null;
        rateLimits: { primary: { usedPercent: number }; rateLimitReachedType: string | null };
        rateLimitResetCredits?: { availableCount: number; credits: unknown[] } | null;
        accountId?: string | null;
      };
      // The pool's view: the spare account a new session would be routed to, not the user's own
      // spent one, so Codex does not tell the user they are out while the pool has headroom.
      expect(result.rateLimits.primary.usedPercent).toBe(7);
      // …and names that account, as native Codex's read names the login's (it was null here).
      expect(result.accountId).toBe(world.fake.account('spare@example.com').accountId);
      expect(result.rateLimits.rateLimitReachedType).toBeNull();
      // Codex says false only when the limit is reached (null otherwise).
      expect(result.ordinaryUsageAllowed).not.toBe(false);
      // The credits shown are those of the account whose limits are shown: the user's own credit
      // would reset the user's own account, not the spare's, so none is offered.
      expect(JSON.stringify(result.rateLimitResetCredits ?? null)).not.toContain('credit-mine');
      expect(result.rateLimitResetCredits?.availableCount ?? 0).toBe(0);
      // The upstream saw the user's own token first (the router never lends a profile's token to
      // a caller the upstream has not accepted).
      const mine = world.fake.requests.filter(
        (request) =>
          request.path === '/backend-api/wham/usage' &&
          request.headers['authorization'] === `Bearer ${ownToken}`,
      );
      expect(mine.length).toBeGreaterThan(0);
    }, 60_000);
  },
);
