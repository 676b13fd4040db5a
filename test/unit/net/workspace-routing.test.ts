import { describe, expect, it } from 'vitest';
import { LabError } from '../../../core/errors.ts';
import {
  createWorkspaceRoutes,
  processAccountsCheckResponse,
  unconstrained,
  WorkspaceRoutes,
  type WorkspaceRoutingResult,
} from '../../../core/net/workspace-routing.ts';
import { FakeClock } from '../router/fake-clock.ts';

/** A `wham/accounts/check` answer listing `entries` (the list form native Codex reads). */
const answer = (...entries: Record<string, unknown>[]) => ({
  accounts: entries,
  account_ordering: entries.map((entry) => entry['id']),
});

describe('processAccountsCheckResponse', () => {
  it('reads the account’s origin and residency override, NO_CONSTRAINT as none', () => {
    const personal = { id: 'acct-a', workspace_backend_origin: 'NO_CONSTRAINT' };
    const resident = {
      id: 'acct-b',
      workspace_backend_origin: 'https://gov.chatgpt.example',
      account_routing_override: 'us_cr',
    };
    const body = answer({ ...personal, account_routing_override: 'NO_CONSTRAINT' }, resident, {
      id: 'acct-c',
      workspace_backend_origin: 'NO_CONSTRAINT',
      account_routing_override: 'us',
    });
    expect(processAccountsCheckResponse(200, body, 'acct-a', 'https:')).toEqual({
      ok: true,
      routing: unconstrained,
    });
    expect(processAccountsCheckResponse(200, body, 'acct-b', 'https:')).toEqual({
      ok: true,
      routing: { origin: 'https://gov.chatgpt.example', override: 'us_cr' },
    });
    expect(processAccountsCheckResponse(200, body, 'acct-c', 'https:')).toEqual({
      ok: true,
      routing: { origin: null, override: 'us' },
    });
    // The older map form carries no routing at all.
    expect(
      processAccountsCheckResponse(200, { accounts: { 'acct-a': {} } }, 'acct-a', 'https:'),
    ).toEqual({ ok: true, routing: unconstrained });
  });

  it('refuses what native Codex refuses, as one sentence', () => {
    const entry = (origin: unknown, override: unknown = 'us') => ({
      id: 'acct-a',
      workspace_backend_origin: origin,
      account_routing_override: override,
    });
    for (const [status, body, scheme] of [
      [500, answer(entry('NO_CONSTRAINT')), 'https:'],
      [200, answer(), 'https:'],
      [200, answer(entry('NO_CONSTRAINT'), entry('NO_CONSTRAINT')), 'https:'],
      [200, answer(entry('NO_CONSTRAINT', 'eu')), 'https:'],
      [200, answer(entry('http://gov.chatgpt.example')), 'https:'],
      [200, answer(entry('https://user:secret@gov.chatgpt.example')), 'https:'],
      [200, answer(entry('https://gov.chatgpt.example/backend-api')), 'https:'],
      [200, answer(entry('https://gov.chatgpt.example?x=1')), 'https:'],
      [200, answer(entry(' https://gov.chatgpt.example')), 'https:'],
      [200, answer(entry(42)), 'https:'],
      [200, null, 'https:'],
    ] as const) {
      const result = processAccountsCheckResponse(status, body, 'acct-a', scheme);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.code).toBe('workspace_routing_unavailable');
        expect(result.message).not.toContain('secret');
      }
    }
  });
});

