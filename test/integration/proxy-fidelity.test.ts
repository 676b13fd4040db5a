/**
 * The faithful path (docs/design.md section 9) through the real LabService router and the fake ChatGPT
 * speaking today's protocol: account-bound reasoning ciphertext across a fallback and a restart,
 * compressed error bodies, WebSocket upgrades, and Codex's own ChatGPT-side traffic.
 */
import { rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { checkEncryptedContent, mintEncryptedContent } from '../fakes/ciphertext.ts';
import { setCompression, setRefuseEncodedBodies } from '../fakes/fake-backend.ts';
import type { RecordedRequest } from '../fakes/fake-chatgpt.ts';
import { issueTokens } from '../fakes/fake-issuer.ts';
import { createTestLabService, startTestRouter, type TestRouter } from '../helpers/lab-service.ts';

let router: TestRouter | undefined;

afterEach(async () => {
  await router?.close();
  router = undefined;
});

/**
 * What an HTTP request to OpenAI carries: the client's bytes unchanged, zstd, the stripped retry,
 * compressed errors. The WebSocket upstream's own suite is proxy-websocket.test.ts.
 */
const httpUpstream = { CODEX_LAB_UPSTREAM_WEBSOCKET: 'off' };

async function start(): Promise<TestRouter> {
  router = await startTestRouter({
    homePrefix: 'codex-lab-fidelity-',
    accounts: [
      { email: 'alpha@example.com', reply: 'Hello from alpha.' },
      {
        email: 'beta@example.com',
        reply: 'Hello from beta.',
        encryptedContentRejection: 'null_code',
      },
    ],
    profiles: [
      ['alpha@example.com', 'alpha'],
      ['beta@example.com', 'beta'],
    ],
    env: httpUpstream,
  });
  return router;
}

/** A Codex-like conversation: every turn re-sends the whole history, output items included. */
class Conversation {
  readonly history: unknown[] = [];
  readonly session: string;
  readonly url: () => string;
  readonly token: () => string;

  constructor(session: string, url: () => string, token: () => string) {
    this.session = session;
    this.url = url;
    this.token = token;
  }

  body(text: string): string {
    this.history.push({
      type: 'message',
      role: 'user',
      content: [{ type: 'input_text', text }],
    });
    return JSON.stringify({
      model: 'gpt-6.2-sol',
      stream: true,
      store: false,
      include: ['reasoning.encrypted_content'],
      reasoning: { effort: 'medium', context: 'all_turns' },
      prompt_cache_key: this.session,
      input: this.history,
    });
  }

  async turn(text: string, headers: Record<string, string> = {}): Promise<Response> {
    const response = await fetch(`${this.url()}/backend-api/codex/responses`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${this.token()}`,
        'content-type': 'application/json',
        'session-id': this.session,
        ...headers,
      },
      body: this.body(text),
    });
    if (response.status !== 200) return response;
    const sse = await response.text();
    for (const line of sse.split('\n')) {
      if (!line.startsWith('data: ')) continue;
      const event = JSON.parse(line.slice(6)) as { type: string; item?: unknown };
      if (event.type === 'response.output_item.done') this.history.push(event.item);
    }
    return new Response(sse, { status: 200, headers: response.headers });
  }
}

function turnsSeen(current: TestRouter): RecordedRequest[] {
  return current.fake.requests.filter((request) => request.path === '/backend-api/codex/responses');
}

function blobsOf(request: RecordedRequest): string[] {
  const body = JSON.parse(request.body) as { input: Array<{ encrypted_content?: string }> };
  return body.input.flatMap((item) =>
    typeof item.encrypted_content === 'string' ? [item.encrypted_content] : [],
  );
}

function conversation(current: TestRouter, session: string): Conversation {
  return new Conversation(
    session,
    () => current.url,
    () => current.token,
  );
}

describe('account-bound reasoning ciphertext', () => {
  it('forwards the client’s bytes unchanged while the session stays on the profile that minted its history', async () => {
    const current = await start();
    const chat = conversation(current, 'steady');
    expect((await chat.turn('one', { 'x-codex-lab-profile': 'alpha' })).status).toBe(200);
    const body = chat.body('two');
    // Unusual spacing proves nothing was re-serialised.
    const bytes = body.replace('"stream":true', '"stream" :  true');
    const response = await fetch(`${current.url}/backend-api/codex/responses`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${current.token}`,
        'content-type': 'application/json',
        'session-id': 'steady',
        'x-codex-lab-profile': 'alpha',
      },
      body: bytes,
    });
    expect(response.status).toBe(200);
    await response.text();
    const seen = turnsSeen(current).at(-1)!;
    expect(seen.body).toBe(bytes);
    expect(blobsOf(seen).length).toBe(1);
  });

  it('falls back mid-session without foreign ciphertext, and keeps each profile’s own blobs byte-exact', async () => {
    const current = await start();
    await current.service.setActive({ profile: 'alpha' });
    const chat = conversation(current, 'moving');
    for (const text of ['one', 'two']) expect((await chat.turn(text)).status).toBe(200);
    const alpha = current.fake.account('alpha@example.com');
    const beta = current.fake.account('beta@example.com');
    alpha.stickyFailure = { kind: 'usage_limit', resetsInSeconds: 3600 };
    const moved = await chat.turn('three');
    expect(moved.status).toBe(200);
    expect(moved.headers.get('x-codex-lab-profile')).toBe('beta');
    expect(await moved.text()).toContain('Hello from beta.');
    const onBeta = turnsSeen(current).at(-1)!;
    expect(blobsOf(onBeta)).toEqual([]);
    // Later turns on beta keep beta's own reasoning; alpha's stays out.
    const later = await chat.turn('four');
    expect(later.status).toBe(200);
    const fourth = turnsSeen(current).at(-1)!;
    const kept = blobsOf(fourth);
    expect(kept.length).toBe(1);
    expect(checkEncryptedContent(current.fake, beta, kept[0]!)).toBe('ok');
    expect(fourth.body).toContain(kept[0]!);
    // No 400 was ever answered.
    expect(
      current.fake.requests.filter((request) => request.body.includes('could not be verified')),
    ).toEqual([]);
  });

  it('re-routes after a router restart without its journal with one stripped retry on the code:null rejection', async () => {
    const current = await start();
    await current.service.setActive({ profile: 'alpha' });
    const chat = conversation(current, 'restarted');
    expect((await chat.turn('one')).status).toBe(200);
    // With the journal moved away, a new router over the same home knows nothing of the session
    // (with it, the session stays on alpha: restart-sessions.test.ts).
    await current.service.stop();
    await rm(current.paths.activity);
    const restarted = createTestLabService(current.fake, current.paths, { env: httpUpstream });
    const { url } = await restarted.start({ port: 0 });
    const token = await restarted.routerToken();
    const again = new Conversation(
      'restarted',
      () => url,
      () => token,
    );
    again.history.push(...chat.history);
    current.fake.account('alpha@example.com').stickyFailure = {
      kind: 'usage_limit',
      resetsInSeconds: 3600,
    };
    const before = turnsSeen(current).length;
    try {
      const moved = await again.turn('two');
      expect(moved.status).toBe(200);
      expect(await moved.text()).toContain('Hello from beta.');
      const attempts = turnsSeen(current).slice(before);
      // alpha 429, beta 400 (foreign blob, code null), beta again stripped: 200.
      expect(attempts.length).toBe(3);
      expect(blobsOf(attempts[1]!).length).toBe(1);
      expect(blobsOf(attempts[2]!)).toEqual([]);
      // The refusal taught the router that alpha's unseen blob is not beta's: later turns go once,
      // with alpha's blob removed up front and beta's own reasoning kept byte-exact.
      const beta = current.fake.account('beta@example.com');
      for (const text of ['three', 'four']) {
        const sent = turnsSeen(current).length;
        const later = await again.turn(text);
        expect(later.status).toBe(200);
        await later.text();
        const seen = turnsSeen(current).slice(sent);
        expect(seen.length).toBe(1);
        const kept = blobsOf(seen[0]!);
        expect(kept.length).toBe(text === 'three' ? 1 : 2);
        for (const blob of kept) expect(checkEncryptedContent(current.fake, beta, blob)).toBe('ok');
      }
    } finally {
      await restarted.stop();
    }
  });

  it('retries at most once and passes a 400 that only looks like the ciphertext error to the client', async () => {
    const current = await start();
    const chat = conversation(current, 'lookalike');
    const beta = current.fake.account('beta@example.com');
    // A blob beta minted, truncated: undecryptable for everyone, even stripped twice.
    const broken = mintEncryptedContent(current.fake, beta, 'rs_x').slice(0, -7);
    chat.history.push({ type: 'reasoning', summary: [], encrypted_content: broken });
    beta.failures.push({
      kind: 'bad_request',
      message:
        'The encrypted content gAAA...abcd could not be verified. Reason: Encrypted content could not be decrypted or parsed.',
    });
    beta.failures.push({
      kind: 'bad_request',
      message: 'The encrypted content gAAA...abcd could not be verified. Reason: nope.',
    });
    const before = turnsSeen(current).length;
    const response = await chat.turn('hi', { 'x-codex-lab-profile': 'beta' });
    expect(response.status).toBe(400);
    const error = ((await response.json()) as { error: { message: string } }).error;
    expect(error.message).toContain('Reason: nope.');
    expect(turnsSeen(current).length - before).toBe(2);
  });
});

