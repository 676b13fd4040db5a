/**
 * A profile's name is not its account: names move (rename) and are reused (remove, then a sign-in
 * of another account under the same name). What the router keeps per profile — sessions, the
 * request log and its journal, pins named by a running Codex, quota — must follow a rename and
 * must never be handed to another account. Real routers (LabService on loopback) against the fake
 * ChatGPT, restarted over the same home as `serve` is.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import type { AuthDotJson } from '../../core/profiles/schema.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import type { LabService } from '../../core/service/lab-service.ts';
import type { SessionView } from '../../core/view-types.ts';
import { handleBackendRequest } from '../fakes/fake-backend.ts';
import { startFakeChatGpt, type FakeChatGpt, type FakeHandler } from '../fakes/fake-chatgpt.ts';
import {
  accountForAccessToken,
  expireAccessTokens,
  handleIssuerRequest,
  issueAuthDotJson,
  refreshLog,
  refreshTokenIsValid,
} from '../fakes/fake-issuer.ts';
import { makeTempHome, runCodexLab } from '../helpers/cli.ts';
import {
  codexTurnBody,
  createTestLabService,
  postToRouter,
  routedTurn,
  signInProfiles,
  turnThroughRouter,
} from '../helpers/lab-service.ts';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.reverse()) await close();
  cleanup = [];
});

/** Answers of the sessions `hold` names wait until `release(session)`: a slow stream. */
function holdingHandler(): {
  handler: FakeHandler;
  hold: (session: string) => void;
  release: (session: string) => void;
  reached: (session: string) => Promise<void>;
} {
  const gates = new Map<
    string,
    { open: Promise<void>; release: () => void; reached: () => void }
  >();
  const arrivals = new Map<string, Promise<void>>();
  const marks = new Map<string, () => void>();
  return {
    handler: async (_fake, request, _response, body) => {
      if (!(request.url ?? '').endsWith('/codex/responses')) return false;
      const session = (JSON.parse(body.toString('utf8')) as { prompt_cache_key?: string })
        .prompt_cache_key;
      const gate = session === undefined ? undefined : gates.get(session);
      if (gate) {
        gate.reached();
        await gate.open;
      }
      return false;
    },
    hold: (session) => {
      let release = () => {};
      const open = new Promise<void>((resolve) => (release = resolve));
      arrivals.set(session, new Promise<void>((resolve) => marks.set(session, resolve)));
      gates.set(session, { open, release, reached: () => marks.get(session)?.() });
    },
    release: (session) => gates.get(session)?.release(),
    reached: (session) => arrivals.get(session) ?? Promise.resolve(),
  };
}

/** A started quota window `used` percent spent, resetting one window from now. */
function window(used: number, minutes: number) {
  const resetAt = Math.floor(Date.now() / 1000) + minutes * 60;
  return { usedPercent: used, windowMinutes: minutes, resetAt, unstarted: false };
}

/** A fake with `accounts` and a home with `profiles` signed in; routers are started by `start`. */
async function setUp(
  accounts: Array<{ email: string; primaryUsed?: number }>,
  profiles: ReadonlyArray<readonly [email: string, name: string]>,
  handlers: FakeHandler[] = [],
): Promise<{
  fake: FakeChatGpt;
  paths: LabPaths;
  home: string;
  start: () => Promise<{ service: LabService; url: string; token: string }>;
}> {
  const fake = await startFakeChatGpt({
    accounts: accounts.map(({ email, primaryUsed }) => ({
      email,
      usagePerTurn: 0,
      ...(primaryUsed === undefined
        ? {}
        : {
            primary: window(primaryUsed, 300),
            secondary: window(primaryUsed, 10080),
          }),
    })),
    handlers: [handleIssuerRequest, ...handlers, handleBackendRequest],
  });
  const home = await makeTempHome('codex-lab-identity-');
  const paths = labPaths(home);
  await signInProfiles(fake, paths, profiles);
  cleanup.push(async () => {
    await fake.close();
    await rm(home, { recursive: true, force: true });
  });
  return {
    fake,
    paths,
    home,
    start: async () => {
      const service = createTestLabService(fake, paths);
      const token = await service.routerToken();
      const { url } = await service.start({ port: 0 });
      let stopped = false;
      const stop = service.stop.bind(service);
      service.stop = async () => {
        if (stopped) return;
        stopped = true;
        await stop();
      };
      cleanup.push(() => service.stop());
      return { service, url, token };
    },
  };
}

