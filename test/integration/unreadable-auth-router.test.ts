/**
 * A profile's auth.json broken on disk while the router runs: a pinned turn is refused with a
 * plain 400 naming the file (Codex shows it and does not retry), never as an upstream failure or
 * a sign-in; nothing is marked in health.json, and once the file is put back the next turn goes
 * through (no pause outlives the fix).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expireAccessTokens } from '../fakes/fake-issuer.ts';
import {
  codexTurnBody,
  postToRouter,
  startTestRouter,
  type TestRouter,
} from '../helpers/lab-service.ts';

let router: TestRouter;
beforeEach(async () => {
  router = await startTestRouter({
    homePrefix: 'codex-lab-unreadable-auth-',
    accounts: [{ email: 'ann@example.com' }, { email: 'ben@example.com' }],
    profiles: [
      ['ann@example.com', 'ann'],
      ['ben@example.com', 'ben'],
    ],
  });
});
afterEach(() => router.close());

let turns = 0;

/** A turn pinned to ann, each in a session of its own (no upstream socket carried over). */
async function pinnedTurn() {
  turns += 1;
  const answer = await postToRouter(
    router.url,
    router.token,
    '/backend-api/codex/responses',
    codexTurnBody({ session: `unreadable-${turns}` }),
    { 'x-codex-lab-profile': 'ann' },
  );
  return {
    status: answer.status,
    error: answer.headers.get('x-codex-lab-error'),
    profile: answer.headers.get('x-codex-lab-profile'),
    text: await answer.text(),
  };
}

describe("a profile's auth.json that does not parse", () => {
  it('is named in a 400 to the pinned turn, and the turn after the file is back is served', async () => {
    const path = router.paths.profileAuth('ann');
    const good = await readFile(path, 'utf8');
    // A first turn, so the router holds ann's token; then it expires and the file breaks: the
    // refresh after the upstream's 401 is what finds the file broken.
    expect((await pinnedTurn()).status).toBe(200);
    expireAccessTokens(router.fake, 'ann@example.com');
    await writeFile(path, '{"auth_mode":"chatgpt","tokens":{');

    const refused = await pinnedTurn();
    expect(refused.status).toBe(400);
    expect(refused.error).toBe('corrupt_file');
    expect(refused.text).toContain(`${path} is not valid JSON`);
    expect(refused.text).not.toMatch(/failing upstream|failed on this request|sign-in|login/);
    // A second turn while it is still broken says the same (no pause in between).
    const again = await pinnedTurn();
    expect(again.status).toBe(400);
    expect(again.text).toContain(`${path} is not valid JSON`);
    const health = await readFile(router.paths.health, 'utf8').catch(() => '{}');
    expect(health).not.toContain('auth_error');
    expect(await readFile(path, 'utf8')).toBe('{"auth_mode":"chatgpt","tokens":{');

    await writeFile(path, good);
    const served = await pinnedTurn();
    expect(served.status).toBe(200);
    expect(served.profile).toBe('ann');
  });
});
