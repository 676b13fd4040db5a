/** The fake ChatGPT's backend side, exercised over real HTTP on loopback. */
import { zstdCompressSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerAccessToken, revokeAccessToken } from '../fakes/fake-backend.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';

interface SseEvent {
  type: string;
  data: Record<string, unknown>;
}

function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const dataLine = block.split('\n').find((line) => line.startsWith('data: '));
      const data = JSON.parse(dataLine?.slice(6) ?? '{}') as Record<string, unknown>;
      return { type: String(data['type']), data };
    });
}

const now = 1_800_000_000;
let fake: FakeChatGpt;

beforeEach(async () => {
  fake = await startFakeChatGpt();
  fake.setNow(now);
  fake.addAccount({ email: 'a@example.com', reply: 'Hello from the fake model, account a.' });
  fake.addAccount({ email: 'team@example.com', plan: 'team' });
  registerAccessToken(fake, 'token-a', 'a@example.com');
  registerAccessToken(fake, 'token-team', 'team@example.com');
});

afterEach(async () => {
  await fake.close();
});

function postResponses(
  token: string,
  init: { body?: BodyInit; headers?: Record<string, string> } = {},
) {
  return fetch(`${fake.backendUrl}/codex/responses`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'text/event-stream',
      ...init.headers,
    },
    body: init.body ?? JSON.stringify({ model: 'gpt-5.1-codex', stream: true, input: [] }),
  });
}

