/**
 * LabService against the fake ChatGPT: rename and remove carry a profile's quota, priming
 * outcomes, claims, live sessions and pins with it (other profiles untouched), and the priming
 * timer's attempts reach the activity log and `ProfileView.primingLast`.
 */
import { realpathSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withCliFix } from '../../core/format.ts';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import { recordPrimingOutcome } from '../../core/priming/scheduler.ts';
import type { LabService } from '../../core/service/lab-service.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { makeTempHome } from '../helpers/cli.ts';
import { unstartedWeekly } from '../helpers/fake-windows.ts';
import { codexTurnBody, createTestLabService, postToRouter } from '../helpers/lab-service.ts';
import { seedProfiles } from '../helpers/seed-profiles.ts';
import { fireUntil } from '../helpers/service-timers.ts';
import { FakeClock } from '../unit/priming/fake-clock.ts';

let fake: FakeChatGpt;
let home: string;
let paths: LabPaths;
let service: LabService | null = null;

beforeEach(async () => {
  fake = await startFakeChatGpt();
  home = await makeTempHome('codex-lab-service-');
  paths = labPaths(home);
});

afterEach(async () => {
  await service?.stop();
  service = null;
  await fake.close();
  await rm(home, { recursive: true, force: true });
});

async function startService(env: Record<string, string> = {}): Promise<{ url: string }> {
  service = createTestLabService(fake, paths, { env });
  return service.start({ port: 0 });
}

async function turn(url: string, session: string, profile: string): Promise<void> {
  const token = await service!.routerToken();
  const answer = await postToRouter(
    url,
    token,
    '/backend-api/codex/responses',
    codexTurnBody({ instructions: 'x' }),
    { 'x-codex-lab-profile': profile, session_id: session },
  );
  expect(answer.headers.get('x-codex-lab-profile')).toBe(profile);
  await answer.text();
}

/** A state file, parsed (loosely typed, for assertions). */
async function json(path: string) {
  return JSON.parse(await readFile(path, 'utf8'));
}