describe('WorkspaceRoutes', () => {
  function routes(results: WorkspaceRoutingResult[], clock = new FakeClock()) {
    const calls: string[] = [];
    const failures: string[] = [];
    const table = new WorkspaceRoutes({
      clock,
      discover: async (profile) => {
        calls.push(profile);
        return results.shift() ?? { ok: true, routing: unconstrained };
      },
      ttlMs: 60_000,
      retryMs: 10_000,
      onFailure: (profile, message) => failures.push(`${profile}: ${message}`),
    });
    return { table, calls, failures, clock };
  }
  const us = { ok: true, routing: { origin: null, override: 'us' } } as const;
  const down = {
    ok: false,
    code: 'workspace_routing_unavailable',
    message: 'the workspace check answered 503',
  } as const;

  it('waits for a profile’s first read, then keeps it until it is stale, and reads it again in the background', async () => {
    const { table, calls, clock } = routes([us, { ok: true, routing: unconstrained }]);
    expect(await table.routingFor('alpha', 'acct-a')).toEqual(us.routing);
    expect(await table.routingFor('alpha', 'acct-a')).toEqual(us.routing);
    expect(calls).toEqual(['alpha']);
    clock.advance(60_000);
    // Stale: this turn goes with what is known while the new read runs.
    expect(await table.routingFor('alpha', 'acct-a')).toEqual(us.routing);
    await Promise.resolve();
    expect(calls).toEqual(['alpha', 'alpha']);
    expect(await table.routingFor('alpha', 'acct-a')).toEqual(unconstrained);
  });

  it('leaves a profile unconstrained while its read fails, says so once, and tries again after the wait', async () => {
    const { table, calls, failures, clock } = routes([down, down, us]);
    expect(await table.routingFor('alpha', 'acct-a')).toEqual(unconstrained);
    expect(await table.routingFor('alpha', 'acct-a')).toEqual(unconstrained);
    expect(calls).toHaveLength(1);
    clock.advance(10_000);
    await table.routingFor('alpha', 'acct-a');
    await Promise.resolve();
    expect(calls).toHaveLength(2);
    expect(failures).toEqual(['alpha: the workspace check answered 503']);
    clock.advance(10_000);
    await table.routingFor('alpha', 'acct-a');
    await Promise.resolve();
    expect(await table.routingFor('alpha', 'acct-a')).toEqual(us.routing);
  });

  it('keeps the last routing it read while a later read fails', async () => {
    const { table, clock } = routes([us, down]);
    expect(await table.routingFor('alpha', 'acct-a')).toEqual(us.routing);
    clock.advance(60_000);
    await table.routingFor('alpha', 'acct-a');
    await Promise.resolve();
    // The check is down: the account's residency still applies, it is not dropped.
    expect(await table.routingFor('alpha', 'acct-a')).toEqual(us.routing);
  });

  it('reads again for another account under the same name, and stops waiting for a slow read', async () => {
    const clock = new FakeClock();
    let release: (() => void) | null = null;
    const calls: string[] = [];
    const table = new WorkspaceRoutes({
      clock,
      waitMs: 5000,
      discover: (profile) => {
        calls.push(profile);
        return new Promise((resolve) => {
          release = () => resolve(us);
        });
      },
    });
    const first = table.routingFor('alpha', 'acct-a');
    clock.advance(5000);
    expect(await first).toEqual(unconstrained);
    release!();
    await Promise.resolve();
    await Promise.resolve();
    expect(await table.routingFor('alpha', 'acct-a')).toEqual(us.routing);
    const other = table.routingFor('alpha', 'acct-b');
    release!();
    expect(await other).toEqual(us.routing);
    expect(calls).toEqual(['alpha', 'alpha']);
  });

  it('makes every turn that comes during a profile’s first read wait for it, with one read', async () => {
    const clock = new FakeClock();
    let release: (() => void) | null = null;
    let calls = 0;
    const table = new WorkspaceRoutes({
      clock,
      discover: () => {
        calls += 1;
        return new Promise((resolve) => {
          release = () => resolve(us);
        });
      },
    });
    const turns = [table.routingFor('alpha', 'acct-a'), table.routingFor('alpha', 'acct-a')];
    release!();
    expect(await Promise.all(turns)).toEqual([us.routing, us.routing]);
    expect(calls).toBe(1);
  });
});

describe('createWorkspaceRoutes', () => {
  it('reads {base}/wham/accounts/check with the profile’s credentials, and warns once when it cannot', async () => {
    const seen: Array<{ url: string; headers: Record<string, string> }> = [];
    const warnings: string[] = [];
    let reply: () => Promise<Response> = async () =>
      Response.json(
        answer({
          id: 'acct-a',
          workspace_backend_origin: 'NO_CONSTRAINT',
          account_routing_override: 'us',
        }),
      );
    const clock = new FakeClock();
    const table = createWorkspaceRoutes({
      clock,
      baseUrl: 'https://chatgpt.example/backend-api/',
      credentialsOf: async (profile) => {
        if (profile === 'gone') throw new LabError('not_signed_in', 'gone has no sign-in.');
        return { accessToken: 'secret-access-token', accountId: 'acct-a' };
      },
      identity: { originator: 'codex_cli_rs' },
      fetch: async (url, init) => {
        seen.push({ url, headers: init.headers as Record<string, string> });
        return reply();
      },
      logger: { warn: (_fields: unknown, message: string) => void warnings.push(message) } as never,
    });
    expect(await table.routingFor('alpha', 'acct-a')).toEqual({ origin: null, override: 'us' });
    expect(seen).toEqual([
      {
        url: 'https://chatgpt.example/backend-api/wham/accounts/check',
        headers: {
          originator: 'codex_cli_rs',
          authorization: 'Bearer secret-access-token',
          accept: 'application/json',
          'chatgpt-account-id': 'acct-a',
        },
      },
    ]);
    expect(await table.routingFor('gone', 'acct-g')).toEqual(unconstrained);
    reply = () => Promise.reject(new TypeError('fetch failed'));
    expect(await table.routingFor('beta', 'acct-a')).toEqual(unconstrained);
    expect(warnings).toHaveLength(2);
    expect(warnings.join(' ')).not.toContain('secret');
  });
});
