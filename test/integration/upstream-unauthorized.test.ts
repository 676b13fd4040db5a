/**
 * A 401 from the upstream to a freshly refreshed token (issue 9, item 5: transient is not
 * permanent). The refresh itself succeeded, so the issuer still holds the sign-in: the router
 * skips the profile for a moment, in memory only, and goes back to it by itself. Only the
 * issuer's permanent refresh codes mean "sign in again". The router soak found this: with access
 * tokens expiring under load, a second expiry inside one retry marked accounts as needing a new
 * sign-in for good.
 */
import { readFile, rm } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TokenManager } from '../../core/auth/token-manager.ts';
import { labPaths, type LabPaths } from '../../core/home/paths.ts';
import { silentLogger, systemClock } from '../../core/ports.ts';
import { ProfileStore } from '../../core/profiles/store.ts';
import type { LabService } from '../../core/service/lab-service.ts';
import { HealthStore } from '../../core/state/health-store.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { expireAccessTokens, refreshLog } from '../fakes/fake-issuer.ts';
import { makeTempHome } from '../helpers/cli.ts';
import {
  codexTurnBody,
  createTestLabService,
  postToRouter,
  signInProfiles,
} from '../helpers/lab-service.ts';
import { offsetClock } from '../helpers/offset-clock.ts';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.reverse()) await close();
  cleanup = [];
});

/** The real clock, moved forward by the test (timers still real: nothing here waits on them). */
const time = offsetClock();
const clock = time.clock;

async function startRouter(): Promise<{
  fake: FakeChatGpt;
  service: LabService;
  url: string;
  token: string;
  healthFile: string;
  paths: LabPaths;
}> {
  const fake = await startFakeChatGpt({
    accounts: [
      { email: 'ann@example.com', usagePerTurn: 0 },
      { email: 'ben@example.com', usagePerTurn: 0 },
    ],
  });
  const home = await makeTempHome('codex-lab-401-');
  const paths = labPaths(home);
  await signInProfiles(fake, paths, [
    ['ann@example.com', 'ann'],
    ['ben@example.com', 'ben'],
  ]);
  const service = createTestLabService(fake, paths, { clock });
  const token = await service.routerToken();
  const { url } = await service.start({ port: 0 });
  cleanup.push(async () => {
    await service.stop();
    await fake.close();
    await rm(home, { recursive: true, force: true });
  });
  return { fake, service, url, token, healthFile: paths.health, paths };
}

