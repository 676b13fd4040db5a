import { describe, expect, it } from 'vitest';
import {
  buildPrimeRequest,
  describePrimeRequest,
  processPrimeResponse,
} from '../../../core/priming/request.ts';
import { readConfig } from '../../../core/config.ts';

const secret = 'at-SECRET-token-123';
const account = 'acct-SECRET-456';

function sse(events: object[], tail = ''): Response {
  const text =
    events.map((event) => `event: x\ndata: ${JSON.stringify(event)}\n\n`).join('') + tail;
  return new Response(text, { status: 200, headers: { 'content-type': 'text/event-stream' } });
}

describe('buildPrimeRequest', () => {
  const request = buildPrimeRequest({
    baseUrl: 'https://chatgpt.com/backend-api/',
    credentials: { accessToken: secret, accountId: account },
  });
  const body = JSON.parse(request.body) as Record<string, unknown>;

  it('goes where the account’s workspace says: its origin, the same path, its residency override', () => {
    const routed = buildPrimeRequest({
      baseUrl: 'https://chatgpt.com/backend-api/',
      credentials: { accessToken: secret, accountId: account },
      routing: { origin: 'https://gov.chatgpt.example', override: 'us' },
    });
    expect(routed.url).toBe('https://gov.chatgpt.example/backend-api/codex/responses');
    expect(routed.headers['x-openai-account-routing-override']).toBe('us');
    const personal = buildPrimeRequest({
      baseUrl: 'https://chatgpt.com/backend-api/',
      credentials: { accessToken: secret, accountId: account },
      routing: { origin: null, override: null },
    });
    expect(personal.url).toBe('https://chatgpt.com/backend-api/codex/responses');
    expect(personal.headers).not.toHaveProperty('x-openai-account-routing-override');
  });

  it('posts one tiny streamed turn with no instructions and no tools', () => {
    expect(request.method).toBe('POST');
    expect(request.url).toBe('https://chatgpt.com/backend-api/codex/responses');
    expect(body).not.toHaveProperty('instructions');
    expect(body).not.toHaveProperty('tools');
    expect(body).not.toHaveProperty('max_output_tokens');
    expect(body).toMatchObject({
      model: 'gpt-5.1-codex-mini',
      stream: true,
      store: false,
      reasoning: { effort: 'low' },
      input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }],
    });
    expect(request.body.length).toBeLessThan(250);
  });

  it('sends the profile credentials and Codex identity headers', () => {
    expect(request.headers['authorization']).toBe(`Bearer ${secret}`);
    expect(request.headers['chatgpt-account-id']).toBe(account);
    expect(request.headers['originator']).toBe('codex_cli_rs');
    expect(request.headers['user-agent']).toMatch(/^codex_cli_rs\//);
    expect(request.headers['accept']).toBe('text/event-stream');
  });

  it('uses the profile model when one is set', () => {
    const custom = buildPrimeRequest({
      baseUrl: 'http://x/backend-api',
      credentials: { accessToken: secret, accountId: null },
      model: 'gpt-5.4-mini',
    });
    expect(JSON.parse(custom.body).model).toBe('gpt-5.4-mini');
    expect(custom.headers).not.toHaveProperty('chatgpt-account-id');
  });

  it('describes the request with the credentials redacted', () => {
    const text = describePrimeRequest(request);
    expect(text).toContain('POST https://chatgpt.com/backend-api/codex/responses');
    expect(text).toContain('authorization: Bearer <redacted>');
    expect(text).toContain('chatgpt-account-id: <redacted>');
    expect(text).toContain('"model": "gpt-5.1-codex-mini"');
    expect(text).not.toContain(secret);
    expect(text).not.toContain(account);
  });

  it('reads the base URL from CODEX_LAB_CHATGPT_BASE_URL', () => {
    expect(readConfig({}).chatGptBaseUrl).toBe('https://chatgpt.com/backend-api');
    expect(
      readConfig({ CODEX_LAB_CHATGPT_BASE_URL: 'http://127.0.0.1:9/backend-api/' }).chatGptBaseUrl,
    ).toBe('http://127.0.0.1:9/backend-api');
  });
});

describe('processPrimeResponse', () => {
  it('succeeds only on response.completed', async () => {
    const result = await processPrimeResponse(
      sse([
        { type: 'response.created', response: { id: 'resp_1' } },
        { type: 'response.output_text.delta', delta: 'hi' },
        { type: 'response.completed', response: { id: 'resp_1', model: 'gpt-5.1-codex-mini' } },
      ]),
    );
    expect(result).toEqual({ ok: true, responseId: 'resp_1', model: 'gpt-5.1-codex-mini' });
  });

  it('fails a stream that ends before response.completed', async () => {
    const result = await processPrimeResponse(
      sse([{ type: 'response.created', response: { id: 'r' } }]),
    );
    expect(result).toMatchObject({ ok: false, kind: 'stream' });
  });

  it('fails response.failed and response.incomplete', async () => {
    const failed = await processPrimeResponse(
      sse([{ type: 'response.failed', response: { error: { code: 'server_error' } } }]),
    );
    expect(failed).toMatchObject({ ok: false, kind: 'server' });
    const incomplete = await processPrimeResponse(
      sse([
        {
          type: 'response.incomplete',
          response: { incomplete_details: { reason: 'max_output_tokens' } },
        },
      ]),
    );
    expect(incomplete).toMatchObject({ ok: false, kind: 'stream' });
  });

  it('classifies error statuses', async () => {
    const json = (status: number, body: object) =>
      new Response(JSON.stringify(body), {
        status,
        headers: { 'content-type': 'application/json' },
      });
    expect(
      await processPrimeResponse(json(500, { error: { type: 'server_error' } })),
    ).toMatchObject({ kind: 'server', status: 500 });
    expect(await processPrimeResponse(json(400, { error: { message: 'bad' } }))).toMatchObject({
      kind: 'rejected',
    });
    expect(await processPrimeResponse(json(401, {}))).toMatchObject({ kind: 'auth' });
    expect(
      await processPrimeResponse(
        json(429, { error: { type: 'usage_limit_reached', resets_at: 1 } }),
      ),
    ).toMatchObject({ kind: 'limited' });
  });
});