describe('sessions of a removed profile after a restart', () => {
  it('are not brought back, and never go sticky to another account that takes the name', async () => {
    const lab = await setUp(
      [{ email: 'alice@example.com' }, { email: 'bob@example.com' }, { email: 'dave@example.com' }],
      [
        ['alice@example.com', 'alice'],
        ['bob@example.com', 'bob'],
      ],
    );
    const first = await lab.start();
    await first.service.setActive({ profile: 'alice' });
    expect(await routedTurn(first.url, first.token, 'sess-A')).toEqual({
      profile: 'alice',
      route: 'active',
    });
    await first.service.setActive({ profile: 'auto' });
    expect((await first.service.removeProfile({ profile: 'alice' })).ok).toBe(true);
    // Shown as the removed profile's, as its requests are, but no profile's to route by.
    const removedOnly = [['sess-A', 'alice (removed)']];
    const shown = async (lab: { service: { getState(): Promise<{ sessions: SessionView[] }> } }) =>
      (await lab.service.getState()).sessions.map((session) => [session.id, session.profile]);
    expect(await shown(first)).toEqual(removedOnly);
    await first.service.stop();

    // Restarted: the journal still holds alice's turn, but alice is gone.
    const second = await lab.start();
    expect(await shown(second)).toEqual(removedOnly);
    await second.service.stop();

    // Another account signs in under the old name while no router runs.
    await signInProfiles(lab.fake, lab.paths, [['dave@example.com', 'alice']]);
    const third = await lab.start();
    expect(await shown(third)).toEqual(removedOnly);
    const next = await routedTurn(third.url, third.token, 'sess-A');
    expect(next.route).not.toBe('sticky');
  });
});

describe('a router started while the registry does not read', () => {
  it('brings the sessions back once the file reads again, instead of taking every profile for removed', async () => {
    const lab = await setUp(
      [{ email: 'alice@example.com' }, { email: 'bob@example.com' }],
      [
        ['alice@example.com', 'alice'],
        ['bob@example.com', 'bob'],
      ],
    );
    const first = await lab.start();
    await first.service.setActive({ profile: 'bob' });
    expect((await routedTurn(first.url, first.token, 'sess-K')).profile).toBe('bob');
    await first.service.setActive({ profile: 'auto' });
    await first.service.stop();

    const good = await readFile(lab.paths.registry, 'utf8');
    await writeFile(lab.paths.registry, '{"version":1, broken', { mode: 0o600 });
    const second = await lab.start();
    expect((await second.service.getState()).sessions).toEqual([]);
    await writeFile(lab.paths.registry, good, { mode: 0o600 });
    // The router's file watcher reads it again within moments.
    const deadline = Date.now() + 10_000;
    let sessions = (await second.service.getState()).sessions;
    while (sessions.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      sessions = (await second.service.getState()).sessions;
    }
    expect(sessions.map((session) => [session.id, session.profile])).toEqual([['sess-K', 'bob']]);
    expect(await routedTurn(second.url, second.token, 'sess-K')).toEqual({
      profile: 'bob',
      route: 'sticky',
    });
  });
});

describe('a request in flight during a rename', () => {
  it('is logged under the new name, and its session stays on the renamed profile after a restart', async () => {
    const gate = holdingHandler();
    const lab = await setUp(
      [{ email: 'alice@example.com' }, { email: 'bob@example.com' }],
      [
        ['alice@example.com', 'alice'],
        ['bob@example.com', 'bob'],
      ],
      [gate.handler],
    );
    const first = await lab.start();
    await first.service.setActive({ profile: 'alice' });
    expect((await routedTurn(first.url, first.token, 'sess-R2')).profile).toBe('alice');
    gate.hold('sess-R2');
    const late = turnThroughRouter(first.url, first.token, 'sess-R2');
    await gate.reached('sess-R2');
    expect((await first.service.renameProfile({ from: 'alice', to: 'al' })).ok).toBe(true);
    gate.release('sess-R2');
    expect((await late).status).toBe(200);

    const state = await first.service.getState();
    expect(state.requests.map((request) => request.profile)).toEqual(['al', 'al']);
    expect(state.totals.today.profiles.map((total) => total.key)).toEqual(['al']);
    await first.service.stop();

    const second = await lab.start();
    expect((await second.service.getState()).sessions).toEqual([
      expect.objectContaining({ id: 'sess-R2', profile: 'al' }),
    ]);
    expect(await routedTurn(second.url, second.token, 'sess-R2')).toEqual({
      profile: 'al',
      route: 'sticky',
    });
  });
});