describe('compressed answers', () => {
  it('recognises a zstd-compressed 429 and falls back, as Codex 0.171 asks for zstd', async () => {
    const current = await start();
    setCompression(current.fake, true);
    await current.service.setActive({ profile: 'alpha' });
    current.fake.account('alpha@example.com').stickyFailure = {
      kind: 'usage_limit',
      resetsInSeconds: 3600,
    };
    const chat = conversation(current, 'zstd');
    const response = await chat.turn('hi', { 'accept-encoding': 'zstd,gzip' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-codex-lab-profile')).toBe('beta');
    expect(response.headers.get('x-codex-lab-route')).toBe('fallback');
    const state = await current.service.getState();
    expect(state.profiles.find((profile) => profile.name === 'alpha')?.status).toBe('limited');
  });

  it('passes a compressed error it has read on with its encoding intact', async () => {
    const current = await start();
    setCompression(current.fake, true);
    current.fake.account('alpha@example.com').stickyFailure = {
      kind: 'usage_limit',
      resetsInSeconds: 3600,
    };
    const chat = conversation(current, 'pinned-zstd');
    const response = await chat.turn('hi', {
      'accept-encoding': 'gzip',
      'x-codex-lab-profile': 'alpha',
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('content-encoding')).toBe('gzip');
    // fetch decodes it: the bytes were a valid gzip stream of the upstream's body.
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe(
      'usage_limit_reached',
    );
  });
});

describe('WebSocket upgrades', () => {
  it('answers 426 at once on any path and never forwards the upgrade', async () => {
    const current = await start();
    for (const path of ['/backend-api/codex/responses', '/backend-api/other', '/lab/v1/events']) {
      const status = await new Promise<number>((resolve, reject) => {
        const request = httpRequest(`${current.url}${path}`, {
          headers: {
            authorization: `Bearer ${current.token}`,
            connection: 'Upgrade',
            upgrade: 'websocket',
            'sec-websocket-version': '13',
            'sec-websocket-key': Buffer.from('0123456789abcdef').toString('base64'),
          },
        });
        request.on('response', (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        request.on('upgrade', () => reject(new Error('upgraded')));
        request.on('error', reject);
        request.end();
      });
      expect(status, path).toBe(426);
    }
    expect(current.fake.requests.filter((request) => request.method === 'GET')).toEqual([]);
  });
});

describe('Codex’s own ChatGPT-side traffic', () => {
  it('reaches the upstream with the user’s own token, untouched, while the pool stays closed to it', async () => {
    const current = await start();
    current.fake.addAccount({ email: 'me@example.com' });
    const mine = issueTokens(current.fake, 'me@example.com').accessToken;
    const plugins = await fetch(`${current.url}/backend-api/ps/plugins/installed?limit=200`, {
      headers: { authorization: `Bearer ${mine}`, 'chatgpt-account-id': 'acct-meexamplecom' },
    });
    expect(plugins.status).toBe(200);
    expect(plugins.headers.get('x-codex-lab-profile')).toBeNull();
    expect(await plugins.json()).toEqual({
      plugins: [],
      pagination: { limit: 1000, next_page_token: null },
    });
    const seen = current.fake.requests.at(-1)!;
    expect(seen.path).toBe('/backend-api/ps/plugins/installed?limit=200');
    expect(seen.headers['authorization']).toBe(`Bearer ${mine}`);
    expect(seen.headers['chatgpt-account-id']).toBe('acct-meexamplecom');
    const mcp = await fetch(`${current.url}/backend-api/ps/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: {} }),
    });
    expect(mcp.status).toBe(200);
    expect(current.fake.requests.at(-1)!.headers['authorization']).toBeUndefined();
    // A turn with the user's own token is the user's own business: no profile is used for it.
    const ownTurn = await new Conversation(
      'own',
      () => current.url,
      () => mine,
    ).turn('hi');
    expect(ownTurn.headers.get('x-codex-lab-profile')).toBeNull();
    expect(turnsSeen(current).at(-1)!.headers['authorization']).toBe(`Bearer ${mine}`);
  });

  it('answers the usage read with the pool’s view once the upstream accepts the user’s own token', async () => {
    const current = await start();
    current.fake.addAccount({
      email: 'me@example.com',
      primary: {
        usedPercent: 100,
        windowMinutes: 300,
        resetAt: Date.now() / 1000 + 3600,
        unstarted: false,
      },
    });
    const mine = issueTokens(current.fake, 'me@example.com').accessToken;
    // One routed turn teaches the router a profile's numbers.
    await (await conversation(current, 'teach').turn('hi')).text();
    const usage = await fetch(`${current.url}/backend-api/wham/usage`, {
      headers: { authorization: `Bearer ${mine}` },
    });
    expect(usage.status).toBe(200);
    expect(['alpha', 'beta']).toContain(usage.headers.get('x-codex-lab-profile'));
    const body = (await usage.json()) as {
      rate_limit: { allowed: boolean; limit_reached: boolean };
    };
    expect(body.rate_limit.limit_reached).toBe(false);
    const seen = current.fake.requests.filter(
      (request) => request.path === '/backend-api/wham/usage',
    );
    expect(seen.some((request) => request.headers['authorization'] === `Bearer ${mine}`)).toBe(
      true,
    );
    const stranger = await fetch(`${current.url}/backend-api/wham/usage`, {
      headers: { authorization: 'Bearer not-a-chatgpt-token' },
    });
    expect(stranger.status).toBe(401);
    expect(stranger.headers.get('x-codex-lab-profile')).toBeNull();
  });

  it('passes the hosted MCP server’s OAuth discovery at the origin’s root to the upstream', async () => {
    const current = await start();
    // What Codex's MCP client (rmcp) asks the origin of `{chatgpt_base_url}/ps/mcp` for, at its
    // root: natively chatgpt.com answers these, through the router the router did (404).
    for (const path of [
      '/.well-known/oauth-protected-resource/backend-api/ps/mcp',
      '/.well-known/oauth-protected-resource',
      '/.well-known/oauth-authorization-server/backend-api/ps/mcp',
      '/.well-known/openid-configuration/backend-api/ps/mcp',
      '/.well-known/oauth-authorization-server',
    ]) {
      const answer = await fetch(`${current.url}${path}`, {
        // A router token sent there by mistake never leaves the machine.
        headers: { authorization: `Bearer ${current.token}`, accept: 'application/json' },
      });
      expect(await answer.json(), path).toEqual({
        error: { message: 'Not found', type: 'invalid_request_error' },
      });
      const seen = current.fake.requests.at(-1)!;
      expect(seen.path).toBe(path);
      expect(seen.headers['authorization']).toBeUndefined();
    }
    // Nothing else at the root goes anywhere.
    const other = await fetch(`${current.url}/.well-known/security.txt`);
    expect(other.status).toBe(404);
    await other.text();
    expect(current.fake.requests.at(-1)!.path).not.toBe('/.well-known/security.txt');
  });

  it('names the account whose numbers the pool’s usage view shows, as the upstream’s answer does', async () => {
    const current = await start();
    current.fake.addAccount({ email: 'me@example.com' });
    const mine = issueTokens(current.fake, 'me@example.com').accessToken;
    // One routed turn teaches the router a profile's numbers: the view is drawn from them.
    await (await conversation(current, 'identity').turn('hi')).text();
    const usage = await fetch(`${current.url}/backend-api/wham/usage`, {
      headers: { authorization: `Bearer ${mine}`, 'chatgpt-account-id': 'acct-meexamplecom' },
    });
    expect(usage.status).toBe(200);
    const pick = usage.headers.get('x-codex-lab-profile')!;
    const account = current.fake.account(`${pick}@example.com`);
    // Codex reads `account_id` into `account/rateLimits/read`'s `accountId` (native: the
    // account's id; before, null through the router whenever it knew the numbers).
    expect(await usage.json()).toMatchObject({
      user_id: account.userId,
      account_id: account.accountId,
      email: account.email,
      plan_type: account.plan,
    });
  });

  it('shows the caller’s reset credits only when the pool’s view is the caller’s own account', async () => {
    const current = await start();
    const credit = {
      id: 'credit-1',
      resetType: 'codex_rate_limits',
      status: 'available',
      grantedAt: Math.floor(Date.now() / 1000) - 3600,
      expiresAt: Math.floor(Date.now() / 1000) + 86_400,
      title: 'One reset',
    };
    current.fake.addAccount({ email: 'me@example.com' });
    current.fake.account('me@example.com').resetCredits = [credit];
    const mine = issueTokens(current.fake, 'me@example.com').accessToken;
    const credits = (token: string, accountId: string) =>
      fetch(`${current.url}/backend-api/wham/rate-limit-reset-credits`, {
        headers: { authorization: `Bearer ${token}`, 'chatgpt-account-id': accountId },
      });
    const readsWith = (token: string) =>
      current.fake.requests.filter(
        (request) =>
          request.path === '/backend-api/wham/rate-limit-reset-credits' &&
          request.headers['authorization'] === `Bearer ${token}`,
      ).length;

    // The user's own account is not the one the pool's view shows: its credit would reset the
    // wrong account's limit, so none is offered.
    const own = await credits(mine, 'acct-meexamplecom');
    expect(own.status).toBe(200);
    const pick = own.headers.get('x-codex-lab-profile');
    expect(['alpha', 'beta']).toContain(pick);
    expect(await own.json()).toEqual({ available_count: 0, credits: [] });
    // The upstream accepted the user's own token first; no profile's token was used for it.
    expect(readsWith(mine)).toBe(1);
    expect(current.fake.requests.at(-1)!.headers['authorization']).toBe(`Bearer ${mine}`);
    const usage = await fetch(`${current.url}/backend-api/wham/usage`, {
      headers: { authorization: `Bearer ${mine}`, 'chatgpt-account-id': 'acct-meexamplecom' },
    });
    expect(usage.headers.get('x-codex-lab-profile')).toBe(pick);
    await usage.text();

    // The caller is signed in to the very account the pool's view shows: its own answer, as sent.
    const email = `${pick!}@example.com`;
    current.fake.account(email).resetCredits = [credit];
    const same = issueTokens(current.fake, email).accessToken;
    const sameAnswer = await credits(same, current.fake.account(email).accountId);
    expect(sameAnswer.status).toBe(200);
    expect(sameAnswer.headers.get('x-codex-lab-profile')).toBeNull();
    const body = (await sameAnswer.json()) as { available_count: number; credits: unknown[] };
    expect(body.available_count).toBe(1);
    expect(body.credits).toHaveLength(1);

    // A token the upstream refuses gets the upstream's answer.
    const stranger = await credits('not-a-chatgpt-token', 'acct-meexamplecom');
    expect(stranger.status).toBe(401);
    expect(stranger.headers.get('x-codex-lab-profile')).toBeNull();

    // Redeeming a credit is the caller's own request: it goes upstream with the caller's token.
    const consume = await fetch(
      `${current.url}/backend-api/wham/rate-limit-reset-credits/consume`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${mine}`,
          'chatgpt-account-id': 'acct-meexamplecom',
          'content-type': 'application/json',
        },
        body: JSON.stringify({ redeem_request_id: 'redeem-1', credit_id: 'credit-1' }),
      },
    );
    await consume.text();
    expect(consume.headers.get('x-codex-lab-profile')).toBeNull();
    const consumed = current.fake.requests.at(-1)!;
    expect(consumed.path).toBe('/backend-api/wham/rate-limit-reset-credits/consume');
    expect(consumed.headers['authorization']).toBe(`Bearer ${mine}`);
    expect(consumed.body).toBe(
      JSON.stringify({ redeem_request_id: 'redeem-1', credit_id: 'credit-1' }),
    );
  });
});

describe('zstd request bodies upstream', () => {
  /** A Codex-sized turn (~64 KB of history) as plain JSON. */
  function largeTurn(session: string): string {
    const filler = 'export function handler(request) { return request.body; }\n'.repeat(1100);
    return JSON.stringify({
      model: 'gpt-6.2-sol',
      stream: true,
      store: false,
      prompt_cache_key: session,
      input: [
        { type: 'function_call_output', call_id: 'call_1', output: filler },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'next' }] },
      ],
    });
  }

  const send = (current: TestRouter, payload: string) =>
    fetch(`${current.url}/backend-api/codex/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${current.token}`, 'content-type': 'application/json' },
      body: payload,
    });

  it('compresses a large turn with zstd and leaves a small one plain', async () => {
    const current = await start();
    const payload = largeTurn('zstd-large');
    const response = await send(current, payload);
    expect(response.status).toBe(200);
    await response.text();
    const seen = turnsSeen(current).at(-1)!;
    expect(seen.headers['content-encoding']).toBe('zstd');
    expect(seen.body).toBe(payload);
    expect(seen.bytes).toBeLessThan(Buffer.byteLength(payload) / 2.5);
    const small = await (await conversation(current, 'zstd-small').turn('hi')).text();
    expect(small).toContain('response.completed');
    expect(turnsSeen(current).at(-1)!.headers['content-encoding']).toBeUndefined();
  });

  it('compresses many large turns sent at once, each whole and to its own request', async () => {
    // More turns than compressions run at once: the rest wait their turn, none is lost or mixed.
    const current = await start();
    const sessions = Array.from({ length: 12 }, (_, index) => `zstd-many-${index}`);
    const before = turnsSeen(current).length;
    // Each request names its session in a header, which the router forwards as it came: the
    // body that reached the upstream with that header must be that session's.
    const responses = await Promise.all(
      sessions.map((session) =>
        fetch(`${current.url}/backend-api/codex/responses`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${current.token}`,
            'content-type': 'application/json',
            'session-id': session,
          },
          body: largeTurn(session),
        }),
      ),
    );
    for (const response of responses) {
      expect(response.status).toBe(200);
      await response.text();
    }
    const seen = turnsSeen(current).slice(before);
    expect(seen).toHaveLength(sessions.length);
    for (const turn of seen) {
      expect(turn.headers['content-encoding']).toBe('zstd');
      expect(turn.body).toBe(largeTurn(String(turn.headers['session-id'])));
    }
    expect(new Set(seen.map((turn) => turn.headers['session-id']))).toEqual(new Set(sessions));
  });

  it('resends plain when the upstream refuses the encoding, and stays plain', async () => {
    const current = await start();
    setRefuseEncodedBodies(current.fake, true);
    const payload = largeTurn('zstd-refused');
    const before = turnsSeen(current).length;
    const response = await send(current, payload);
    expect(response.status).toBe(200);
    await response.text();
    const attempts = turnsSeen(current).slice(before);
    expect(attempts.map((attempt) => attempt.headers['content-encoding'])).toEqual([
      'zstd',
      undefined,
    ]);
    expect(attempts[1]!.body).toBe(payload);
    const again = await send(current, largeTurn('zstd-refused-2'));
    await again.text();
    expect(turnsSeen(current).at(-1)!.headers['content-encoding']).toBeUndefined();
  });

  it('sends plain bodies when CODEX_LAB_UPSTREAM_ZSTD is off', async () => {
    const current = await start();
    await current.service.stop();
    const plain = createTestLabService(current.fake, current.paths, {
      env: { ...httpUpstream, CODEX_LAB_UPSTREAM_ZSTD: 'off' },
    });
    const { url } = await plain.start({ port: 0 });
    try {
      const response = await fetch(`${url}/backend-api/codex/responses`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await plain.routerToken()}`,
          'content-type': 'application/json',
        },
        body: largeTurn('zstd-off'),
      });
      expect(response.status).toBe(200);
      await response.text();
      expect(turnsSeen(current).at(-1)!.headers['content-encoding']).toBeUndefined();
    } finally {
      await plain.stop();
    }
  });
});