describe('rename and remove through LabService', () => {
  it('move, then forget, a profile’s quota, priming, claims, sessions and pins', async () => {
    fake.addAccount({ email: 'alpha@example.com' });
    fake.addAccount({ email: 'beta@example.com' });
    await seedProfiles(fake, home, [
      { name: 'alpha', email: 'alpha@example.com' },
      { name: 'beta', email: 'beta@example.com' },
    ]);
    const { url } = await startService();
    const api = service!;
    await turn(url, 'session-a', 'alpha');
    await turn(url, 'session-b', 'beta');
    expect((await api.refreshUsage({ profile: null })).ok).toBe(true);
    expect(
      (
        await api.pinSession({
          sessionId: '0199aabb-0000-7000-8000-000000000010',
          profile: 'alpha',
        })
      ).ok,
    ).toBe(true);
    // A repository folder (inside the home, which the test removes): a pin must name one.
    const repo = join(home, 'repo-a');
    await mkdir(join(repo, '.git'), { recursive: true });
    expect((await api.pinRepo({ path: repo, profile: 'alpha' })).ok).toBe(true);
    expect(
      (await api.pinSession({ sessionId: '0199aabb-0000-7000-8000-000000000011', profile: 'beta' }))
        .ok,
    ).toBe(true);
    for (const name of ['alpha', 'beta']) {
      await recordPrimingOutcome(paths, name, {
        at: Date.now(),
        window: 'weekly',
        outcome: 'confirmed',
        message: `${name} started`,
      });
    }
    await mkdir(paths.primingClaimsDir, { recursive: true });
    await writeFile(
      join(paths.primingClaimsDir, 'alpha--weekly--1000.json'),
      JSON.stringify({
        version: 1,
        profile: 'alpha',
        window: 'weekly',
        slot: 1000,
        owner: 'test',
        state: 'confirmed',
        attempts: 1,
        claimedAt: 1,
        lastAttemptAt: 1,
        nextAttemptAt: null,
        message: 'started',
      }),
    );
    const betaQuota = (await json(paths.quota)).profiles.beta;
    const betaPriming = (await json(paths.priming)).profiles.beta;

    expect(await api.renameProfile({ from: 'alpha', to: 'gamma' })).toEqual({
      ok: true,
      value: null,
    });
    let quota = await json(paths.quota);
    expect(Object.keys(quota.profiles).sort()).toEqual(['beta', 'gamma']);
    expect(quota.profiles.beta).toEqual(betaQuota);
    expect(quota.profiles.gamma.latest.secondary.usedPercent).toBe(
      fake.account('alpha@example.com').secondary!.usedPercent,
    );
    let priming = await json(paths.priming);
    expect(Object.keys(priming.profiles).sort()).toEqual(['beta', 'gamma']);
    expect(priming.profiles.beta).toEqual(betaPriming);
    expect(priming.profiles.gamma.last.message).toBe('alpha started');
    const claims = await readdir(paths.primingClaimsDir).catch(() => [] as string[]);
    expect(claims.filter((name) => name.startsWith('alpha--'))).toEqual([]);
    expect(claims).toContain('gamma--weekly--1000.json');
    let registry = await json(paths.registry);
    expect(registry.pins.sessions['0199aabb-0000-7000-8000-000000000010'].profile).toBe('gamma');
    expect(registry.pins.repos[realpathSync(repo)].profile).toBe('gamma');
    expect(registry.pins.sessions['0199aabb-0000-7000-8000-000000000011'].profile).toBe('beta');
    let state = await api.getState();
    expect(state.sessions.find((s) => s.id === 'session-a')?.profile).toBe('gamma');
    expect(state.sessions.find((s) => s.id === 'session-b')?.profile).toBe('beta');
    const gamma = state.profiles.find((view) => view.name === 'gamma')!;
    expect(gamma.quota.secondary).not.toBeNull();
    expect(gamma.primingLast?.message).toBe('alpha started');

    expect(await api.removeProfile({ profile: 'gamma' })).toEqual({ ok: true, value: null });
    await api.stop();
    quota = await json(paths.quota);
    expect(Object.keys(quota.profiles)).toEqual(['beta']);
    expect(quota.profiles.beta.latest).toEqual(betaQuota.latest);
    priming = await json(paths.priming);
    expect(Object.keys(priming.profiles)).toEqual(['beta']);
    registry = await json(paths.registry);
    expect(Object.keys(registry.pins.sessions)).toEqual(['0199aabb-0000-7000-8000-000000000011']);
    expect(registry.pins.repos).toEqual({});
    state = await api.getState();
    expect(state.profiles.map((view) => view.name)).toEqual(['beta']);
    // Its sessions stay in sight under its removed name, as its requests do.
    expect(state.sessions.map((s) => [s.id, s.profile])).toEqual([
      ['session-b', 'beta'],
      ['session-a', 'gamma (removed)'],
    ]);
    const claimsAfter = await readdir(paths.primingClaimsDir).catch(() => [] as string[]);
    expect(claimsAfter.filter((name) => /^(alpha|gamma)--/.test(name))).toEqual([]);
  });
});

