/**
 * Issue 8, done when: with `codex-lab serve` running, every state-changing CLI command — `use`,
 * `pin`, `priming on`, `rename`, `remove`, `login` (new, and again for a profile that needs a
 * sign-in) and `usage --refresh` — is visible in `GET /lab/v1/state` and on `/lab/v1/events`
 * within a second, and the next routed request reflects it. Real processes: the fake ChatGPT, a
 * `serve` child and `codex-lab` children.
 */
import { request as httpRequest } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LabState } from '../../core/service/contract.ts';
import type { FakeChatGpt } from '../fakes/fake-chatgpt.ts';
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
import { startServe, stopServes, type ServeChild } from './cli-serve-helper.ts';

let fixture: SignInFixture;
let fake: FakeChatGpt;
let home: string;
let serve: ServeChild;
let token: string;
const children: ServeChild[] = [];
const processes: CliProcess[] = [];
/** Every state the event stream delivered, with the time it arrived. */
const events: Array<{ at: number; state: LabState }> = [];
let closeEvents = () => {};

function env(): Record<string, string> {
  return { ...loginEnv(fixture.home, fake), CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl };
}

/** Follows `/lab/v1/events` and records every state. */
function followEvents(): () => void {
  const request = httpRequest(
    `${serve.url}/lab/v1/events`,
    { headers: { authorization: `Bearer ${token}` } },
    (response) => {
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (data) events.push({ at: Date.now(), state: JSON.parse(data) as LabState });
        }
      });
    },
  );
  request.on('error', () => undefined);
  request.end();
  return () => request.destroy();
}

async function getState(): Promise<LabState> {
  const answer = await fetch(`${serve.url}/lab/v1/state`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(answer.status).toBe(200);
  return (await answer.json()) as LabState;
}

/**
 * Waits until both `GET /lab/v1/state` and an event that arrived after `since` satisfy `check`,
 * and fails when that takes longer than a second after the command returned.
 */
async function expectLive(since: number, check: (state: LabState) => boolean): Promise<void> {
  const deadline = Date.now() + 1000;
  let polled = false;
  let streamed = false;
  while (Date.now() <= deadline) {
    polled ||= check(await getState());
    streamed ||= events.some((event) => event.at >= since && check(event.state));
    if (polled && streamed) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  expect({ polled, streamed }).toEqual({ polled: true, streamed: true });
}

// Each resolves when the command started (the router may push the change on the event stream
// before the command's process has exited).
const { cli, login } = liveCli({ home: () => home, env, processes });

/** One routed turn of `session`: the profile and route it took. */
const route = (session: string) => routedTurn(serve.url, token, session);

const profile = (state: LabState, name: string) => state.profiles.find((p) => p.name === name);

beforeEach(async () => {
  fixture = await startSignInFixture();
  fake = fixture.fake;
  home = fixture.home.home;
  await seedProfiles(fake, home, [
    { name: 'alice', email: 'alice@example.com' },
    { name: 'bob', email: 'bob@example.com' },
  ]);
  serve = await startServe(home, {
    CODEX_LAB_CHATGPT_BASE_URL: fake.backendUrl,
    CODEX_LAB_AUTH_ISSUER: fake.issuerUrl,
  });
  children.push(serve);
  token = (await runCodexLab(['token'], { home })).stdout.trim();
  events.length = 0;
  closeEvents = followEvents();
});

afterEach(async () => {
  closeEvents();
  killRunning(processes);
  await stopServes(children);
  await fixture.close();
});

describe('CLI operations while serve runs', () => {
  it('use, pin, priming on, usage --refresh, rename and remove are live within a second', async () => {
    let since = await cli(['use', 'bob']);
    await expectLive(since, (state) => state.active === 'bob');
    expect(await route('s-active')).toEqual({ profile: 'bob', route: 'active' });

    since = await cli(['use', 'auto']);
    await expectLive(since, (state) => state.active === 'auto');

    since = await cli(['pin', 'alice', '--session', '0199aabb-0000-7000-8000-000000000010']);
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

    since = await cli(['priming', 'on', 'bob']);
    await expectLive(since, (state) => profile(state, 'bob')?.priming === true);

    since = await cli(['usage', '--refresh']);
    await expectLive(
      since,
      (state) =>
        state.profiles.every((p) => p.quota.updatedAt !== null) && state.activity.length > 0,
    );

    since = await cli(['rename', 'alice', 'work']);
    await expectLive(
      since,
      (state) => profile(state, 'work') !== undefined && profile(state, 'alice') === undefined,
    );
    // The pinned session follows its profile to the new name.
    expect(await route('0199aabb-0000-7000-8000-000000000010')).toEqual({
      profile: 'work',
      route: 'pinned',
    });

    since = await cli(['remove', 'work']);
    await expectLive(since, (state) => state.profiles.map((p) => p.name).join() === 'bob');
    expect((await route('s-after-remove')).profile).toBe('bob');
  });

  it('login adds a profile live with its quota, and a re-sign-in brings an auth_error profile back to routing', async () => {
    // A new account signs in while serve runs: listed at once, with its quota already read.
    setNextLogin(fake, 'carol@example.com');
    let since = await login(['carol']);
    await expectLive(
      since,
      (state) => profile(state, 'carol')?.quota.updatedAt !== null && !!profile(state, 'carol'),
    );

    // bob's sign-in breaks: its access token expires and its refresh token is dead.
    await cli(['pin', 'bob', '--session', '0199aabb-0000-7000-8000-000000000011']);
    expireAccessTokens(fake, 'bob@example.com');
    scriptRefresh(fake, 'bob@example.com', 'refresh_token_invalidated');
    const moved = await route('0199aabb-0000-7000-8000-000000000011');
    expect(moved.profile).not.toBe('bob');
    await expectLive(Date.now() - 5000, (state) => profile(state, 'bob')?.status === 'auth_error');

    // Signing in again to bob: healthy at once everywhere, and routed to again.
    setNextLogin(fake, 'bob@example.com');
    since = await login(['bob']);
    await expectLive(since, (state) => profile(state, 'bob')?.status === 'ok');
    expect(await route('0199aabb-0000-7000-8000-000000000011')).toEqual({
      profile: 'bob',
      route: 'pinned',
    });
    const listed = JSON.parse((await runCodexLab(['list', '--json'], { home })).stdout) as Array<{
      name: string;
      status: string;
    }>;
    expect(listed.find((p) => p.name === 'bob')?.status).toBe('ok');
  });
});
