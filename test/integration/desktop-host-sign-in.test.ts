/**
 * Issue 8, done when, with the desktop app's host in place of `serve`: `pin` and `login` (a new
 * profile, and again for a profile that needs a sign-in) reach the host's subscribers within a
 * second, and the next routed request reflects them. The host is the pure `electron/lab-host.ts`
 * (no Electron here); the CLI runs as real child processes against the fake ChatGPT.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LabState } from '../../core/service/contract.ts';
import { createLabHost, type LabHost } from '../../electron/lab-host.ts';
import { expireAccessTokens, scriptRefresh, setNextLogin } from '../fakes/fake-issuer.ts';
import {
  killRunning,
  liveCli,
  loginEnv,
  startSignInFixture,
  type CliProcess,
  type SignInFixture,
} from '../helpers/auth-harness.ts';
import { runCodexLab } from '../helpers/cli.ts';
import { routedTurn } from '../helpers/lab-service.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';

let fixture: SignInFixture;
let host: LabHost;
let token: string;
const processes: CliProcess[] = [];
/** Every state the host delivered to its subscribers, with the time it arrived. */
const delivered: Array<{ at: number; state: LabState }> = [];
let unsubscribe = () => {};

function env(): Record<string, string> {
  return { ...loginEnv(fixture.home, fixture.fake), CODEX_LAB_LOG_LEVEL: 'error' };
}

/**
 * Fails unless a state delivered since `since` (when the command started: the host may deliver the
 * change before the command's process has exited) satisfies `check` within a second of now.
 */
async function expectLive(since: number, check: (state: LabState) => boolean): Promise<void> {
  const deadline = Date.now() + 1000;
  while (!delivered.some((entry) => entry.at >= since && check(entry.state))) {
    if (Date.now() > deadline) throw new Error('no matching state within 1 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Runs a CLI command; returns when it started. */
const { cli, login } = liveCli({ home: () => fixture.home.home, env, processes });

/** One routed turn of `session`: the profile and route it took. */
const route = (session: string) => routedTurn(host.routerOrigin(), token, session);

const profile = (state: LabState, name: string) => state.profiles.find((p) => p.name === name);

beforeEach(async () => {
  fixture = await startSignInFixture();
  await seedProfiles(fixture.fake, fixture.home.home, [
    { name: 'alice', email: 'alice@example.com' },
    { name: 'bob', email: 'bob@example.com' },
  ]);
  host = await createLabHost({ env: { ...env(), CODEX_LAB_PORT: '0' }, rendererDir: null });
  expect(host.mode()).toBe('hosting');
  token = (await runCodexLab(['token'], { home: fixture.home.home })).stdout.trim();
  delivered.length = 0;
  unsubscribe = host.lab.subscribe((state) => delivered.push({ at: Date.now(), state }));
});

afterEach(async () => {
  unsubscribe();
  killRunning(processes);
  await host.close();
  await fixture.close();
});

describe('CLI operations while the desktop host runs the router', () => {
  it('pin, a new login and a re-sign-in of an auth_error profile are live within a second', async () => {
    let since = await cli(['pin', 'alice', '--session', '0199aabb-0000-7000-8000-000000000010']);
    await expectLive(since, (state) =>
      state.activity.some(
        (entry) =>
          entry.message === 'Pinned session 0199aabb-0000-7000-8000-000000000010 to alice.',
      ),
    );
    expect(await route('0199aabb-0000-7000-8000-000000000010')).toEqual({
      profile: 'alice',
      route: 'pinned',
    });

    // A new account signs in while the app hosts the router: listed at once, quota already read.
    setNextLogin(fixture.fake, 'carol@example.com');
    since = await login(['carol']);
    await expectLive(since, (state) => profile(state, 'carol')?.quota.updatedAt != null);

    // bob's sign-in breaks (expired access token, dead refresh token), then bob signs in again.
    await cli(['pin', 'bob', '--session', '0199aabb-0000-7000-8000-000000000011']);
    expireAccessTokens(fixture.fake, 'bob@example.com');
    scriptRefresh(fixture.fake, 'bob@example.com', 'refresh_token_invalidated');
    expect((await route('0199aabb-0000-7000-8000-000000000011')).profile).not.toBe('bob');
    await expectLive(Date.now() - 5000, (state) => profile(state, 'bob')?.status === 'auth_error');
    setNextLogin(fixture.fake, 'bob@example.com');
    since = await login(['bob']);
    await expectLive(since, (state) => profile(state, 'bob')?.status === 'ok');
    expect(await route('0199aabb-0000-7000-8000-000000000011')).toEqual({
      profile: 'bob',
      route: 'pinned',
    });
  });
});