describe('priming timer through LabService', () => {
  it('shows attempts in the activity log and primingLast, and skips a profile serving a session', async () => {
    fake.addAccount({
      email: 'alpha@example.com',
      primary: null,
      secondary: unstartedWeekly(fake.nowSeconds()),
    });
    fake.addAccount({
      email: 'beta@example.com',
      primary: null,
      secondary: unstartedWeekly(fake.nowSeconds()),
    });
    await seedProfiles(fake, home, [
      { name: 'alpha', email: 'alpha@example.com' },
      { name: 'beta', email: 'beta@example.com' },
    ]);
    const registry = await json(paths.registry);
    for (const profile of registry.profiles as unknown as Array<{ priming: { enabled: boolean } }>)
      profile.priming.enabled = true;
    await writeFile(paths.registry, JSON.stringify(registry), { mode: 0o600 });

    // The service runs on an injected clock the fake ChatGPT follows: the test fires the
    // priming timer's 6 s polls itself instead of sleeping through them.
    const clock = new FakeClock(fake.nowSeconds() * 1000);
    fake.setNow(clock.now() / 1000);
    clock.onChange = (now) => fake.setNow(Math.floor(now / 1000));
    service = createTestLabService(fake, paths, {
      env: { CODEX_LAB_PRIMING_POLL_MS: '6000' },
      clock,
    });
    const { url } = await service.start({ port: 0 });
    // beta serves a live session; its window is idle again afterwards, as far as the fake says.
    await turn(url, 'live-b', 'beta');
    const servedAt = clock.now();
    fake.account('beta@example.com').secondary = unstartedWeekly(fake.nowSeconds());
    const betaAccount = fake.account('beta@example.com').accountId;
    const primedProfile = async (name: string) =>
      (await service!.getState()).profiles.find((view) => view.name === name)?.primingLast
        ?.outcome === 'primed';

    // Two looks more than 5 s apart, the prime up to one period after them, a fresh look first.
    await fireUntil(clock, service!, () => primedProfile('alpha'));
    expect(await primedProfile('alpha')).toBe(true);
    const state = await service!.getState();
    const lines = state.activity.filter((entry) => entry.kind === 'prime');
    expect(
      lines.some((entry) => entry.profile === 'alpha' && /sent a priming turn/.test(entry.message)),
    ).toBe(true);
    for (const entry of lines) {
      expect(entry.message).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
      expect(entry.message).toMatch(/\.$/);
    }
    // Looks every 6 s for the rest of beta's live session (5 minutes from its turn) still send it
    // nothing, not even a usage read: its live session starts its window anyway.
    const looks = () =>
      fake.requests.filter(
        (request) =>
          request.path === '/backend-api/wham/usage' &&
          request.headers['chatgpt-account-id'] === betaAccount,
      ).length;
    const betaPrimes = () =>
      fake.requests.filter(
        (request) =>
          request.path === '/backend-api/codex/responses' &&
          request.headers['chatgpt-account-id'] === betaAccount &&
          !request.body.includes('"instructions"'),
      );
    const before = looks();
    const liveUntil = servedAt + 5 * 60_000;
    await fireUntil(clock, service!, () => clock.now() >= liveUntil - 6_000, 200, 0);
    // Dozens of polls passed (the limit above did not cut them short): each could have looked.
    expect(clock.now()).toBeGreaterThan(servedAt + 4 * 60_000);
    expect(looks()).toBe(before);
    expect(betaPrimes()).toEqual([]);
    // Once the session is no longer live, beta's idle window is primed like alpha's: the skip
    // above was the live session's doing. (A request is recorded as it arrives, and the turn was
    // awaited: nothing trails it.)
    await fireUntil(clock, service!, () => betaPrimes().length > 0, 100, 0);
    expect(looks()).toBeGreaterThan(before);
    expect(betaPrimes()).toHaveLength(1);
    expect(clock.now()).toBeGreaterThanOrEqual(liveUntil);
  }, 120_000);
});

describe('profile folders the registry does not list', () => {
  it('are named in the state’s problems, with how to list each again', async () => {
    fake.addAccount({ email: 'alpha@example.com' });
    fake.addAccount({ email: 'beta@example.com' });
    await seedProfiles(fake, home, [
      { name: 'alpha', email: 'alpha@example.com' },
      { name: 'beta', email: 'beta@example.com' },
    ]);
    const registry = await json(paths.registry);
    registry.profiles = registry.profiles.filter((p: { name: string }) => p.name !== 'alpha');
    await writeFile(paths.registry, JSON.stringify(registry), { mode: 0o600 });
    service = createTestLabService(fake, paths);
    const state = await service.getState();
    expect(state.profiles.map((p) => p.name)).toEqual(['beta']);
    expect(state.problems).toEqual([
      {
        code: 'unlisted_profile',
        message: `${paths.profileDir('alpha')} holds the sign-in of alpha@example.com, but auth-profiles.json does not list it.`,
        // Each surface words the cure: the dashboard's Add account with the name filled, the
        // command line its command.
        fix: { action: 'add_account', name: 'alpha', email: 'alpha@example.com' },
      },
    ]);
    expect(withCliFix(state.problems[0]!.message, state.problems[0]!.fix)).toBe(
      `${paths.profileDir('alpha')} holds the sign-in of alpha@example.com, but auth-profiles.json does not list it: to list it again, run \`codex-lab login alpha\` and sign in as alpha@example.com.`,
    );
  });
});
