/**
 * The router's HTTP mechanics against a real loopback upstream: token check, routing headers,
 * streaming, fallback, refresh-and-retry, body limits, disconnects and log hygiene. The routing
 * policy here is a small scripted engine; `proxy-lab.test.ts` runs the real one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { zstdCompressSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LabError } from '../../core/errors.ts';
import { labPaths } from '../../core/home/paths.ts';
import { createLogger } from '../../core/log.ts';
import { systemClock } from '../../core/ports.ts';
import type {
  NoPick,
  ProfilePick,
  ProxyEngine,
  ProxyRequestInfo,
  UpstreamCredentials,
  UsageLimit,
} from '../../core/proxy/engine.ts';
import { loadOrCreateRouterToken } from '../../core/proxy/router-token.ts';
import { createRouterServer, type RouterServer } from '../../core/proxy/server.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';
import { makeJwt } from '../fakes/jwt.ts';

type Script = 'ok' | 'limit' | 'unauthorized' | 'slow' | 'gate' | 'late-head';

interface UpstreamAccount {
  name: string;
  accountId: string;
  token: string;
  rotated: string;
  script: Script;
}

const accounts: UpstreamAccount[] = ['alpha', 'beta', 'gamma'].map((name) => ({
  name,
  accountId: `acct-${name}`,
  token: makeJwt({ sub: name, kind: 'access' }),
  rotated: makeJwt({ sub: name, kind: 'rotated' }),
  script: 'ok',
}));
const byName = (name: string): UpstreamAccount => accounts.find((a) => a.name === name)!;

let gate: () => void = () => undefined;
/** How long a `late-head` account takes before its answer's head. */
let lateHeadMs = 0;
/** The answers a `late-head` account is holding back (given once their time is up). */
const lateAnswers = new WeakSet<ServerResponse>();
const upstreamClosed: string[] = [];

