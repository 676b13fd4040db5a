/**
 * One account whose turns fail with 5xx while the others are healthy but idle: nothing else has
 * been tried, so the first failures look like a shared outage. Codex retries the turn for about
 * 25 s and then gives up; the router must find out within that time that the failure is the
 * account's and serve a retry from another account, instead of sending every retry (and every
 * new session) to the failing one.
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { makeTempHome } from '../helpers/cli.ts';
import {
  codexTurnBody,
  createTestLabService,
  postToRouter,
  signInProfiles,
} from '../helpers/lab-service.ts';
import { offsetClock } from '../helpers/offset-clock.ts';
import { labPaths } from '../../core/home/paths.ts';
import { formatStatus } from '../../core/format.ts';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.reverse()) await close();
  cleanup = [];
});

/**
 * Pauses between Codex's retries of a failed turn, about 16 s in all: 0.171 sent one turn 30
 * times over 25 s against an account answering 500 (its stream and request retries, 200 ms
 * doubling) before it gave up.
 */
const codexRetryPausesMs = [200, 400, 800, 1_600, 3_200, 3_200, 3_200, 3_200];

describe('one account failing with 5xx while the others are idle', () => {
  it('serves the turn from another account within Codex’s retries, and sends new sessions there', async () => {
    const fake = await startFakeChatGpt({
      accounts: [{ email: 'ann@example.com' }, { email: 'ben@example.com' }],
    });
    const home = await makeTempHome('codex-lab-one-failing-');
    const paths = labPaths(home);
    await signInProfiles(fake, paths, [
      ['ann@example.com', 'ann'],
      ['ben@example.com', 'ben'],
    ]);
    const time = offsetClock();
    const service = createTestLabService(fake, paths, {
      clock: time.clock,
      env: { CODEX_LAB_UPSTREAM_WEBSOCKET: 'off' },
    });
    const token = await service.routerToken();
    const { url } = await service.start({ port: 0 });
    cleanup.push(async () => {
      await service.stop();
      await fake.close();
      await rm(home, { recursive: true, force: true });
    });
    const turn = async (session: string) => {
      const answer = await postToRouter(
        url,
        token,
        '/backend-api/codex/responses',
        codexTurnBody({ session }),
      );
      await answer.text();
      return `${answer.headers.get('x-codex-lab-profile') ?? '-'}:${answer.status}`;
    };
    // A session that has worked on ann; then ann's turns fail for good.
    expect(await turn('s1')).toBe('ann:200');
    fake.account('ann@example.com').stickyFailure = { kind: 'server_error', status: 500 };

    const attempts = [await turn('s1')];
    for (const pause of codexRetryPausesMs) {
      if (attempts.at(-1)!.endsWith(':200')) break;
      time.advance(pause);
      attempts.push(await turn('s1'));
    }
    expect(attempts.at(-1)).toBe('ben:200');
    // A new session does not start on the failing account.
    expect(await turn('s2')).toBe('ben:200');

    // Every surface is drawn from the live state: it says ann is skipped, until when (the
    // breaker's own time), and that new sessions go to ben, as the router sends them.
    const state = await service.getState();
    const ann = state.profiles.find((profile) => profile.name === 'ann')!;
    expect(ann.status).toBe('ok');
    expect(ann.skippedUntil).toBeDefined();
    const until = Date.parse(ann.skippedUntil!);
    expect(until).toBeGreaterThan(time.clock.now());
    const words = formatStatus(ann.status, null, { now: time.clock.now() }, null, ann.skippedUntil);
    expect(words).toMatch(/^failing upstream, tried again in \d+s$/);
    expect(state.profiles.find((profile) => profile.name === 'ben')!.skippedUntil).toBeUndefined();
    expect(state.pool.next.profile).toBe('ben');
    expect(state.pool.eligible).toEqual(['ben']);

    // Once the router would try ann again, nothing says she is failing.
    time.advance(until - time.clock.now() + 1);
    const later = await service.getState();
    expect(later.profiles.find((profile) => profile.name === 'ann')!.skippedUntil).toBeUndefined();
    expect(later.pool.eligible).toEqual(['ann', 'ben']);
  });
});
