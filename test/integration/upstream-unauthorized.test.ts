/**
 * A 401 from the upstream to a freshly refreshed token (issue 9, item 5: transient is not
 * permanent). The refresh itself succeeded, so the issuer still holds the sign-in: the router
 * skips the profile for a moment, in memory only, and goes back to it by itself. Only the
 * issuer's permanent refresh codes mean "sign in again". The router soak found this: with access
 * tokens expiring under load, a second expiry inside one retry marked accounts as needing a new
 * sign-in for good.
 */
import { readFile, rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { labPaths } from '../../core/home/paths.ts';
import { systemClock, type Clock } from '../../core/ports.ts';
import type { LabService } from '../../core/service/lab-service.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { makeTempHome } from '../helpers/cli.ts';
import {
  codexTurnBody,
  createTestLabService,
  postToRouter,
  signInProfiles,
} from '../helpers/lab-service.ts';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.reverse()) await close();
  cleanup = [];
});

/** The real clock moved forward by `offset` ms (timers still real: nothing here waits on them). */
const offset = { ms: 0 };
const clock: Clock = {
  now: () => systemClock.now() + offset.ms,
  setTimeout: (callback, delayMs) => systemClock.setTimeout(callback, delayMs),
};

async function startRouter(): Promise<{
  fake: FakeChatGpt;
  service: LabService;
  url: string;
  token: string;
  healthFile: string;
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
  return { fake, service, url, token, healthFile: paths.health };
}

describe('the upstream rejects a freshly refreshed token', () => {
  it('falls over, never marks the profile as needing a sign-in, and goes back to it by itself', async () => {
    const { fake, service, url, token, healthFile } = await startRouter();
    // The rejected token, then the fresh one: both answered 401.
    fake
      .account('ann@example.com')
      .failures.push({ kind: 'unauthorized' }, { kind: 'unauthorized' });
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
    offset.ms += 60_000;
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
});