/** The scripted upstream: SSE turns, 429 usage limits, 401s, late heads and slow streams. */
function upstreamHandler(
  _fake: FakeChatGpt,
  request: IncomingMessage,
  response: ServerResponse,
): boolean {
  if (!request.url?.startsWith('/backend-api/')) return false;
  const auth = request.headers.authorization ?? '';
  const account = accounts.find(
    (a) => auth === `Bearer ${a.token}` || auth === `Bearer ${a.rotated}`,
  );
  if (!account) {
    response.writeHead(401, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: { code: 'token_invalid', message: 'bad token' } }));
    return true;
  }
  if (request.url === '/backend-api/wham/usage') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ plan_type: 'plus', from: account.name }));
    return true;
  }
  if (account.script === 'unauthorized' && auth === `Bearer ${account.token}`) {
    response.writeHead(401, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: { code: 'token_expired', message: 'expired' } }));
    return true;
  }
  if (account.script === 'limit') {
    const resetsAt = Math.floor(Date.now() / 1000) + (account.name === 'alpha' ? 7200 : 3600);
    response.writeHead(429, {
      'content-type': 'application/json',
      'x-codex-primary-used-percent': '100',
    });
    response.end(
      JSON.stringify({
        error: {
          type: 'usage_limit_reached',
          message: 'The usage limit has been reached',
          resets_at: resetsAt,
        },
      }),
    );
    return true;
  }
  if (account.script === 'late-head' && !lateAnswers.has(response)) {
    lateAnswers.add(response);
    const timer = setTimeout(() => upstreamHandler(_fake, request, response), lateHeadMs);
    response.on('close', () => clearTimeout(timer));
    return true;
  }
  response.writeHead(200, {
    'content-type': 'text/event-stream',
    'x-codex-primary-used-percent': '12',
    'x-upstream-account': account.name,
  });
  const event = (type: string, extra: object = {}) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, ...extra })}\n\n`;
  response.write(event('response.created'));
  if (account.script === 'gate') {
    gate = () => {
      response.write(event('response.output_text.delta', { delta: `hi from ${account.name}` }));
      response.end(event('response.completed', { response: { id: 'r1' } }));
    };
    return true;
  }
  if (account.script === 'slow') {
    const timer = setInterval(
      () => response.write(event('response.output_text.delta', { delta: '.' })),
      20,
    );
    response.on('close', () => {
      clearInterval(timer);
      if (!response.writableFinished) upstreamClosed.push(account.name);
    });
    return true;
  }
  response.write(event('response.output_text.delta', { delta: `hi from ${account.name}` }));
  response.end(event('response.completed', { response: { id: 'r1' } }));
  return true;
}

/** A small engine: header pin, sticky sessions, then the first healthy profile. */
function scriptedEngine() {
  const sessions = new Map<string, string>();
  const limited = new Map<string, number>();
  const authErrors = new Set<string>();
  const tokens = new Map(accounts.map((a) => [a.name, a.token]));
  const engine: ProxyEngine = {
    prepare(info: ProxyRequestInfo) {
      const sessionId =
        (info.headers['session-id'] as string | undefined) ??
        (typeof info.body?.['prompt_cache_key'] === 'string'
          ? (info.body['prompt_cache_key'] as string)
          : null);
      const pin = info.headers['x-codex-lab-profile'] as string | undefined;
      return {
        choose(excluded): ProfilePick | NoPick {
          if (pin) {
            if (!accounts.some((a) => a.name === pin)) {
              return {
                ok: false,
                status: 400,
                code: 'profile_not_found',
                message: `No profile named "${pin}".`,
              };
            }
            return { ok: true, profile: pin, route: 'pinned', allowFallback: false };
          }
          const usable = (name: string) =>
            !excluded.has(name) && !authErrors.has(name) && (limited.get(name) ?? 0) <= Date.now();
          const current = sessionId ? sessions.get(sessionId) : undefined;
          if (current && usable(current))
            return { ok: true, profile: current, route: 'sticky', allowFallback: false };
          const next = accounts.find((a) => usable(a.name));
          if (!next) {
            const earliest = Math.min(...limited.values());
            return {
              ok: false,
              status: 429,
              code: 'usage_limit_reached',
              message: 'Every profile is limited.',
              body: {
                error: { type: 'usage_limit_reached', resets_at: Math.floor(earliest / 1000) },
              },
            };
          }
          return {
            ok: true,
            profile: next.name,
            route: excluded.size > 0 ? 'fallback' : current ? 'fallback' : 'best',
            allowFallback: false,
          };
        },
        commit(pick) {
          if (sessionId) sessions.set(sessionId, pick.profile);
        },
      };
    },
    async credentials(profile): Promise<UpstreamCredentials> {
      return { accessToken: tokens.get(profile)!, accountId: byName(profile).accountId };
    },
    async refreshAfterUnauthorized(profile) {
      if (profile === 'gamma')
        throw new LabError('refresh_token_reused', 'Your access token could not be refreshed.');
      tokens.set(profile, byName(profile).rotated);
      return { accessToken: byName(profile).rotated, accountId: byName(profile).accountId };
    },
    classify429(body): UsageLimit | null {
      const parsed = JSON.parse(body) as { error?: { type?: string; resets_at?: number } };
      if (parsed.error?.type !== 'usage_limit_reached') return null;
      return { resetsAt: (parsed.error.resets_at ?? 0) * 1000, message: 'limited' };
    },
    observe() {},
    markLimited(profile, limit) {
      limited.set(profile, limit.resetsAt ?? Date.now() + 60_000);
    },
    noteCredentialFailure(profile) {
      authErrors.add(profile);
    },
    noteFailure() {},
    usageAnswer() {
      return null;
    },
    accountOf(profile) {
      return byName(profile).accountId;
    },
  };
  return { engine, sessions, limited, authErrors, tokens };
}

let fake: FakeChatGpt;
let router: RouterServer;
let routerToken: string;
let state: ReturnType<typeof scriptedEngine>;
let home: string;
const logLines: string[] = [];

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'codex-lab-proxy-'));
  routerToken = await loadOrCreateRouterToken(labPaths(home));
  fake = await startFakeChatGpt({ handlers: [upstreamHandler] });
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logLines.push(chunk.toString());
      callback();
    },
  });
  const logger = createLogger({ level: 'debug', destination, secrets: () => [routerToken] });
  state = scriptedEngine();
  router = await createRouterServer({
    engine: state.engine,
    token: routerToken,
    upstreamBaseUrl: fake.backendUrl,
    clock: systemClock,
    logger,
    port: 0,
    bodyLimitBytes: 1024 * 1024,
    // These tests script the upstream's HTTP answers one by one (upstreamHandler): the HTTP relay
    // under test. The WebSocket upstream has its own suite (proxy-websocket.test.ts).
    upstreamWebSocket: false,
  });
});

afterAll(async () => {
  await router.close();
  await fake.close();
  rmSync(home, { recursive: true, force: true });
});

afterEach(() => {
  for (const account of accounts) account.script = 'ok';
  state.limited.clear();
  state.authErrors.clear();
  state.sessions.clear();
});

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${router.url}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${routerToken}`,
      'content-type': 'application/json',
      ...headers,
    },
    body:
      typeof body === 'string'
        ? body
        : body instanceof Uint8Array
          ? new Blob([new Uint8Array(body)])
          : JSON.stringify(body),
  });
}
const turn = { model: 'gpt-5.5', input: [], stream: true, prompt_cache_key: 'thread-1' };

