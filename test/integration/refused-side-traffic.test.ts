/**
 * A Codex run on a home with no profiles: its turn and its side traffic (`/models`,
 * `accounts/check`) are each refused and each keep their request row, but the activity log says
 * the refusal once, for the turn (`codex-lab codex` says "refused once" for it too).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noProfilesSentence } from '../../core/format.ts';
import {
  codexTurnBody,
  postToRouter,
  startTestRouter,
  type TestRouter,
} from '../helpers/lab-service.ts';

const session = '0199aabb-ccdd-7eef-8899-aabbccddeeff';
let router: TestRouter;

beforeAll(async () => {
  router = await startTestRouter({
    homePrefix: 'codex-lab-no-profiles-',
    accounts: [],
    profiles: [],
  });
});
afterAll(() => router.close());

describe('a run refused for having no profile', () => {
  it('says it once in the activity log, and keeps a request row for each request', async () => {
    const get = (path: string) =>
      fetch(`${router.url}/backend-api/${path}`, {
        headers: { authorization: `Bearer ${router.token}`, 'session-id': session },
      });
    for (const path of ['codex/models?client_version=0.171.0', 'wham/accounts/check']) {
      const answer = await get(path);
      expect(answer.ok, path).toBe(false);
      await answer.text();
    }
    const turn = await postToRouter(
      router.url,
      router.token,
      '/backend-api/codex/responses',
      codexTurnBody({ session }),
      { 'session-id': session },
    );
    expect(turn.ok).toBe(false);
    await turn.text();
    const state = await router.service.getState();
    expect(
      state.activity.filter((entry) => entry.kind === 'refused').map((entry) => entry.message),
    ).toEqual([
      `Refused session ${session} (${turn.status} no_eligible_profile): ${noProfilesSentence}`,
    ]);
    expect(await router.service.getRequests({ sessionId: session })).toHaveLength(3);
  });
});
