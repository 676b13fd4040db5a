/**
 * The fake speaks today's protocol (docs/codex-0.171-notes.md): account-bound reasoning
 * ciphertext and its two rejection shapes, compressed answers, the ChatGPT-side endpoints and
 * WebSocket upgrades. Over real HTTP on loopback.
 */
import { request as httpRequest } from 'node:http';
import { zstdDecompressSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mintEncryptedContent } from '../fakes/ciphertext.ts';
import { registerAccessToken, setCompression } from '../fakes/fake-backend.ts';
import { startFakeChatGpt, type FakeChatGpt } from '../fakes/fake-chatgpt.ts';

let fake: FakeChatGpt;

beforeEach(async () => {
  fake = await startFakeChatGpt();
  fake.addAccount({ email: 'a@example.com' });
  fake.addAccount({ email: 'b@example.com', encryptedContentRejection: 'null_code' });
  registerAccessToken(fake, 'token-a', 'a@example.com');
  registerAccessToken(fake, 'token-b', 'b@example.com');
});

afterEach(async () => {
  await fake.close();
});

function turn(token: string, input: unknown[], headers: Record<string, string> = {}) {
  return fetch(`${fake.backendUrl}/codex/responses`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({
      model: 'gpt-6.2-sol',
      stream: true,
      store: false,
      include: ['reasoning.encrypted_content'],
      input,
    }),
  });
}

/** The reasoning items of a streamed answer, from `response.output_item.done`. */
function reasoningItems(sse: string): Array<{ id: string; encrypted_content?: string }> {
  return sse
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice(6)) as { type: string; item?: { type: string } })
    .filter(
      (event) => event.type === 'response.output_item.done' && event.item?.type === 'reasoning',
    )
    .map((event) => event.item as unknown as { id: string; encrypted_content?: string });
}

describe('fake backend: account-bound reasoning ciphertext', () => {
  it('answers with a reasoning item whose encrypted_content the same account accepts back', async () => {
    const first = await turn('token-a', []);
    const sse = await first.text();
    const [item] = reasoningItems(sse);
    expect(item?.encrypted_content).toMatch(/^gAAAAA/);
    expect(sse).toContain(item!.encrypted_content!);
    const replay = await turn('token-a', [{ type: 'reasoning', summary: [], ...item }]);
    expect(replay.status).toBe(200);
    await replay.text();
  });

  it('refuses another account’s ciphertext with code invalid_encrypted_content', async () => {
    const blob = mintEncryptedContent(fake, fake.account('b@example.com'), 'rs_1');
    const response = await turn('token-a', [
      { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: blob },
    ]);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: Record<string, unknown> };
    expect(body.error['code']).toBe('invalid_encrypted_content');
    expect(body.error['type']).toBe('invalid_request_error');
    expect(body.error['message']).toContain('organization_id did not match');
    expect(body.error['message']).not.toContain(blob);
  });

  it('refuses in the code:null shape, and treats a truncated blob as undecryptable', async () => {
    const foreign = mintEncryptedContent(fake, fake.account('a@example.com'), 'rs_2');
    const onB = await turn('token-b', [{ type: 'compaction', encrypted_content: foreign }]);
    expect(onB.status).toBe(400);
    const body = (await onB.json()) as { error: Record<string, unknown> };
    expect(body.error['code']).toBeNull();
    expect(body.error['message']).toMatch(/could not be verified/);
    const truncated = await turn('token-a', [
      { type: 'reasoning', summary: [], encrypted_content: foreign.slice(0, -10) },
    ]);
    expect(truncated.status).toBe(400);
    expect(((await truncated.json()) as { error: { message: string } }).error.message).toContain(
      'could not be decrypted or parsed',
    );
  });
});