describe('the upstream rejects a freshly refreshed token', () => {
  it('falls over, never marks the profile as needing a sign-in, and goes back to it by itself', async () => {
    const { fake, service, url, token, healthFile } = await startRouter();
    // The rejected token, then each fresh one the request gets (two refreshes): all answered 401.
    fake
      .account('ann@example.com')
      .failures.push({ kind: 'unauthorized' }, { kind: 'unauthorized' }, { kind: 'unauthorized' });
    const first = await postToRouter(
      url,
      token,
      '/backend-api/codex/responses',
      {
        ...codexTurnBody({ session: 's1' }),
      },
      { 'x-codex-lab-profile': 'ann' },
    );
    await first.text();
    const status = async (name: string) =>
      (await service.getState()).profiles.find((profile) => profile.name === name)?.status;
    expect(await status('ann')).not.toBe('auth_error');
    const persisted = await readFile(healthFile, 'utf8').catch(() => '{}');
    expect(persisted).not.toContain('auth_error');

    // A moment later ann takes turns again, with the token the refresh gave it.
    time.advance(60_000);
    const later = await postToRouter(
      url,
      token,
      '/backend-api/codex/responses',
      {
        ...codexTurnBody({ session: 's2' }),
      },
      { 'x-codex-lab-profile': 'ann' },
    );
    expect(later.status).toBe(200);
    expect(later.headers.get('x-codex-lab-profile')).toBe('ann');
    expect(await later.text()).toContain('response.completed');
  });

  it('shows an account the upstream keeps rejecting with fresh tokens as needing a sign-in, after growing pauses', async () => {
    const { fake, service, url, token, healthFile } = await startRouter();
    const ann = fake.account('ann@example.com');
    // Every token ann presents is refused, however fresh: an account that lost access.
    ann.stickyFailure = { kind: 'unauthorized' };
    const status = async () =>
      (await service.getState()).profiles.find((profile) => profile.name === 'ann');
    const turnOnAnn = async (session: string) => {
      const answer = await postToRouter(
        url,
        token,
        '/backend-api/codex/responses',
        codexTurnBody({ session }),
        { 'x-codex-lab-profile': 'ann' },
      );
      await answer.text();
      return answer;
    };
    // Only ann's tokens are refreshed here (ben takes no turn).
    const refreshes = () => refreshLog(fake);

    await turnOnAnn('r1');
    expect((await status())?.status).not.toBe('auth_error');
    const afterFirst = refreshes().length;
    // Within the first pause (5 s) ann is skipped: no request, no token rotated.
    time.advance(4_000);
    await turnOnAnn('r2');
    expect(refreshes().length).toBe(afterFirst);
    // After it, tried again and rejected again: a longer pause (20 s) follows.
    time.advance(2_000);
    await turnOnAnn('r3');
    expect((await status())?.status).not.toBe('auth_error');
    const afterSecond = refreshes().length;
    expect(afterSecond).toBeGreaterThan(afterFirst);
    time.advance(15_000);
    await turnOnAnn('r4');
    expect(refreshes().length).toBe(afterSecond);
    // The third rejection in a row: the user sees it; how to fix it is each surface's to say.
    time.advance(10_000);
    await turnOnAnn('r5');
    const shown = await status();
    expect(shown?.status).toBe('auth_error');
    expect(shown?.statusMessage).toContain('ann 3 times in a row');
    expect(shown?.statusMessage).not.toContain('codex-lab');
    // Persisted, so it survives a restart (the write runs after the answer).
    await vi.waitFor(async () =>
      expect(await readFile(healthFile, 'utf8').catch(() => '')).toContain('auth_error'),
    );
  });

  it('forgets earlier rejections once the account answers again', async () => {
    const { fake, service, url, token } = await startRouter();
    const ann = fake.account('ann@example.com');
    for (let round = 0; round < 4; round += 1) {
      // Rejected three times (the token and both fresh successors), then served.
      ann.failures.push(
        { kind: 'unauthorized' },
        { kind: 'unauthorized' },
        { kind: 'unauthorized' },
      );
      time.advance(60_000);
      const rejected = await postToRouter(
        url,
        token,
        '/backend-api/codex/responses',
        codexTurnBody({ session: `f${round}` }),
        { 'x-codex-lab-profile': 'ann' },
      );
      await rejected.text();
      time.advance(60_000);
      const served = await postToRouter(
        url,
        token,
        '/backend-api/codex/responses',
        codexTurnBody({ session: `g${round}` }),
        { 'x-codex-lab-profile': 'ann' },
      );
      expect(served.headers.get('x-codex-lab-profile')).toBe('ann');
      await served.text();
    }
    const ann2 = (await service.getState()).profiles.find((profile) => profile.name === 'ann');
    expect(ann2?.status).not.toBe('auth_error');
  });

  it('refreshes again when the first refresh hands back a token already rejected, and counts no rejection', async () => {
    const { fake, service, url, token, paths } = await startRouter();
    const turnOnAnn = async (session: string) =>
      postToRouter(url, token, '/backend-api/codex/responses', codexTurnBody({ session }), {
        'x-codex-lab-profile': 'ann',
      });
    // The router holds ann's token in its short cache.
    await (await turnOnAnn('warm')).text();
    const store = new ProfileStore({ paths });
    const cached = (await store.readAuth('ann')).tokens!.access_token;
    // Another process (the CLI, say) refreshes ann meanwhile: the token on disk is newer than the
    // router's. Then the upstream stops taking either (they expired).
    const other = new TokenManager({
      paths,
      store,
      health: new HealthStore(paths),
      issuer: fake.issuerUrl,
      clock: systemClock,
      logger: silentLogger,
    });
    await other.refreshAfterUnauthorized('ann', cached);
    expireAccessTokens(fake, 'ann@example.com');
    const refreshesBefore = refreshLog(fake).length;

    // The cached token is refused; the refresh finds the newer one on disk and hands it back
    // (no refresh of its own), and that one is refused too; the second refresh mints one.
    const answer = await turnOnAnn('after');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-codex-lab-profile')).toBe('ann');
    expect(await answer.text()).toContain('response.completed');
    expect(refreshLog(fake).length).toBe(refreshesBefore + 1);
    const ann = (await service.getState()).profiles.find((profile) => profile.name === 'ann');
    expect(ann?.status).toBe('ok');
  });
});