describe('router token', () => {
  it('never opens the pool without the router token: such requests go upstream with their own credentials, untouched', async () => {
    const none = await fetch(`${router.url}/backend-api/codex/responses`, {
      method: 'POST',
      body: '{}',
    });
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('token_invalid');
    expect(fake.requests.at(-1)!.headers['authorization']).toBeUndefined();
    const wrong = await post('/backend-api/codex/responses', turn, {
      authorization: 'Bearer clab_wrong',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('x-codex-lab-profile')).toBeNull();
    await wrong.text();
    const seen = fake.requests.at(-1)!;
    expect(seen.headers['authorization']).toBe('Bearer clab_wrong');
    expect(seen.headers['chatgpt-account-id']).toBeUndefined();
    expect(seen.body).toBe(JSON.stringify(turn));
    const control = await fetch(`${router.url}/lab/v1/state`);
    expect(control.status).toBe(401);
  });
});

describe('routing', () => {
  it('forwards with the profile credentials and labels the response', async () => {
    const response = await post('/backend-api/codex/responses', turn);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-codex-lab-profile')).toBe('alpha');
    expect(response.headers.get('x-codex-lab-route')).toBe('best');
    expect(await response.text()).toContain('hi from alpha');
    const seen = fake.requests.at(-1)!;
    expect(seen.path).toBe('/backend-api/codex/responses');
    expect(seen.headers['authorization']).toBe(`Bearer ${byName('alpha').token}`);
    expect(seen.headers['chatgpt-account-id']).toBe('acct-alpha');
    expect(JSON.stringify(seen.headers)).not.toContain(routerToken);
  });

  it('keeps a session on its profile and honours a header pin', async () => {
    await (await post('/backend-api/codex/responses', turn)).text();
    const again = await post('/backend-api/codex/responses', turn);
    expect(again.headers.get('x-codex-lab-route')).toBe('sticky');
    await again.text();
    const pinned = await post('/backend-api/codex/responses', turn, {
      'x-codex-lab-profile': 'beta',
    });
    expect(pinned.headers.get('x-codex-lab-profile')).toBe('beta');
    expect(pinned.headers.get('x-codex-lab-route')).toBe('pinned');
    expect(await pinned.text()).toContain('hi from beta');
    expect(fake.requests.at(-1)!.headers['x-codex-lab-profile']).toBeUndefined();
  });

  it('streams SSE chunk by chunk: the first event arrives before the upstream finishes', async () => {
    byName('alpha').script = 'gate';
    const response = await post('/backend-api/codex/responses', turn);
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('response.created');
    gate();
    let rest = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).toContain('response.completed');
  });

  it('passes other /backend-api paths through with the routed account', async () => {
    const response = await fetch(`${router.url}/backend-api/wham/usage`, {
      headers: { authorization: `Bearer ${routerToken}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-codex-lab-profile')).toBe('alpha');
    expect(((await response.json()) as { from: string }).from).toBe('alpha');
  });

  it('reads zstd bodies for routing and forwards the original bytes', async () => {
    const compressed = zstdCompressSync(
      Buffer.from(JSON.stringify({ ...turn, prompt_cache_key: 'zz' })),
    );
    const response = await post('/backend-api/codex/responses', compressed, {
      'content-encoding': 'zstd',
    });
    expect(response.status).toBe(200);
    await response.text();
    expect(state.sessions.get('zz')).toBe('alpha');
    const seen = fake.requests.at(-1)!;
    expect(seen.headers['content-encoding']).toBe('zstd');
    expect(Buffer.from(seen.body, 'utf8').length).toBeGreaterThan(0);
  });
});

describe('fallback', () => {
  it('moves a limited session to the next profile before any byte reaches the client', async () => {
    await (await post('/backend-api/codex/responses', turn)).text();
    byName('alpha').script = 'limit';
    const response = await post('/backend-api/codex/responses', turn);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-codex-lab-profile')).toBe('beta');
    expect(response.headers.get('x-codex-lab-route')).toBe('fallback');
    expect(await response.text()).toContain('hi from beta');
    expect(state.sessions.get('thread-1')).toBe('beta');
    // alpha stays skipped until its reset, even for a new session
    const other = await post('/backend-api/codex/responses', {
      ...turn,
      prompt_cache_key: 'thread-2',
    });
    expect(other.headers.get('x-codex-lab-profile')).toBe('beta');
    await other.text();
  });

  it('sends a body that arrived in many chunks byte for byte with its length, again after a fallback', async () => {
    // Plain bodies go upstream as the chunks they came in (never joined just to be sent): both
    // attempts must carry the same bytes, declared by length (not chunk-encoded).
    const plain = await createRouterServer({
      engine: state.engine,
      token: routerToken,
      upstreamBaseUrl: fake.backendUrl,
      clock: systemClock,
      logger: createLogger({ level: 'silent' }),
      port: 0,
      compressRequests: false,
      upstreamWebSocket: false,
    });
    try {
      byName('alpha').script = 'limit';
      const body = JSON.stringify({
        ...turn,
        prompt_cache_key: 'chunked',
        input: Array.from({ length: 40 }, (_, index) => ({
          type: 'message',
          role: 'user',
          content: [{ type: 'input_text', text: `${index} ${'é'.repeat(4000)}` }],
        })),
      });
      const before = fake.requests.length;
      const response = await fetch(`${plain.url}/backend-api/codex/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${routerToken}`, 'content-type': 'application/json' },
        body,
      });
      expect(response.headers.get('x-codex-lab-profile')).toBe('beta');
      expect(await response.text()).toContain('hi from beta');
      // The turn's attempts (a new router also reads each profile's workspace routing first).
      const attempts = fake.requests
        .slice(before)
        .filter((seen) => seen.path === '/backend-api/codex/responses');
      expect(attempts.map((seen) => seen.headers['authorization'])).toEqual([
        `Bearer ${byName('alpha').token}`,
        `Bearer ${byName('beta').token}`,
      ]);
      for (const seen of attempts) {
        expect(seen.body).toBe(body);
        expect(seen.headers['content-length']).toBe(String(Buffer.byteLength(body)));
        expect(seen.headers['transfer-encoding']).toBeUndefined();
      }
    } finally {
      await plain.close();
    }
  });

  it('answers 429 with the earliest reset when every profile is limited', async () => {
    for (const account of accounts) account.script = 'limit';
    const response = await post('/backend-api/codex/responses', turn);
    expect(response.status).toBe(429);
    const body = (await response.json()) as { error: { type: string; resets_at: number } };
    expect(body.error.type).toBe('usage_limit_reached');
    const nowSeconds = Date.now() / 1000;
    expect(body.error.resets_at).toBeGreaterThan(nowSeconds + 3000);
    expect(body.error.resets_at).toBeLessThan(nowSeconds + 3700);
  });

  it('refreshes once on 401 and retries the same profile with the rotated token', async () => {
    byName('alpha').script = 'unauthorized';
    const response = await post('/backend-api/codex/responses', turn);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-codex-lab-profile')).toBe('alpha');
    await response.text();
    expect(fake.requests.at(-1)!.headers['authorization']).toBe(
      `Bearer ${byName('alpha').rotated}`,
    );
  });

  it('falls over when the refresh fails permanently', async () => {
    byName('gamma').script = 'unauthorized';
    const response = await post('/backend-api/codex/responses', turn, {});
    await response.text();
    const pinnedFail = await post(
      '/backend-api/codex/responses',
      { ...turn, prompt_cache_key: 'g' },
      {},
    );
    await pinnedFail.text();
    state.sessions.set('g', 'gamma');
    const moved = await post('/backend-api/codex/responses', { ...turn, prompt_cache_key: 'g' });
    expect(moved.status).toBe(200);
    expect(moved.headers.get('x-codex-lab-profile')).toBe('alpha');
    expect(state.authErrors.has('gamma')).toBe(true);
    await moved.text();
  });
});

describe('bad requests', () => {
  it('rejects malformed JSON with 400', async () => {
    const response = await post('/backend-api/codex/responses', '{"model": ');
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(
      /not valid JSON/,
    );
  });

  it('rejects an oversized body with 413', async () => {
    const big = JSON.stringify({ ...turn, input: 'x'.repeat(2 * 1024 * 1024) });
    const response = await post('/backend-api/codex/responses', big);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      'payload_too_large',
    );
  });

  it('names an unknown pinned profile', async () => {
    const response = await post('/backend-api/codex/responses', turn, {
      'x-codex-lab-profile': 'nobody',
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(await response.text()).toContain('nobody');
  });
});

describe('disconnects', () => {
  it('aborts the upstream request when the client goes away, leaving no sockets', async () => {
    byName('alpha').script = 'slow';
    upstreamClosed.length = 0;
    const before = await connections(router);
    await new Promise<void>((resolve, reject) => {
      const client = httpRequest(`${router.url}/backend-api/codex/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${routerToken}`, 'content-type': 'application/json' },
      });
      client.on('response', (response) => {
        response.once('data', () => {
          client.destroy();
          resolve();
        });
      });
      client.on('error', (error) => {
        if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error);
      });
      client.end(JSON.stringify(turn));
    });
    await waitFor(() => upstreamClosed.includes('alpha'));
    await waitFor(async () => (await connections(router)) <= before);
  });
});

describe('a late upstream', () => {
  it('is waited for as long as the router is told (by default longer than Codex waits), then given up', async () => {
    // The time is made short for the test; the default, upstreamIdleMs, is checked against
    // Codex's own stream idle timeout in test/unit/proxy/upstream-patience.test.ts.
    const patient = await createRouterServer({
      engine: state.engine,
      token: routerToken,
      upstreamBaseUrl: fake.backendUrl,
      clock: systemClock,
      logger: createLogger({ level: 'silent' }),
      port: 0,
      upstreamWebSocket: false,
      upstreamIdleTimeoutMs: 600,
    });
    const send = () =>
      fetch(`${patient.url}/backend-api/codex/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${routerToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(turn),
      });
    try {
      byName('alpha').script = 'late-head';
      lateHeadMs = 300;
      const late = await send();
      expect(late.status).toBe(200);
      expect(await late.text()).toContain('hi from alpha');
      lateHeadMs = 10_000;
      const never = await send();
      expect(never.status).toBe(502);
      expect(await never.text()).toContain('no answer');
    } finally {
      await patient.close();
    }
  });
});

describe('logs', () => {
  it('never contain a profile token or the router token', () => {
    const all = logLines.join('');
    expect(all.length).toBeGreaterThan(0);
    expect(all).not.toContain(routerToken);
    for (const account of accounts) {
      expect(all).not.toContain(account.token);
      expect(all).not.toContain(account.rotated);
    }
  });

  it('scrubs tokens planted in fields and messages', () => {
    const lines: string[] = [];
    const logger = createLogger({
      destination: new Writable({
        write(chunk: Buffer, _encoding, callback) {
          lines.push(chunk.toString());
          callback();
        },
      }),
      secrets: () => [routerToken],
    });
    const jwt = byName('alpha').token;
    logger.info(
      {
        access_token: 'rt_plain_refresh_value',
        headers: { authorization: `Bearer ${jwt}` },
        note: jwt,
      },
      `router ${routerToken}`,
    );
    const out = lines.join('');
    expect(out).not.toContain(jwt);
    expect(out).not.toContain(routerToken);
    expect(out).not.toContain('rt_plain_refresh_value');
    expect(out).toContain('[redacted]');
  });
});

async function connections(server: RouterServer): Promise<number> {
  return new Promise((resolve, reject) =>
    server.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
  );
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