describe('a running Codex pinned to a profile that is renamed', () => {
  it('follows the rename for the router’s life, unless the name is taken again', async () => {
    const lab = await setUp(
      [
        { email: 'zed@example.com' },
        { email: 'bob@example.com' },
        { email: 'dave@example.com' },
        { email: 'ann@example.com' },
      ],
      [
        ['zed@example.com', 'zed'],
        ['bob@example.com', 'bob'],
        ['ann@example.com', 'ann'],
      ],
    );
    const router = await lab.start();
    const pinned = async (name: string) => {
      const answer = await turnThroughRouter(router.url, router.token, `sess-${name}`, {
        'x-codex-lab-profile': name,
      });
      return { status: answer.status, profile: answer.headers.get('x-codex-lab-profile') };
    };
    expect(await pinned('zed')).toEqual({ status: 200, profile: 'zed' });
    expect((await router.service.renameProfile({ from: 'zed', to: 'zoe' })).ok).toBe(true);
    expect(await pinned('zed')).toEqual({ status: 200, profile: 'zoe' });
    // Twice renamed: the pin follows the whole chain.
    expect((await router.service.renameProfile({ from: 'zoe', to: 'zara' })).ok).toBe(true);
    expect(await pinned('zed')).toEqual({ status: 200, profile: 'zara' });

    // A profile of that name exists again: the name is its own.
    await signInProfiles(lab.fake, lab.paths, [['dave@example.com', 'zed']]);
    await router.service.operations.profileSignedIn({ profile: 'zed' });
    expect(await pinned('zed')).toEqual({ status: 200, profile: 'zed' });

    // Renamed, then removed: nothing to follow, and the refusal says where the name went.
    expect((await router.service.renameProfile({ from: 'ann', to: 'amy' })).ok).toBe(true);
    expect((await router.service.removeProfile({ profile: 'amy' })).ok).toBe(true);
    const refused = await postToRouter(
      router.url,
      router.token,
      '/backend-api/codex/responses',
      codexTurnBody({ session: 'sess-ann' }),
      { 'x-codex-lab-profile': 'ann' },
    );
    expect(refused.status).toBe(400);
    // Said as Codex shows a refusal it must not retry: the sentence itself.
    expect(await refused.text()).toContain('The pinned profile "ann" was renamed to amy');
  });

  it('is told by rename that running Codex sessions pinned to the old name follow it', async () => {
    const lab = await setUp(
      [{ email: 'zed@example.com' }, { email: 'bob@example.com' }],
      [
        ['zed@example.com', 'zed'],
        ['bob@example.com', 'bob'],
      ],
    );
    // Found by the CLI as this home's router, as a running serve is.
    const { startRouterHost } = await import('../../core/service/router-host.ts');
    const service = createTestLabService(lab.fake, lab.paths);
    const hosted = await startRouterHost(service, { paths: lab.paths, port: 0, kind: 'serve' });
    cleanup.push(() => hosted.stop());
    const run = await runCodexLab(['rename', 'zed', 'zoe'], { home: lab.home });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('Renamed zed to zoe.');
    expect(run.stdout).toMatch(/running Codex sessions pinned to zed .*follow it/i);
  });
});

