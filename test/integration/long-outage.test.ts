/**
 * A shared outage longer than the 10 s run rule: every account answers 503 while Codex retries a
 * session's turn for about 22 s. The run rule opens the session's account's circuit and sends a
 * retry to the other account, whose 503 shows the outage is shared; the session must stay on its
 * warm account (its prompt cache), and go on there once the upstream is back: a probe that failed
 * moves nothing.
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

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of cleanup.reverse()) await close();
  cleanup = [];
});

/** Pauses between Codex's retries of a failed turn (200 ms doubling, then 3.2 s), about 22 s. */
const codexRetryPausesMs = [200, 400, 800, 1_600, 3_200, 3_200, 3_200, 3_200, 3_200, 3_200];

const emails = ['ann@example.com', 'ben@example.com'];

describe.each(['off', 'on'] as const)(
  'every account answering 503 for more than 10 s (upstream WebSocket %s)',
  (webSocket) => {
    it('keeps the session on its account, and serves it there once the upstream is back', async () => {
      const fake = await startFakeChatGpt({
        accounts: emails.map((email) => ({ email, usagePerTurn: 0 })),
      });
      const home = await makeTempHome('codex-lab-long-outage-');
      const paths = labPaths(home);
      await signInProfiles(fake, paths, [
        ['ann@example.com', 'ann'],
        ['ben@example.com', 'ben'],
      ]);
      const time = offsetClock();
      const service = createTestLabService(fake, paths, {
        clock: time.clock,
        env: { CODEX_LAB_UPSTREAM_WEBSOCKET: webSocket },
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
      expect(await turn('s1')).toBe('ann:200');

      const outage = (on: boolean): void => {
        for (const email of emails) {
          fake.account(email).stickyFailure = on ? { kind: 'server_error', status: 503 } : null;
        }
      };
      outage(true);
      const attempts = [await turn('s1')];
      for (const pause of codexRetryPausesMs) {
        time.advance(pause);
        attempts.push(await turn('s1'));
      }
      // The run rule sent a retry to ben, whose 503 told that the outage is everyone's.
      expect(attempts).toContain('ben:503');
      // From then on the session's retries go to its own account again.
      expect(attempts.at(-1)).toBe('ann:503');

      outage(false);
      time.advance(3_200);
      expect(await turn('s1')).toBe('ann:200');
      const state = await service.getState();
      expect(state.sessions.find((session) => session.id === 's1')?.profile).toBe('ann');
      // No circuit stays open and no surface says the session moved.
      expect(state.profiles.map((profile) => profile.skippedUntil)).toEqual([undefined, undefined]);
      const moves = state.activity.filter((entry) => entry.message.startsWith('Moved s1'));
      expect(moves).toEqual([]);
    });
  },
);
