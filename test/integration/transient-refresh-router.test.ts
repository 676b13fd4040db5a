/**
 * A transient refresh failure through the router (issue 9, item 5): the issuer answers 503 while a
 * profile's access token has expired. Nothing is marked `auth_error` (in memory or in
 * health.json) and a pinned session is never told to sign in again; the profile is only skipped
 * for a moment (the backoff itself is tested in auth-refresh.test.ts).
 */
import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expireAccessTokens, scriptRefresh } from '../fakes/fake-issuer.ts';
import {
  codexTurnBody,
  postToRouter,
  startTestRouter,
  type TestRouter,
} from '../helpers/lab-service.ts';

let router: TestRouter;
beforeEach(async () => {
  router = await startTestRouter({
    homePrefix: 'codex-lab-transient-',
    accounts: [{ email: 'ann@example.com' }, { email: 'ben@example.com' }],
    profiles: [
      ['ann@example.com', 'ann'],
      ['ben@example.com', 'ben'],
    ],
  });
});
afterEach(() => router.close());

async function turn(headers: Record<string, string> = {}) {
  const answer = await postToRouter(
    router.url,
    router.token,
    '/backend-api/codex/responses',
    codexTurnBody({ session: 'transient' }),
    headers,
  );
  return {
    status: answer.status,
    profile: answer.headers.get('x-codex-lab-profile'),
    text: await answer.text(),
  };
}

describe('an issuer outage during a refresh', () => {
  it('never tells a pinned session to sign in again, and marks nothing', async () => {
    expireAccessTokens(router.fake, 'ann@example.com');
    scriptRefresh(router.fake, 'ann@example.com', { status: 503, body: { error: 'busy' } });
    const pinned = await turn({ 'x-codex-lab-profile': 'ann' });
    expect(pinned.status).not.toBe(403);
    expect(pinned.text).not.toMatch(/sign in again|codex-lab login/i);
    const state = await router.service.getState();
    expect(state.profiles.find((profile) => profile.name === 'ann')!.status).not.toBe('auth_error');
    const health = await readFile(router.paths.health, 'utf8').catch(() => '{}');
    expect(health).not.toContain('auth_error');
  });
});
