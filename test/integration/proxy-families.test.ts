/**
 * Per-model limit families through LabService against the fake ChatGPT: a 429 that names a
 * non-default active limit (`x-codex-active-limit`, e.g. a Spark model's own quota) marks only
 * that (profile, family), so the profile keeps serving other models.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabPaths } from '../../core/home/paths.ts';
import type { LabService } from '../../core/service/lab-service.ts';
import type { FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import {
  codexTurnBody,
  postToRouter,
  startTestRouter,
  type TestRouter,
} from '../helpers/lab-service.ts';

let fake: FakeChatGpt;
let paths: LabPaths;
let service: LabService;
let url: string;
let token: string;
let router: TestRouter;

beforeAll(async () => {
  router = await startTestRouter({
    homePrefix: 'codex-lab-families-',
    accounts: [{ email: 'alpha@example.com' }, { email: 'beta@example.com' }],
    profiles: [
      ['alpha@example.com', 'alpha'],
      ['beta@example.com', 'beta'],
    ],
  });
  ({ fake, paths, service, url, token } = router);
  await service.setActive({ profile: 'alpha' });
});

afterAll(() => router.close());

const spark = 'gpt-5.3-codex-spark';

async function turn(session: string, model: string) {
  const response = await postToRouter(
    url,
    token,
    '/backend-api/codex/responses',
    codexTurnBody({ session, model }),
  );
  const text = await response.text();
  return {
    status: response.status,
    profile: response.headers.get('x-codex-lab-profile'),
    route: response.headers.get('x-codex-lab-route'),
    text,
  };
}

describe('per-model limit families', () => {
  it('moves only the limited family away from a profile', async () => {
    fake.account('alpha@example.com').failures.push({
      kind: 'usage_limit',
      resetsInSeconds: 3600,
      limitId: 'codex_spark',
    });
    const moved = await turn('spark-1', spark);
    expect(moved.status).toBe(200);
    expect(moved.profile).toBe('beta');
    expect(moved.route).toBe('fallback');
    expect(moved.text).toContain('response.completed');

    // The main limit is untouched: other models still go to the active profile.
    const other = await turn('main-1', 'gpt-5.5');
    expect(other.profile).toBe('alpha');
    expect(other.route).toBe('active');

    // A new session of the limited family skips alpha without another 429.
    const before = fake.requests.length;
    const next = await turn('spark-2', spark);
    expect(next.profile).toBe('beta');
    expect(
      fake.requests.slice(before).filter((r) => r.path === '/backend-api/codex/responses'),
    ).toHaveLength(1);

    const state = await service.getState();
    expect(state.profiles.find((p) => p.name === 'alpha')?.status).not.toBe('limited');
    expect(state.activity.some((a) => a.profile === 'alpha' && /codex_spark/.test(a.message))).toBe(
      true,
    );
  });

  it('answers the pool 429 when every profile is limited for the family', async () => {
    fake.account('beta@example.com').failures.push({
      kind: 'usage_limit',
      resetsInSeconds: 600,
      limitId: 'codex_spark',
    });
    const blocked = await turn('spark-3', spark);
    expect(blocked.status).toBe(429);
    const body = JSON.parse(blocked.text) as { error: { type: string; resets_at: number } };
    expect(body.error.type).toBe('usage_limit_reached');
    const now = Date.now() / 1000;
    expect(body.error.resets_at).toBeGreaterThan(now + 500);
    expect(body.error.resets_at).toBeLessThan(now + 700);
    // The main limit still serves everything else.
    const other = await turn('main-2', 'gpt-5.5');
    expect(other.status).toBe(200);
  });

  it('keeps the quota book in state/quota.json', async () => {
    expect(await service.refreshUsage({})).toMatchObject({ ok: true, value: { unread: [] } });
    const file = JSON.parse(readFileSync(paths.quota, 'utf8')) as {
      profiles: Record<string, { latest: { source: string } | null; history: unknown[] }>;
    };
    expect(Object.keys(file.profiles).sort()).toEqual(['alpha', 'beta']);
    expect(file.profiles['alpha']?.latest?.source).toBe('usage');
    expect(file.profiles['alpha']?.history.length).toBeGreaterThan(0);
  });
});