describe('a name reused after a remove', () => {
  it('does not inherit the removed account’s quota or history, even when the removal was completed by replay', async () => {
    const lab = await setUp(
      [
        { email: 'alice@example.com', primaryUsed: 40 },
        { email: 'bob@example.com', primaryUsed: 10 },
        { email: 'dave@example.com', primaryUsed: 3 },
      ],
      [
        ['alice@example.com', 'alice'],
        ['bob@example.com', 'bob'],
      ],
    );
    const first = await lab.start();
    expect((await first.service.refreshUsage({})).ok).toBe(true);
    const before = (await first.service.getState()).profiles.find((p) => p.name === 'alice');
    expect(before?.quota.primary?.usedPercent).toBe(40);
    await first.service.stop();

    // The removal's files half only (what a replay after a kill completes): quota.json is not
    // touched by it. Then another account signs in under the name.
    await new ProfileStore({ paths: lab.paths }).remove('alice');
    await signInProfiles(lab.fake, lab.paths, [['dave@example.com', 'alice']]);

    // Without a router: `list` shows nothing of the old account.
    const list = await runCodexLab(['list', '--json'], { home: lab.home });
    expect(list.code, list.stderr).toBe(0);
    const listed = JSON.parse(list.stdout) as Array<{
      name: string;
      history: unknown[];
      quota: { primary: unknown };
    }>;
    const offline = listed.find((p) => p.name === 'alice');
    expect(offline?.history).toEqual([]);
    expect(offline?.quota.primary).toBeNull();

    // A router shows nothing of it either, and drops it from the file.
    const second = await lab.start();
    const shown = (await second.service.getState()).profiles.find((p) => p.name === 'alice');
    expect(shown?.history).toEqual([]);
    expect(shown?.quota.primary).toBeNull();
    // Dave's own reading is his alone.
    expect((await second.service.refreshUsage({ profile: 'alice' })).ok).toBe(true);
    const read = (await second.service.getState()).profiles.find((p) => p.name === 'alice');
    expect(read?.quota.primary?.usedPercent).toBe(3);
    expect(read?.history.map((point) => point.primary)).toEqual([3]);
    await second.service.stop();
    const file = JSON.parse(await readFile(lab.paths.quota, 'utf8')) as {
      profiles: Record<string, { history: Array<{ primary: number }> }>;
    };
    expect(file.profiles['alice']?.history.map((point) => point.primary)).toEqual([3]);
  });
});

describe('a name reused while a router runs', () => {
  it('starts the new account with its own quota history, and drops the removed account’s from the file', async () => {
    const lab = await setUp(
      [
        { email: 'alice@example.com', primaryUsed: 40 },
        { email: 'bob@example.com', primaryUsed: 10 },
        { email: 'dave@example.com', primaryUsed: 3 },
      ],
      [
        ['alice@example.com', 'alice'],
        ['bob@example.com', 'bob'],
      ],
    );
    const router = await lab.start();
    expect((await router.service.refreshUsage({})).ok).toBe(true);
    // Removed behind the router's back (a replay, another program), then another account signs
    // in under the name and the router is told of the sign-in.
    await new ProfileStore({ paths: lab.paths }).remove('alice');
    await signInProfiles(lab.fake, lab.paths, [['dave@example.com', 'alice']]);
    // Any edit makes the router read the files again: the old account's figures go at once.
    expect((await router.service.setActive({ profile: 'bob' })).ok).toBe(true);
    const before = (await router.service.getState()).profiles.find((p) => p.name === 'alice');
    expect(before?.quota.primary).toBeNull();
    expect(before?.history).toEqual([]);
    expect((await router.service.operations.profileSignedIn({ profile: 'alice' })).ok).toBe(true);
    const shown = (await router.service.getState()).profiles.find((p) => p.name === 'alice');
    expect(shown?.quota.primary?.usedPercent).toBe(3);
    expect(shown?.history.map((point) => point.primary)).toEqual([3]);
    await router.service.stop();
    const file = JSON.parse(await readFile(lab.paths.quota, 'utf8')) as {
      profiles: Record<string, { history: Array<{ primary: number }> }>;
    };
    expect(file.profiles['alice']?.history.map((point) => point.primary)).toEqual([3]);
  });
});

