/**
 * The per-request log through the real router and the fake ChatGPT: a fallback lists both
 * profiles and the token counts the fake sent; a refused request is logged and shows in the
 * activity log; the activity, decision and request logs survive a restart (state/activity.jsonl);
 * `GET /lab/v1/requests` filters by run, and `RemoteLab` reads it so.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteLab } from '../../core/service/remote-lab.ts';
import { createTestLabService, codexTurnBody, postToRouter } from '../helpers/lab-service.ts';
import { startTestRouter, type TestRouter } from '../helpers/lab-service.ts';

let router: TestRouter;

beforeAll(async () => {
  router = await startTestRouter({
    homePrefix: 'codex-lab-requests-',
    accounts: [
      { email: 'work@example.com' },
      {
        email: 'team@example.com',
        usageTokens: { input: 1200, cached: 800, reasoning: 64 },
        reply: 'x'.repeat(40),
      },
    ],
    profiles: [
      ['work@example.com', 'work'],
      ['team@example.com', 'team'],
    ],
  });
});

afterAll(() => router.close());

const post = (body: unknown, headers: Record<string, string> = {}) =>
  postToRouter(router.url, router.token, '/backend-api/codex/responses', body, headers);

describe('per-request log', () => {
  it('records a fallback with both profiles, its reason, status, timings and the fake’s tokens', async () => {
    const { fake, service } = router;
    await service.setActive({ profile: 'work' });
    fake.account('work@example.com').failures.push({ kind: 'usage_limit', resetsInSeconds: 3600 });
    const moved = await post(codexTurnBody({ session: 'sess-fallback' }), {
      'x-codex-lab-run': 'run-1',
    });
    expect(moved.headers.get('x-codex-lab-route')).toBe('fallback');
    await moved.text();
    // The fake never sees the run header: it is ours.
    const seen = fake.requests.filter((r) => r.path === '/backend-api/codex/responses').at(-1)!;
    expect(seen.headers['x-codex-lab-run']).toBeUndefined();

    const [request] = (await service.getRequests({ runId: 'run-1' })) as Awaited<
      ReturnType<typeof service.getRequests>
    >;
    expect(request).toMatchObject({
      sessionId: 'sess-fallback',
      runId: 'run-1',
      profile: 'team',
      route: 'fallback',
      model: 'gpt-5.5',
      kind: 'responses',
      status: 200,
      tokens: { input: 1200, cached: 800, output: 10, reasoning: 64 },
      fallback: [{ profile: 'work', reason: 'usage_limit_reached' }],
    });
    expect(request!.ttfbMs).toBeGreaterThanOrEqual(0);
    expect(request!.durationMs).toBeGreaterThanOrEqual(request!.ttfbMs!);

    const state = await service.getState();
    expect(state.requests.at(-1)).toMatchObject({ id: request!.id, profile: 'team' });
    expect(state.totals.today.profiles).toContainEqual({
      key: 'team',
      requests: 1,
      input: 1200,
      output: 10,
      cached: 800,
    });
    expect(state.totals.week.sessions).toContainEqual(
      expect.objectContaining({ key: 'sess-fallback', requests: 1 }),
    );

    // The control API answers the same, filtered by run.
    const answer = await fetch(`${router.url}/lab/v1/requests?run=run-1`, {
      headers: { authorization: `Bearer ${router.token}` },
    });
    expect(await answer.json()).toEqual([request]);
    // And so does the one client every command talks to the router through.
    const remote = new RemoteLab({ url: router.url, token: router.token });
    expect(await remote.getRequests({ runId: 'run-1' }, { timeoutMs: 3000 })).toEqual([request]);
    expect(await remote.getRequests({ runId: 'no-such-run' })).toEqual([]);
  });

  it('logs a refused request (every profile limited) in the request and activity logs', async () => {
    const { fake, service } = router;
    for (const email of ['work@example.com', 'team@example.com']) {
      fake.account(email).failures.push({ kind: 'usage_limit', resetsInSeconds: 7200 });
    }
    await service.setActive({ profile: 'auto' });
    // team is the only eligible one now (work was marked limited above); it fails too.
    const refused = await post(codexTurnBody({ session: 'sess-refused' }));
    expect(refused.status).toBe(429);
    await refused.text();
    const again = await post(codexTurnBody({ session: 'sess-refused-2' }));
    expect(again.status).toBe(429);
    await again.text();
    const requests = await service.getRequests({ sessionId: 'sess-refused-2' });
    expect(requests).toEqual([
      expect.objectContaining({ profile: null, route: null, status: 429, tokens: null }),
    ]);
    const state = await service.getState();
    const refusal = state.activity.filter((entry) => entry.kind === 'refused').at(-1);
    expect(refusal?.message).toMatch(/^Refused session sess-refused-2 \(429 usage_limit_reached\)/);
  });

  it('the activity, decision and request logs survive a restart from state/activity.jsonl', async () => {
    const { service, paths, fake } = router;
    const before = await service.getState();
    await service.stop();
    const lines = (await readFile(paths.activity, 'utf8')).trim().split('\n');
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.every((line) => typeof JSON.parse(line).type === 'string')).toBe(true);
    expect(lines.join('\n')).not.toContain(router.token);

    const reborn = createTestLabService(fake, paths);
    try {
      await reborn.start({ port: 0 });
      const after = await reborn.getState();
      expect(after.activity.map((entry) => entry.message)).toEqual(
        before.activity.map((entry) => entry.message),
      );
      expect(after.decisions).toEqual(before.decisions);
      expect(after.requests).toEqual(before.requests);
      // New entries continue the numbering.
      await reborn.setActive({ profile: 'auto' });
      const newest = (await reborn.getState()).activity.at(-1)!;
      expect(newest.id).toBeGreaterThan(before.activity.at(-1)!.id);
    } finally {
      await reborn.stop();
      // The suite's router is stopped; let afterAll's stop be a no-op on a fresh service.
      router.service = createTestLabService(fake, paths);
    }
  });
});
