/**
 * The whole router path through LabService against the fake ChatGPT: real profiles on disk, the
 * real TokenManager (refresh with rotation), the real routing policy, the usage answer.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabPaths } from '../../core/home/paths.ts';
import type { AuthDotJson } from '../../core/profiles/schema.ts';
import type { LabService } from '../../core/service/lab-service.ts';
import type { FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { expireAccessTokens, issuedSecrets } from '../fakes/fake-issuer.ts';
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
let logLines: string[];
let router: TestRouter;

beforeAll(async () => {
  router = await startTestRouter({
    homePrefix: 'codex-lab-lab-',
    accounts: [{ email: 'alpha@example.com' }, { email: 'beta@example.com' }],
    profiles: [
      ['alpha@example.com', 'alpha'],
      ['beta@example.com', 'beta'],
    ],
    captureLog: true,
  });
  ({ fake, paths, service, url, token, logLines } = router);
});

afterAll(() => router.close());

const turn = (session: string) => codexTurnBody({ session });

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  postToRouter(url, token, path, body, headers);

function accessTokenOnDisk(name: string): string {
  const auth = JSON.parse(readFileSync(paths.profileAuth(name), 'utf8')) as AuthDotJson;
  return auth.tokens!.access_token;
}

describe('router through LabService', () => {
  it('routes a turn and keeps the session sticky', async () => {
    const first = await post('/backend-api/codex/responses', turn('s1'));
    expect(first.status).toBe(200);
    const profile = first.headers.get('x-codex-lab-profile');
    expect(['alpha', 'beta']).toContain(profile);
    expect(first.headers.get('x-codex-lab-route')).toBe('best');
    expect(await first.text()).toContain('response.completed');
    const second = await post('/backend-api/codex/responses', turn('s1'));
    expect(second.headers.get('x-codex-lab-profile')).toBe(profile);
    expect(second.headers.get('x-codex-lab-route')).toBe('sticky');
    await second.text();
    const seen = fake.requests.filter((r) => r.path === '/backend-api/codex/responses').at(-1)!;
    expect(seen.headers['authorization']).toBe(`Bearer ${accessTokenOnDisk(profile!)}`);
  });

  it('falls over on usage_limit_reached and skips the limited profile', async () => {
    const first = await post('/backend-api/codex/responses', turn('s2'), {
      'x-codex-lab-profile': 'alpha',
    });
    await first.text();
    fake.account('alpha@example.com').failures.push({ kind: 'usage_limit', resetsInSeconds: 3600 });
    // a session pinned by header is strict: use a session that sits on alpha via the active profile
    await service.setActive({ profile: 'alpha' });
    const moved = await post('/backend-api/codex/responses', turn('s3'));
    expect(moved.status).toBe(200);
    expect(moved.headers.get('x-codex-lab-profile')).toBe('beta');
    expect(moved.headers.get('x-codex-lab-route')).toBe('fallback');
    await moved.text();
    const state = await service.getState();
    expect(state.sessions.find((s) => s.id === 's3')?.profile).toBe('beta');
    expect(state.profiles.find((p) => p.name === 'alpha')?.status).toBe('limited');
    const fresh = await post('/backend-api/codex/responses', turn('s4'));
    expect(fresh.headers.get('x-codex-lab-profile')).toBe('beta');
    await fresh.text();
    await service.setActive({ profile: 'auto' });
  });

  it('answers wham/usage itself with the routed account numbers', async () => {
    const response = await fetch(`${url}/backend-api/wham/usage`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-codex-lab-profile')).toBe('beta');
    const body = (await response.json()) as { rate_limit: { allowed: boolean } };
    expect(body.rate_limit.allowed).toBe(true);
  });

  it('refreshes once on 401 and retries with the rotated token written to disk', async () => {
    const before = accessTokenOnDisk('beta');
    expireAccessTokens(fake, 'beta@example.com');
    const response = await post('/backend-api/codex/responses', turn('s5'), {
      'x-codex-lab-profile': 'beta',
    });
    expect(response.status).toBe(200);
    await response.text();
    const after = accessTokenOnDisk('beta');
    expect(after).not.toBe(before);
    const seen = fake.requests.filter((r) => r.path === '/backend-api/codex/responses').at(-1)!;
    expect(seen.headers['authorization']).toBe(`Bearer ${after}`);
  });

  it('answers 429 with the earliest reset when every profile is limited', async () => {
    fake.account('beta@example.com').failures.push({ kind: 'usage_limit', resetsInSeconds: 600 });
    const response = await post('/backend-api/codex/responses', turn('s6'));
    expect(response.status).toBe(429);
    const body = (await response.json()) as { error: { type: string; resets_at: number } };
    expect(body.error.type).toBe('usage_limit_reached');
    const now = Date.now() / 1000;
    expect(body.error.resets_at).toBeGreaterThan(now + 500);
    expect(body.error.resets_at).toBeLessThan(now + 700);
  });

  it('still gives Codex its model list and usage with every profile limited, from the one that frees first', async () => {
    // What Codex sends with the router's token (command-backed auth): neither spends quota, and
    // the upstream answers both from a limited account, as native Codex gets them.
    const read = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${url}/backend-api/${path}`, {
        headers: {
          authorization: `Bearer ${token}`,
          originator: 'codex_exec',
          version: '0.171.0',
          ...headers,
        },
      });
    const models = await read('codex/models?client_version=0.171.0');
    expect(models.status, await models.clone().text()).toBe(200);
    expect(models.headers.get('x-codex-lab-profile')).toBe('beta');
    await models.text();
    const upstream = fake.requests.filter((r) => r.path.startsWith('/backend-api/codex/models'));
    expect(upstream.at(-1)?.headers['authorization']).toBe(`Bearer ${accessTokenOnDisk('beta')}`);
    // A pin holds for reads too: alpha's own list.
    const pinned = await read('codex/models?client_version=0.171.0', {
      'x-codex-lab-profile': 'alpha',
    });
    expect(pinned.status).toBe(200);
    expect(pinned.headers.get('x-codex-lab-profile')).toBe('alpha');
    await pinned.text();
    const usage = await read('wham/usage');
    expect(usage.status).toBe(200);
    expect(usage.headers.get('x-codex-lab-profile')).toBe('beta');
    const body = (await usage.json()) as {
      rate_limit: { allowed: boolean; limit_reached: boolean };
    };
    // Its last headers said it had room; the 429 since says it has none.
    expect(body.rate_limit.limit_reached).toBe(true);
    expect(body.rate_limit.allowed).toBe(false);
  });
});

describe('control API', () => {
  const get = (path: string) =>
    fetch(`${url}/lab/v1/${path}`, { headers: { authorization: `Bearer ${token}` } });

  it('needs the token', async () => {
    expect((await fetch(`${url}/lab/v1/state`)).status).toBe(401);
  });

  it('serves state, sessions and pins', async () => {
    const state = (await (await get('state')).json()) as {
      profiles: Array<{ name: string }>;
      router: { running: boolean };
    };
    expect(state.profiles.map((p) => p.name).sort()).toEqual(['alpha', 'beta']);
    expect(state.router.running).toBe(true);
    const text = JSON.stringify(state);
    for (const secret of issuedSecrets(fake)) expect(text).not.toContain(secret);
    expect(text).not.toContain(token);
    expect(Array.isArray(await (await get('sessions')).json())).toBe(true);
  });

  it('validates operation input and runs operations', async () => {
    const bad = await fetch(`${url}/lab/v1/pinSession`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ sessionId: 5 }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toMatch(/sessionId/);
    const ok = await fetch(`${url}/lab/v1/pinSession`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ sessionId: '0199AABB-0000-7000-8000-000000000001', profile: 'alpha' }),
    });
    expect(await ok.json()).toEqual({ ok: true, value: { replaced: null } });
    const pins = (await (await get('pins')).json()) as {
      sessions: Record<string, { profile: string }>;
    };
    // Kept in lower case, as Codex sends it.
    expect(pins.sessions['0199aabb-0000-7000-8000-000000000001']?.profile).toBe('alpha');
    const missing = await fetch(`${url}/lab/v1/setActive`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ profile: 'nobody' }),
    });
    const failure = (await missing.json()) as { ok: boolean; code: string; message: string };
    expect(failure.ok).toBe(false);
    expect(failure.message).toContain('nobody');
  });

  it('streams state events', async () => {
    const controller = new AbortController();
    const response = await fetch(`${url}/lab/v1/events`, {
      headers: { authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
    expect(text.startsWith('event: state\ndata: {')).toBe(true);
    controller.abort();
  });
});

describe('control API answers', () => {
  const call = (path: string, body: unknown, method = 'POST', auth = true) =>
    fetch(`${url}/lab/v1/${path}`, {
      method,
      headers: auth ? { authorization: `Bearer ${token}` } : {},
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  type Failure = { ok: false; code: string; message: string };
  const failure = async (answer: Response) => {
    const body = (await answer.json()) as Failure;
    return { status: answer.status, ...body };
  };
  const long = 'x'.repeat(300);

  it("refuse an input by the core's own rule, code and sentence (the CLI's without a router)", async () => {
    // The contract checks only the shape: the name and session-id rules are the core's, said once.
    expect(await failure(await call('renameProfile', { from: 'alpha', to: long }))).toEqual({
      status: 400,
      ok: false,
      code: 'invalid_name',
      message: `The profile name "${'x'.repeat(80)}…" is 300 characters long; use at most 64.`,
    });
    // Quoted as every refusal of a typed name quotes it: cut at 80 characters.
    expect(await failure(await call('setActive', { profile: long }))).toMatchObject({
      status: 404,
      code: 'profile_not_found',
      message: `There is no profile named "${'x'.repeat(80)}…".`,
    });
    expect(await failure(await call('pinSession', { sessionId: long, profile: 'alpha' }))).toEqual({
      status: 400,
      ok: false,
      code: 'invalid_argument',
      message: `"${'x'.repeat(80)}…" is not a Codex session id: give the session's UUID as Codex shows it (like 0199aabb-ccdd-7eef-8899-aabbccddeeff).`,
    });
    expect(await failure(await call('renameProfile', { from: 'alpha', to: 'beta' }))).toMatchObject(
      { status: 409, code: 'name_taken' },
    );
  });

  it('refuse to unpin a session id no pin has and the rules refuse, keeping it out of the log', async () => {
    const unpinned = '0199aabb-0000-7000-8000-000000000002';
    for (const sessionId of [long, 'a\nb', 'no-such-pin']) {
      expect(await failure(await call('pinSession', { sessionId, profile: null }))).toMatchObject({
        status: 400,
        code: 'invalid_argument',
      });
    }
    // An unpin (null or auto) that would allow fallback is refused: it has nothing to fall from.
    for (const profile of [null, 'auto']) {
      expect(
        await failure(
          await call('pinSession', { sessionId: unpinned, profile, allowFallback: true }),
        ),
      ).toMatchObject({ status: 400, code: 'invalid_argument' });
      expect(
        await failure(await call('pinRepo', { path: '/tmp', profile, allowFallback: true })),
      ).toMatchObject({ status: 400, code: 'invalid_argument' });
    }
    // A valid id with no pin still unpins (nothing to do).
    expect((await call('pinSession', { sessionId: unpinned, profile: null })).status).toBe(200);
  });

  it('refuse an empty name or session id by the same core rules', async () => {
    expect(await failure(await call('startLogin', { name: '' }))).toEqual({
      status: 400,
      ok: false,
      code: 'invalid_name',
      message: 'A profile name cannot be empty.',
    });
    expect(await failure(await call('pinSession', { sessionId: ' ', profile: 'alpha' }))).toEqual({
      status: 400,
      ok: false,
      code: 'invalid_argument',
      message: 'The session id is empty: give the id of a Codex session (--session ID).',
    });
  });

  it('give one code one status, whether the shape or the core refused', async () => {
    const shape = await failure(await call('pinSession', { sessionId: 5, profile: 'alpha' }));
    const rule = await failure(await call('pinSession', { sessionId: 'a\nb', profile: 'alpha' }));
    expect([shape.code, rule.code]).toEqual(['invalid_argument', 'invalid_argument']);
    expect([shape.status, rule.status]).toEqual([400, 400]);
    // A success is still 200.
    expect((await call('setActive', { profile: 'auto' })).status).toBe(200);
  });

  it('refuse force without revoke, as the CLI does, and remove nothing', async () => {
    expect(
      await failure(await call('removeProfile', { profile: 'beta', force: true })),
    ).toMatchObject({
      status: 400,
      ok: false,
      code: 'invalid_argument',
      message: expect.stringMatching(/revoke/) as unknown,
    });
    const state = (await (await call('state', undefined, 'GET')).json()) as {
      profiles: Array<{ name: string }>;
    };
    expect(state.profiles.map((profile) => profile.name).sort()).toEqual(['alpha', 'beta']);
  });

  it('answer a known operation with the wrong method 405, and a view with the wrong method 405', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      const answer = await call('setActive', undefined, method);
      expect(answer.status, method).toBe(405);
      expect(answer.headers.get('allow'), method).toBe('POST');
      expect(await answer.json(), method).toMatchObject({ ok: false, code: 'method_not_allowed' });
    }
    const view = await call('state', {}, 'POST');
    expect(view.status).toBe(405);
    expect(view.headers.get('allow')).toBe('GET');
    expect(await view.json()).toMatchObject({ ok: false, code: 'method_not_allowed' });
  });

  it('use one envelope for every refusal: token, route, body', async () => {
    const anonymous = await call('state', undefined, 'GET', false);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ ok: false, code: 'unauthorized' });
    const unknown = await call('nothingHere', {});
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ ok: false, code: 'not_found' });
    const garbled = await fetch(`${url}/lab/v1/setActive`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: '{"profile":',
    });
    expect(garbled.status).toBe(400);
    expect(await garbled.json()).toMatchObject({ ok: false, code: 'bad_request' });
  });
});

describe('logs', () => {
  it('hold no profile token and no router token', () => {
    const all = logLines.join('');
    expect(all).not.toContain(token);
    for (const secret of issuedSecrets(fake)) expect(all).not.toContain(secret);
  });
});