describe('fake backend: compressed answers', () => {
  it('compresses 429 bodies, usage and SSE with zstd or gzip when the request allows it', async () => {
    setCompression(fake, true);
    fake.account('a@example.com').failures.push({ kind: 'usage_limit', resetsInSeconds: 60 });
    const raw = await new Promise<{ status: number; encoding: string; body: Buffer }>(
      (resolve, reject) => {
        const request = httpRequest(
          `${fake.backendUrl}/codex/responses`,
          {
            method: 'POST',
            headers: {
              authorization: 'Bearer token-a',
              'content-type': 'application/json',
              'accept-encoding': 'zstd,gzip',
            },
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () =>
              resolve({
                status: response.statusCode ?? 0,
                encoding: String(response.headers['content-encoding']),
                body: Buffer.concat(chunks),
              }),
            );
          },
        );
        request.on('error', reject);
        request.end(JSON.stringify({ model: 'm', input: [] }));
      },
    );
    expect(raw.status).toBe(429);
    expect(raw.encoding).toBe('zstd');
    expect(JSON.parse(zstdDecompressSync(raw.body).toString()).error.type).toBe(
      'usage_limit_reached',
    );
    // fetch decodes by itself; the header says what came over the wire.
    const usage = await fetch(`${fake.backendUrl}/wham/usage`, {
      headers: { authorization: 'Bearer token-a', 'accept-encoding': 'gzip' },
    });
    expect(usage.headers.get('content-encoding')).toBe('gzip');
    expect(((await usage.json()) as { plan_type: string }).plan_type).toBe('plus');
    const stream = await turn('token-a', [], { 'accept-encoding': 'gzip' });
    expect(stream.headers.get('content-encoding')).toBe('gzip');
    expect(await stream.text()).toContain('response.completed');
    const plain = await turn('token-a', [], { 'accept-encoding': 'identity' });
    expect(plain.headers.get('content-encoding')).toBeNull();
    await plain.text();
  });
});

describe('fake ChatGPT: the side endpoints Codex calls with the user’s own token', () => {
  const paths = [
    '/ps/plugins/installed?limit=200',
    '/ps/plugins/tooling-state/turtle',
    '/ps/plugins/suggested/codex?scope=GLOBAL&includeInstalled=false',
    '/wham/settings/user',
    '/wham/rate-limit-reset-credits',
  ];

  it('serves them for a valid ChatGPT token and refuses any other bearer with WWW-Authenticate', async () => {
    for (const path of paths) {
      const ok = await fetch(`${fake.backendUrl}${path}`, {
        headers: { authorization: 'Bearer token-a' },
      });
      expect(ok.status, path).toBe(200);
      await ok.text();
      const other = await fetch(`${fake.backendUrl}${path}`, {
        headers: { authorization: 'Bearer router-token' },
      });
      expect(other.status, path).toBe(401);
      expect(other.headers.get('www-authenticate')).toMatch(/^Bearer/);
      await other.text();
    }
    const analytics = await fetch(`${fake.backendUrl}/codex/analytics-events/events`, {
      method: 'POST',
      headers: { authorization: 'Bearer token-a', 'content-type': 'application/json' },
      body: '{"events":[]}',
    });
    expect(analytics.status).toBe(202);
  });

  it('speaks JSON-RPC on ps/mcp, anonymously or with a valid token, and refuses a foreign bearer', async () => {
    const rpc = (body: unknown, authorization?: string) =>
      fetch(`${fake.backendUrl}/ps/mcp`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify(body),
      });
    const init = await rpc({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18' },
    });
    expect(init.status).toBe(200);
    expect(
      ((await init.json()) as { result: { protocolVersion: string } }).result.protocolVersion,
    ).toBe('2025-06-18');
    const tools = await rpc({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, 'Bearer token-a');
    expect(((await tools.json()) as { result: { tools: unknown[] } }).result.tools).toEqual([]);
    const foreign = await rpc({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, 'Bearer nope');
    expect(foreign.status).toBe(401);
    expect(foreign.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });
});

describe('fake backend: WebSocket upgrades on the responses path', () => {
  const upgrade = () =>
    new Promise<number>((resolve, reject) => {
      const request = httpRequest(`${fake.backendUrl}/codex/responses`, {
        headers: {
          authorization: 'Bearer token-a',
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
      request.on('upgrade', (_response, socket) => {
        socket.destroy();
        resolve(101);
      });
      request.on('error', reject);
      request.end();
    });

  it('records every upgrade; accepts it by default, as the real backend does, and refuses it on demand', async () => {
    expect(await upgrade()).toBe(101);
    fake.webSocketUpgrades = 'refuse';
    expect(await upgrade()).toBe(400);
    expect(fake.upgrades).toHaveLength(2);
    expect(fake.requests.filter((recorded) => recorded.upgrade)).toEqual([]);
  });
});
