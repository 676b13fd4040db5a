/**
 * A rename through a running router rewrites the name in a request's reason and no other word of
 * it: a profile called "limited" refused while limited keeps "is limited" in the sentence, in the
 * router's requests and in the journal `codex-lab log` reads (docs/activity.md, "Renames").
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCodexLab } from '../helpers/cli.ts';
import { startTestRouter, turnThroughRouter, type TestRouter } from '../helpers/lab-service.ts';

let router: TestRouter;

beforeAll(async () => {
  router = await startTestRouter({
    homePrefix: 'codex-lab-rename-reason-',
    accounts: [{ email: 'limited@example.com' }, { email: 'ready@example.com' }],
    profiles: [
      ['limited@example.com', 'limited'],
      ['ready@example.com', 'ready'],
    ],
  });
});

afterAll(() => router.close());

describe('a rename of a profile named like a word of its requests’ reasons', () => {
  it('rewrites the name and leaves the word', async () => {
    router.fake.account('limited@example.com').stickyFailure = {
      kind: 'usage_limit',
      resetsInSeconds: 4000,
    };
    const pinned = { 'x-codex-lab-profile': 'limited' };
    // The upstream's own 429 first; then the router, knowing, refuses the pin by itself.
    expect((await turnThroughRouter(router.url, router.token, 'first', pinned)).status).toBe(429);
    expect((await turnThroughRouter(router.url, router.token, 'second', pinned)).status).toBe(429);
    const sentence = (name: string) =>
      new RegExp(`^Pinned by header to ${name}, which is limited until \\S+\\.$`);
    const refused = async () =>
      (await router.service.getRequests({})).find((request) => request.sessionId === 'second');
    expect((await refused())?.reason).toMatch(sentence('limited'));

    expect(await router.service.renameProfile({ from: 'limited', to: 'work' })).toEqual({
      ok: true,
      value: null,
    });
    expect((await refused())?.reason).toMatch(sentence('work'));
    // The journal, as `codex-lab log` reads it, says the same.
    await vi.waitFor(
      async () => {
        const run = await runCodexLab(['log', '--json'], { home: router.home });
        const lines = run.stdout.trim().split('\n').filter(Boolean);
        const logged = lines
          .map((line) => JSON.parse(line) as { sessionId: string; reason: string })
          .find((request) => request.sessionId === 'second');
        expect(logged?.reason).toMatch(sentence('work'));
      },
      { timeout: 5000 },
    );
  });
});