describe('the hot path parses nothing when nothing must change', () => {
  /** Codex's own headers: the session and the model travel outside the body. */
  const codexHeaders = (current: TestRouter, session: string) => ({
    authorization: `Bearer ${current.token}`,
    'content-type': 'application/json',
    'session-id': session,
    'x-codex-turn-metadata': JSON.stringify({ session_id: session, model: 'gpt-6.2-sol' }),
  });

  it('routes a turn with Codex’s headers without reading its body (the upstream judges it)', async () => {
    const current = await start();
    // Not JSON at all: had the router parsed it, it would have answered 400 itself.
    const bytes = '{"model":"gpt-6.2-sol","input":[ this is not json';
    const response = await fetch(`${current.url}/backend-api/codex/responses`, {
      method: 'POST',
      headers: codexHeaders(current, 'unparsed'),
      body: bytes,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-codex-lab-profile')).not.toBeNull();
    await response.text();
    expect(turnsSeen(current).at(-1)!.body).toBe(bytes);
  });

  it('answers a clear 400 when a body that must be rewritten is not JSON', async () => {
    const current = await start();
    await current.service.setActive({ profile: 'alpha' });
    const chat = conversation(current, 'broken-rewrite');
    expect((await chat.turn('one')).status).toBe(200);
    current.fake.account('alpha@example.com').stickyFailure = {
      kind: 'usage_limit',
      resetsInSeconds: 3600,
    };
    const response = await fetch(`${current.url}/backend-api/codex/responses`, {
      method: 'POST',
      headers: codexHeaders(current, 'broken-rewrite'),
      body: '{"input":[{"type":"reasoning","encrypted_content":"gAAAAA',
    });
    expect(response.status).toBe(400);
    const error = ((await response.json()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('bad_request');
    expect(error.message).toMatch(/not valid JSON/);
    expect(error.message).not.toContain('gAAAAA');
  });
});