describe('a rename made without the router’s word', () => {
  it('moves the session, the quota and a running Codex’s pin with the account', async () => {
    const lab = await setUp(
      [{ email: 'alice@example.com', primaryUsed: 40 }, { email: 'bob@example.com' }],
      [
        ['alice@example.com', 'alice'],
        ['bob@example.com', 'bob'],
      ],
    );
    const router = await lab.start();
    await router.service.setActive({ profile: 'alice' });
    expect((await routedTurn(router.url, router.token, 'sess-E')).profile).toBe('alice');
    expect((await router.service.refreshUsage({ profile: 'alice' })).ok).toBe(true);
    // The files' half of a rename only (what another program, or a replayed rename, does).
    await new ProfileStore({ paths: lab.paths }).rename('alice', 'al');
    expect((await router.service.setActive({ profile: 'bob' })).ok).toBe(true);
    const state = await router.service.getState();
    expect(state.sessions).toEqual([expect.objectContaining({ id: 'sess-E', profile: 'al' })]);
    expect(state.profiles.find((p) => p.name === 'al')?.quota.primary?.usedPercent).toBe(40);
    expect(await routedTurn(router.url, router.token, 'sess-E')).toEqual({
      profile: 'al',
      route: 'sticky',
    });
    const pinned = await turnThroughRouter(router.url, router.token, 'sess-F', {
      'x-codex-lab-profile': 'alice',
    });
    expect(pinned.headers.get('x-codex-lab-profile')).toBe('al');
  });
});

describe('a name that is another account now, while a router runs', () => {
  /** A lab with ann as alpha and ben as beta, and a started router that served both. */
  async function started() {
    const lab = await setUp(
      [{ email: 'ann@example.com' }, { email: 'ben@example.com' }, { email: 'cat@example.com' }],
      [
        ['ann@example.com', 'alpha'],
        ['ben@example.com', 'beta'],
      ],
    );
    const router = await lab.start();
    /** One turn pinned to `name` (as a running Codex pins it): its status and the account served. */
    const pinned = async (name: string) => {
      const answer = await turnThroughRouter(router.url, router.token, `sess-${name}`, {
        'x-codex-lab-profile': name,
      });
      const turn = lab.fake.requests.filter((r) => r.path.endsWith('/codex/responses')).at(-1);
      const bearer = String(turn?.headers['authorization'] ?? '').replace(/^Bearer /, '');
      return {
        status: answer.status,
        profile: answer.headers.get('x-codex-lab-profile'),
        account: accountForAccessToken(lab.fake, bearer)?.email ?? null,
      };
    };
    // The router has read both sign-ins (and would have remembered them by name).
    expect(await pinned('alpha')).toEqual({
      status: 200,
      profile: 'alpha',
      account: 'ann@example.com',
    });
    expect(await pinned('beta')).toEqual({
      status: 200,
      profile: 'beta',
      account: 'ben@example.com',
    });
    /** The tokens the profile's auth file holds now. */
    const held = async (name: string) =>
      (await new ProfileStore({ paths: lab.paths }).readAuth(name)).tokens!;
    /**
     * `email`'s access token expires at the issuer; the next turn pinned to `name` is served by
     * `email` after one refresh, whose rotated tokens are what the profile's file holds.
     */
    const refreshesAs = async (name: string, email: string) => {
      const before = await held(name);
      expireAccessTokens(lab.fake, email);
      const refreshes = refreshLog(lab.fake).length;
      expect(await pinned(name)).toEqual({ status: 200, profile: name, account: email });
      expect(refreshLog(lab.fake).length).toBe(refreshes + 1);
      const after = await held(name);
      expect(after.refresh_token).not.toBe(before.refresh_token);
      expect(refreshTokenIsValid(lab.fake, after.refresh_token)).toBe(true);
      expect(accountForAccessToken(lab.fake, after.access_token)?.email).toBe(email);
      const shown = (await router.service.getState()).profiles.find((p) => p.name === name);
      expect(shown?.status).toBe('ok');
    };
    return { lab, router, refreshesAs };
  }

  it('refreshes the account signed in under a renamed profile’s old name, and the renamed one', async () => {
    const { lab, router, refreshesAs } = await started();
    expect((await router.service.renameProfile({ from: 'alpha', to: 'work' })).ok).toBe(true);
    await signInProfiles(lab.fake, lab.paths, [['cat@example.com', 'alpha']]);
    expect((await router.service.operations.profileSignedIn({ profile: 'alpha' })).ok).toBe(true);
    await refreshesAs('alpha', 'cat@example.com');
    await refreshesAs('work', 'ann@example.com');
  });

  it('refreshes the account signed in under a removed profile’s name', async () => {
    const { lab, router, refreshesAs } = await started();
    expect((await router.service.removeProfile({ profile: 'alpha' })).ok).toBe(true);
    await signInProfiles(lab.fake, lab.paths, [['cat@example.com', 'alpha']]);
    expect((await router.service.operations.profileSignedIn({ profile: 'alpha' })).ok).toBe(true);
    await refreshesAs('alpha', 'cat@example.com');
  });

  it('refreshes both profiles after they swap names', async () => {
    const { router, refreshesAs } = await started();
    for (const [from, to] of [
      ['alpha', 'tmp'],
      ['beta', 'alpha'],
      ['tmp', 'beta'],
    ] as const) {
      expect((await router.service.renameProfile({ from, to })).ok).toBe(true);
    }
    await refreshesAs('alpha', 'ben@example.com');
    await refreshesAs('beta', 'ann@example.com');
  });

  it('refreshes both profiles after they swap names without the router’s word', async () => {
    const { lab, router, refreshesAs } = await started();
    // Another process swaps them (the files' half only): the router is not told.
    const store = new ProfileStore({ paths: lab.paths });
    await store.rename('alpha', 'tmp');
    await store.rename('beta', 'alpha');
    await store.rename('tmp', 'beta');
    // The router sees the change at its next look at the files (any edit makes it look now).
    expect((await router.service.setActive({ profile: 'auto' })).ok).toBe(true);
    await refreshesAs('alpha', 'ben@example.com');
    await refreshesAs('beta', 'ann@example.com');
  });

  it('still refuses to refresh an auth file that holds another account than its profile', async () => {
    const { lab, router } = await started();
    // Copied over by hand: the registry still says alpha is ann.
    await new ProfileStore({ paths: lab.paths }).writeAuth(
      'alpha',
      issueAuthDotJson(lab.fake, 'cat@example.com') as AuthDotJson,
    );
    // Whichever tokens the router uses next are refused upstream: it must refresh.
    expireAccessTokens(lab.fake, 'ann@example.com');
    expireAccessTokens(lab.fake, 'cat@example.com');
    const refreshes = refreshLog(lab.fake).length;
    const refused = await turnThroughRouter(router.url, router.token, 'sess-alpha', {
      'x-codex-lab-profile': 'alpha',
    });
    expect(refused.status).toBe(400);
    expect(refreshLog(lab.fake).length).toBe(refreshes);
    const shown = (await router.service.getState()).profiles.find((p) => p.name === 'alpha');
    expect(shown?.status).toBe('auth_error');
  });
});

