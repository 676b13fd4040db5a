/**
 * Two profile names swapped while the router runs (`rename c2 c3; rename carol c2`): a name now
 * means another account, and nothing the router keeps under a name may carry one account's traffic
 * to the other. A request is served by the account its profile is now, and everything about it —
 * the response's profile header, the request log, quota figures, limit marks — is booked on the
 * profile that served it. A real router (LabService on loopback) against the fake ChatGPT, with
 * turns over its upstream WebSocket.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { turnStateCrossings } from '../fakes/fake-backend.ts';
import {
  codexTurnBody,
  postToRouter,
  startTestRouter,
  turnThroughRouter,
  type TestRouter,
} from '../helpers/lab-service.ts';

let router: TestRouter | undefined;
afterEach(async () => {
  await router?.close();
  router = undefined;
});

/** A started window `used` percent spent, resetting one window from now. */
function window(used: number, minutes: number) {
  const resetAt = Math.floor(Date.now() / 1000) + minutes * 60;
  return { usedPercent: used, windowMinutes: minutes, resetAt, unstarted: false };
}

describe('profile names swapped while the router runs', () => {
  it('books each request on the profile whose account served it, not on the name it was pinned by', async () => {
    router = await startTestRouter({
      homePrefix: 'codex-lab-swap-',
      accounts: [
        { email: 'carol@example.com', usagePerTurn: 0, primary: window(80, 300) },
        { email: 'bob@example.com', usagePerTurn: 0, primary: window(10, 300) },
      ],
      profiles: [
        ['carol@example.com', 'c2'],
        ['bob@example.com', 'carol'],
      ],
    });
    const lab = router;
    const emails = new Map([...lab.fake.accounts.values()].map((a) => [a.accountId, a.email]));
    /** One turn of the same session pinned by header to `name`: who answered, and as whom. */
    const pinned = async (name: string) => {
      const answer = await turnThroughRouter(lab.url, lab.token, 'sess-swap', {
        'x-codex-lab-profile': name,
      });
      const served = lab.fake.requests
        .filter((request) => request.path.endsWith('/codex/responses'))
        .at(-1)?.headers['chatgpt-account-id'];
      return {
        status: answer.status,
        profile: answer.headers.get('x-codex-lab-profile'),
        primary: answer.headers.get('x-codex-primary-used-percent'),
        servedBy: emails.get(String(served)),
      };
    };
    expect(await pinned('c2')).toEqual({
      status: 200,
      profile: 'c2',
      primary: '80',
      servedBy: 'carol@example.com',
    });

    expect((await lab.service.renameProfile({ from: 'c2', to: 'c3' })).ok).toBe(true);
    expect((await lab.service.renameProfile({ from: 'carol', to: 'c2' })).ok).toBe(true);

    // c2 is bob@ now: its turn is bob@'s, said, logged and booked as c2's.
    expect(await pinned('c2')).toEqual({
      status: 200,
      profile: 'c2',
      primary: '10',
      servedBy: 'bob@example.com',
    });
    // carol@ is c3 now, and answers as c3.
    expect(await pinned('c3')).toEqual({
      status: 200,
      profile: 'c3',
      primary: '80',
      servedBy: 'carol@example.com',
    });

    const before = await lab.service.getState();
    const quotaOf = (name: string) =>
      before.profiles.find((profile) => profile.name === name)?.quota.primary?.usedPercent;
    expect([quotaOf('c2'), quotaOf('c3')]).toEqual([10, 80]);

    // A 429 from carol@ marks c3, never bob@'s c2.
    lab.fake.account('carol@example.com').failures.push({
      kind: 'usage_limit',
      resetsInSeconds: 3600,
    });
    expect((await pinned('c3')).status).toBe(429);
    expect((await pinned('c2')).status).toBe(200);

    const state = await lab.service.getState();
    const byName = new Map(state.profiles.map((profile) => [profile.name, profile]));
    expect(byName.get('c2')?.quota.primary?.usedPercent).toBe(10);
    expect(byName.get('c2')?.status).toBe('ok');
    expect(byName.get('c3')?.status).toBe('limited');
    // Oldest first: each row names the profile that served it (the first one renamed since).
    expect(state.requests.map((request) => [request.profile, request.status])).toEqual([
      ['c3', 200],
      ['c2', 200],
      ['c3', 200],
      ['c3', 429],
      ['c2', 200],
    ]);
  });

  it('books a request in flight across the swap on the profile it was routed to, by its new name', async () => {
    router = await startTestRouter({
      homePrefix: 'codex-lab-swap-',
      accounts: [
        { email: 'carol@example.com', usagePerTurn: 0, primary: window(80, 300) },
        { email: 'bob@example.com', usagePerTurn: 0, primary: window(10, 300) },
      ],
      profiles: [
        ['carol@example.com', 'c2'],
        ['bob@example.com', 'carol'],
      ],
    });
    const lab = router;
    // Over HTTP, where the fake can hold a turn upstream.
    lab.fake.webSocketUpgrades = 'refuse';
    let release = () => {};
    const carol = lab.fake.account('carol@example.com');
    carol.turnHold = new Promise<void>((resolve) => (release = resolve));
    carol.failures.push({ kind: 'usage_limit', resetsInSeconds: 3600 });
    const pending = turnThroughRouter(lab.url, lab.token, 'sess-held', {
      'x-codex-lab-profile': 'c2',
    });
    const started = Date.now();
    while (!lab.fake.requests.some((request) => request.path.endsWith('/codex/responses'))) {
      if (Date.now() - started > 5000) throw new Error('the turn never reached the fake');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect((await lab.service.renameProfile({ from: 'c2', to: 'c3' })).ok).toBe(true);
    expect((await lab.service.renameProfile({ from: 'carol', to: 'c2' })).ok).toBe(true);
    release();
    const answer = await pending;
    expect(answer.status).toBe(429);
    expect(answer.headers.get('x-codex-lab-profile')).toBe('c3');

    const state = await lab.service.getState();
    const byName = new Map(state.profiles.map((profile) => [profile.name, profile]));
    // carol@'s 429 is c3's: bob@'s c2 is neither limited nor given carol@'s figures.
    expect(byName.get('c3')?.status).toBe('limited');
    expect(byName.get('c2')?.status).not.toBe('limited');
    expect(byName.get('c2')?.quota.primary?.usedPercent ?? null).not.toBe(100);
    expect(state.requests.map((request) => [request.profile, request.status])).toEqual([
      ['c3', 429],
    ]);
  });

  it('never hands one account’s turn state to the account that took its profile’s name', async () => {
    router = await startTestRouter({
      homePrefix: 'codex-lab-swap-',
      accounts: [
        { email: 'carol@example.com', usagePerTurn: 0 },
        { email: 'bob@example.com', usagePerTurn: 0 },
      ],
      profiles: [
        ['carol@example.com', 'c2'],
        ['bob@example.com', 'carol'],
      ],
    });
    const lab = router;
    lab.fake.webSocketUpgrades = 'refuse';
    const first = await turnThroughRouter(lab.url, lab.token, 'sess-state', {
      'x-codex-lab-profile': 'c2',
    });
    const turnState = first.headers.get('x-codex-turn-state');
    expect(turnState).toBeTruthy();
    expect((await lab.service.renameProfile({ from: 'c2', to: 'c3' })).ok).toBe(true);
    expect((await lab.service.renameProfile({ from: 'carol', to: 'c2' })).ok).toBe(true);
    // The same turn goes on, as Codex sends it: its turn state echoed, its pin the old name.
    const next = await turnThroughRouter(lab.url, lab.token, 'sess-state', {
      'x-codex-lab-profile': 'c2',
      'x-codex-turn-state': turnState as string,
    });
    expect(next.status).toBe(200);
    expect(turnStateCrossings(lab.fake)).toBe(0);
  });
  it('sends a turn as the seat its profile is now when two seats of one workspace swap names', async () => {
    // Two users of one ChatGPT workspace: one account id, each with their own sign-in and quota.
    router = await startTestRouter({
      homePrefix: 'codex-lab-swap-',
      accounts: [
        { email: 'ann@example.com', accountId: 'acct-team', usagePerTurn: 0 },
        { email: 'ben@example.com', accountId: 'acct-team', usagePerTurn: 0 },
      ],
      profiles: [
        ['ann@example.com', 'a'],
        ['ben@example.com', 'b'],
      ],
    });
    const lab = router;
    /** One turn of the same session pinned to `name`, over its upstream WebSocket: who answered. */
    const answeredBy = async (name: string) => {
      const answer = await postToRouter(
        lab.url,
        lab.token,
        '/backend-api/codex/responses',
        codexTurnBody({ session: 'sess-seats' }),
        { 'x-codex-lab-profile': name },
      );
      const text = await answer.text();
      return {
        status: answer.status,
        profile: answer.headers.get('x-codex-lab-profile'),
        seat: /Hello from (\w+)@/.exec(text)?.[1] ?? null,
      };
    };
    expect(await answeredBy('a')).toEqual({ status: 200, profile: 'a', seat: 'ann' });
    const overWebSocket = () =>
      lab.fake.requests.filter((request) => request.transport === 'websocket').length;
    expect(overWebSocket()).toBe(1);

    for (const [from, to] of [
      ['a', 'swap'],
      ['b', 'a'],
      ['swap', 'b'],
    ] as const) {
      expect((await lab.service.renameProfile({ from, to })).ok).toBe(true);
    }

    // "a" is ben@ now: the session's turn goes as ben@, never on the socket ann@ opened.
    expect(await answeredBy('a')).toEqual({ status: 200, profile: 'a', seat: 'ben' });
    expect(await answeredBy('b')).toEqual({ status: 200, profile: 'b', seat: 'ann' });
    expect(overWebSocket()).toBe(3);
  });
});