describe('fake backend: /codex/responses', () => {
  it('streams a turn as SSE with quota headers and charges the account', async () => {
    const account = fake.account('a@example.com');
    const before = account.primary?.usedPercent ?? 0;
    const response = await postResponses('token-a');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('x-codex-primary-used-percent')).toBe(String(before));
    expect(response.headers.get('x-codex-primary-window-minutes')).toBe('300');
    expect(response.headers.get('x-codex-secondary-window-minutes')).toBe('10080');
    expect(Number(response.headers.get('x-codex-primary-reset-at'))).toBe(now + 3 * 3600);
    expect(response.headers.get('x-codex-active-limit')).toBe('codex');
    expect(response.headers.get('x-codex-credits-has-credits')).toBe('false');
    const events = parseSse(await response.text());
    const types = events.map((event) => event.type);
    expect(types[0]).toBe('response.created');
    expect(types[1]).toBe('response.output_item.added');
    expect(types.at(-2)).toBe('response.output_item.done');
    expect(types.at(-1)).toBe('response.completed');
    const deltas = events.filter((event) => event.type === 'response.output_text.delta');
    expect(deltas.length).toBeGreaterThanOrEqual(3);
    expect(deltas.map((event) => event.data['delta']).join('')).toBe(account.reply);
    const completed = events.at(-1)?.data['response'] as {
      id: string;
      usage: { total_tokens: number };
    };
    expect(completed.id).toMatch(/^resp_/);
    expect(completed.usage.total_tokens).toBeGreaterThan(0);
    expect(account.primary?.usedPercent).toBe(before + account.usagePerTurn);
  });

  it('accepts zstd request bodies and records them decoded', async () => {
    const json = JSON.stringify({
      model: 'gpt-5.1-codex',
      stream: true,
      input: [],
      marker: 'zstd!',
    });
    const response = await postResponses('token-a', {
      body: zstdCompressSync(Buffer.from(json)),
      headers: { 'content-encoding': 'zstd' },
    });
    expect(response.status).toBe(200);
    await response.text();
    expect(fake.requests.at(-1)?.body).toBe(json);
  });

  it('answers 401 for a missing, unknown, expired or revoked token', async () => {
    const missing = await fetch(`${fake.backendUrl}/codex/responses`, {
      method: 'POST',
      body: '{}',
    });
    expect(missing.status).toBe(401);
    const unknown = await postResponses('nobody');
    expect(unknown.status).toBe(401);
    registerAccessToken(fake, 'token-old', 'a@example.com', { expiresAt: now - 1 });
    const expired = await postResponses('token-old');
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { error: { code: string } }).error.code).toBe(
      'token_expired',
    );
    revokeAccessToken(fake, 'token-a');
    expect((await postResponses('token-a')).status).toBe(401);
  });

  it('serves a scripted 429 usage_limit_reached exactly like the real body, then recovers', async () => {
    fake.account('a@example.com').failures.push({ kind: 'usage_limit', resetsInSeconds: 13872 });
    const limited = await postResponses('token-a');
    expect(limited.status).toBe(429);
    expect(await limited.json()).toEqual({
      error: {
        type: 'usage_limit_reached',
        message: 'The usage limit has been reached',
        plan_type: 'plus',
        resets_at: now + 13872,
        eligible_promo: null,
        resets_in_seconds: 13872,
      },
    });
    expect(limited.headers.get('x-codex-active-limit')).toBe('codex');
    expect(limited.headers.get('x-codex-primary-used-percent')).toBe('100');
    expect(limited.headers.get('x-codex-primary-reset-at')).toBe(String(now + 13872));
    const next = await postResponses('token-a');
    expect(next.status).toBe(200);
    await next.text();
  });

  it('keeps a sticky failure until it is cleared, with a fixed reset', async () => {
    const account = fake.account('a@example.com');
    account.stickyFailure = { kind: 'usage_limit', resetsInSeconds: 600 };
    for (let attempt = 0; attempt < 2; attempt += 1) {
      fake.setNow(now + attempt * 10);
      const response = await postResponses('token-a');
      expect(response.status).toBe(429);
      expect(((await response.json()) as { error: { resets_at: number } }).error.resets_at).toBe(
        now + 600,
      );
    }
    account.stickyFailure = null;
    const response = await postResponses('token-a');
    expect(response.status).toBe(200);
    await response.text();
  });

  it('serves scripted 5xx and 400 failures', async () => {
    const account = fake.account('a@example.com');
    account.failures.push(
      { kind: 'server_error', status: 502 },
      { kind: 'bad_request', message: 'Nope.' },
    );
    const failed = await postResponses('token-a');
    expect(failed.status).toBe(502);
    await failed.text();
    const bad = await postResponses('token-a');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toBe('Nope.');
  });

  it('resets the connection in mid-stream without response.completed and without charging', async () => {
    const account = fake.account('a@example.com');
    const before = account.primary?.usedPercent;
    account.failures.push({ kind: 'reset_mid_stream' });
    const response = await postResponses('token-a');
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    let received = '';
    const decoder = new TextDecoder();
    await expect(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          received += decoder.decode(value);
        }
      })(),
    ).rejects.toThrow();
    expect(received).toContain('response.created');
    expect(received).not.toContain('response.completed');
    expect(account.primary?.usedPercent).toBe(before);
  });

  it('answers /responses/compact with JSON output items', async () => {
    const response = await fetch(`${fake.backendUrl}/codex/responses/compact`, {
      method: 'POST',
      headers: { authorization: 'Bearer token-a', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5.1-codex', input: [] }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { output: unknown[] };
    expect(body.output.length).toBe(1);
    expect(response.headers.get('x-codex-primary-used-percent')).not.toBeNull();
  });

  it('answers the model list Codex asks for at startup', async () => {
    const response = await fetch(`${fake.backendUrl}/codex/models?client_version=0.169.0`, {
      headers: { authorization: 'Bearer token-a' },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ models: [] });
    expect(response.headers.get('etag')).toBeTruthy();
  });
});

describe('fake backend: /wham/usage', () => {
  function usage(token: string, accountId?: string) {
    return fetch(`${fake.backendUrl}/wham/usage`, {
      headers: {
        authorization: `Bearer ${token}`,
        ...(accountId === undefined ? {} : { 'chatgpt-account-id': accountId }),
      },
    });
  }

  it('reports both windows in the real shape', async () => {
    const account = fake.account('a@example.com');
    const response = await usage('token-a', account.accountId);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body['plan_type']).toBe('plus');
    expect(body['rate_limit']).toEqual({
      allowed: true,
      limit_reached: false,
      primary_window: {
        used_percent: 10,
        limit_window_seconds: 18000,
        reset_after_seconds: 3 * 3600,
        reset_at: now + 3 * 3600,
      },
      secondary_window: {
        used_percent: 20,
        limit_window_seconds: 604800,
        reset_after_seconds: 4 * 86400,
        reset_at: now + 4 * 86400,
      },
    });
  });

  it('answers a team account without ChatGPT-Account-Id as free with no rate limit', async () => {
    const bare = (await (await usage('token-team')).json()) as Record<string, unknown>;
    expect(bare['plan_type']).toBe('free');
    expect(bare['rate_limit']).toBeNull();
    const team = fake.account('team@example.com');
    const scoped = (await (await usage('token-team', team.accountId)).json()) as Record<
      string,
      unknown
    >;
    expect(scoped['plan_type']).toBe('team');
    expect(scoped['rate_limit']).not.toBeNull();
    expect((await usage('token-team', 'acct-someone-else')).status).toBe(403);
    expect((await usage('nobody', team.accountId)).status).toBe(401);
  });

  it('moves an unstarted window forward on every observation until a completed turn starts it', async () => {
    const account = fake.account('a@example.com');
    account.secondary = { usedPercent: 0, windowMinutes: 10080, resetAt: 0, unstarted: true };
    const week = 10080 * 60;
    const secondaryReset = async () =>
      (
        (await (await usage('token-a', account.accountId)).json()) as {
          rate_limit: { secondary_window: { reset_at: number; used_percent: number } };
        }
      ).rate_limit.secondary_window;
    expect((await secondaryReset()).reset_at).toBe(now + week);
    fake.setNow(now + 100);
    expect((await secondaryReset()).reset_at).toBe(now + 100 + week);
    const turn = await postResponses('token-a');
    await turn.text();
    fake.setNow(now + 500);
    const started = await secondaryReset();
    expect(started.reset_at).toBe(now + 100 + week);
    expect(started.used_percent).toBe(account.usagePerTurn);
    // Past its reset the window rolls over and is unstarted again.
    fake.setNow(now + 100 + week + 1);
    const rolled = await secondaryReset();
    expect(rolled.used_percent).toBe(0);
    expect(rolled.reset_at).toBe(now + 100 + week + 1 + week);
  });
});