describe('an auth file that holds another account, or none, while a router runs', () => {
  /** Waits (up to 5 s) until `check` holds: the router looks at auth files about once a second. */
  async function eventually(check: () => Promise<boolean>): Promise<void> {
    const until = Date.now() + 5_000;
    while (!(await check())) {
      if (Date.now() > until) throw new Error('the router did not see the change in 5 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** ann as alpha and ben as beta, both served once (their credentials now cached). */
  async function started() {
    const lab = await setUp(
      [{ email: 'ann@example.com' }, { email: 'ben@example.com' }, { email: 'cat@example.com' }],
      [
        ['ann@example.com', 'alpha'],
        ['ben@example.com', 'beta'],
      ],
    );
    const router = await lab.start();
    /** One turn (pinned to `name` when given): its status, the profile and the account served. */
    const turn = async (session: string, name?: string) => {
      const before = lab.fake.requests.length;
      const answer = await turnThroughRouter(
        router.url,
        router.token,
        session,
        name === undefined ? {} : { 'x-codex-lab-profile': name },
      );
      const sent = lab.fake.requests
        .slice(before)
        .filter((r) => r.path.endsWith('/codex/responses'))
        .at(-1);
      const bearer = String(sent?.headers['authorization'] ?? '').replace(/^Bearer /, '');
      return {
        status: answer.status,
        profile: answer.headers.get('x-codex-lab-profile'),
        account:
          sent === undefined ? null : (accountForAccessToken(lab.fake, bearer)?.email ?? null),
      };
    };
    expect((await turn('warm-alpha', 'alpha')).account).toBe('ann@example.com');
    expect((await turn('warm-beta', 'beta')).account).toBe('ben@example.com');
    const shown = async (name: string) =>
      (await router.service.getState()).profiles.find((p) => p.name === name);
    return { lab, router, turn, shown };
  }

  it('never uses tokens of another account, routes around the profile, and takes it back once the file is put right', async () => {
    const { lab, turn, shown } = await started();
    const file = lab.paths.profileAuth('alpha');
    const own = await readFile(file, 'utf8');
    // Copied over by hand: the registry still says alpha is ann.
    const copied = JSON.stringify(issueAuthDotJson(lab.fake, 'cat@example.com'));
    await writeFile(file, copied);
    await eventually(async () => (await shown('alpha'))?.status === 'auth_error');
    // The router's next look at the files (about a second after the turns that read them).
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect((await shown('alpha'))?.statusMessage).toBe(
      "alpha needs a new sign-in (its auth file holds cat@example.com's sign-in).",
    );
    const pinned = await turn('sess-pinned', 'alpha');
    expect(pinned.account).not.toBe('cat@example.com');
    expect(pinned.status).not.toBe(200);
    expect(await turn('sess-new')).toEqual({
      status: 200,
      profile: 'beta',
      account: 'ben@example.com',
    });
    // Nothing was written over the file.
    expect(await readFile(file, 'utf8')).toBe(copied);
    // Put right: alpha is served again without a sign-in.
    await writeFile(file, own);
    await eventually(async () => (await shown('alpha'))?.status !== 'auth_error');
    expect(await turn('sess-back', 'alpha')).toEqual({
      status: 200,
      profile: 'alpha',
      account: 'ann@example.com',
    });
  });

  it('stops using a profile whose auth file was deleted at its next file check, as the views say', async () => {
    const { lab, turn, shown } = await started();
    await rm(lab.paths.profileAuth('beta'));
    await eventually(async () => (await shown('beta'))?.status === 'auth_error');
    // The router's next look at the files (about a second after the turns that read them).
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const pinned = await turn('sess-gone', 'beta');
    expect(pinned.account).toBeNull();
    expect(pinned.status).not.toBe(200);
    for (const session of ['sess-a', 'sess-b', 'sess-c']) {
      expect((await turn(session)).account).toBe('ann@example.com');
    }
  });
});

describe('usage --refresh with no router, on an auth file that holds another account', () => {
  it('reads nothing as that profile, stores nothing under it, and says whose sign-in the file holds', async () => {
    const lab = await setUp(
      [{ email: 'ann@example.com' }, { email: 'ben@example.com', primaryUsed: 80 }],
      [
        ['ann@example.com', 'alpha'],
        ['ben@example.com', 'beta'],
      ],
    );
    const file = lab.paths.profileAuth('alpha');
    const own = await readFile(file, 'utf8');
    const copied = await readFile(lab.paths.profileAuth('beta'), 'utf8');
    await writeFile(file, copied);
    const env = {
      CODEX_LAB_CHATGPT_BASE_URL: lab.fake.backendUrl,
      CODEX_LAB_AUTH_ISSUER: lab.fake.issuerUrl,
    };
    const run = await runCodexLab(['usage', 'alpha', '--refresh'], { home: lab.home, env });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "alpha needs a new sign-in (its auth file holds ben@example.com's sign-in)",
    );
    expect(run.stderr).toContain('codex-lab login alpha');
    const quota = JSON.parse(await readFile(lab.paths.quota, 'utf8').catch(() => '{}')) as {
      profiles?: Record<string, unknown>;
    };
    expect(quota.profiles?.['alpha']).toBeUndefined();
    expect(await readFile(file, 'utf8')).toBe(copied);
    // Put right: alpha reads and lists as herself again, without a sign-in.
    await writeFile(file, own);
    const again = await runCodexLab(['usage', 'alpha', '--refresh'], { home: lab.home, env });
    expect(again.code, again.stderr).toBe(0);
    const list = await runCodexLab(['list', '--json'], { home: lab.home });
    expect(list.stdout).not.toContain('auth_error');
    expect(list.stdout).not.toContain('sign-in');
  });
});
