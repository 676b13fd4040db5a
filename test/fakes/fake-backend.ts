/**
 * The fake ChatGPT's backend side (research/codex-protocol.md sections 5–7):
 * `POST /backend-api/codex/responses` (SSE), `POST /backend-api/codex/responses/compact`,
 * `GET /backend-api/codex/models` and `GET /backend-api/wham/usage`, with the `x-codex-*` quota
 * headers, the real 429 `usage_limit_reached` body and per-account scripted failures.
 *
 * As today's backend (research/codex-0.171-notes.md): answers carry a reasoning item whose
 * `encrypted_content` is bound to the account (`ciphertext.ts`), replayed foreign ciphertext is
 * refused with 400 `invalid_encrypted_content` in either real shape, and with `setCompression` every
 * answer (JSON and SSE) is compressed with zstd or gzip when the request's `Accept-Encoding` allows.
 *
 * Upstream bearers are mapped to accounts by the fake issuer (`accountForAccessToken`) when it
 * issued them, else through tokens registered here with `registerAccessToken` (direct tests).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  brotliDecompressSync,
  createGzip,
  createZstdCompress,
  gunzipSync,
  gzipSync,
  inflateSync,
  zstdCompressSync,
  zstdDecompressSync,
} from 'node:zlib';
import type { FakeAccount, FakeFailure, FakeWindow } from './accounts.ts';
import { encryptedContentError, firstRejectedBlob, mintEncryptedContent } from './ciphertext.ts';
import type { FakeChatGpt, FakeHandler } from './fake-chatgpt.ts';
import { accessTokenIsValid, accountForAccessToken } from './fake-issuer.ts';

/** Plans whose accounts are workspaces: without `ChatGPT-Account-Id` the usage endpoint answers for the personal (free) side. */
const workspacePlans = new Set(['team', 'business', 'enterprise', 'edu', 'education']);

/** The ETag the fake model list carries (Codex caches by it). */
export const fakeModelsEtag = '"fake-models-1"';

/** A registered upstream access token: which account it belongs to and when it expires. */
export interface RegisteredAccessToken {
  email: string;
  /** Unix seconds; undefined means "never". */
  expiresAt?: number;
  /** Revoked or rotated away: answered with 401. */
  revoked?: boolean;
}

const tokensKey = 'backend.accessTokens';
const failureResetsKey = 'backend.failureResets';

function tokenRegistry(fake: FakeChatGpt): Map<string, RegisteredAccessToken> {
  let registry = fake.extensions.get(tokensKey) as Map<string, RegisteredAccessToken> | undefined;
  if (!registry) {
    registry = new Map();
    fake.extensions.set(tokensKey, registry);
  }
  return registry;
}

/**
 * Makes the backend accept `token` as an access token of the account with `email` (for profiles
 * seeded without the sign-in flow). Tokens the fake issuer hands out need no registration.
 */
export function registerAccessToken(
  fake: FakeChatGpt,
  token: string,
  email: string,
  options: { expiresAt?: number } = {},
): void {
  tokenRegistry(fake).set(token, { email, ...options });
}

/** Makes a registered access token answer 401 from now on (as if it expired or was revoked). */
export function revokeAccessToken(fake: FakeChatGpt, token: string): void {
  const entry = tokenRegistry(fake).get(token);
  if (entry) entry.revoked = true;
}

/** The outcome of checking an upstream bearer. */
type BearerCheck =
  { ok: true; account: FakeAccount } | { ok: false; reason: 'missing' | 'unknown' | 'expired' };

/** Maps an `Authorization` header to an account, the way the real backend would judge it. */
export function accountForBearer(
  fake: FakeChatGpt,
  authorization: string | undefined,
): BearerCheck {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  const token = match?.[1];
  if (!token) return { ok: false, reason: 'missing' };
  const fromIssuer = accountForAccessToken(fake, token);
  if (fromIssuer) {
    return accessTokenIsValid(fake, token)
      ? { ok: true, account: fromIssuer }
      : { ok: false, reason: 'expired' };
  }
  const registered = tokenRegistry(fake).get(token);
  if (!registered) return { ok: false, reason: 'unknown' };
  const account = fake.accounts.get(registered.email);
  if (!account) return { ok: false, reason: 'unknown' };
  if (registered.revoked) return { ok: false, reason: 'expired' };
  if (registered.expiresAt !== undefined && registered.expiresAt <= fake.nowSeconds()) {
    return { ok: false, reason: 'expired' };
  }
  return { ok: true, account };
}

/**
 * Brings a window up to date for one observation: an unstarted window reports a reset one full
 * window from now (so `reset_at` keeps moving forward), and a window past its reset rolls over
 * to a fresh, unstarted one.
 */
export function observeWindow(window: FakeWindow, now: number): FakeWindow {
  if (!window.unstarted && window.resetAt <= now) {
    window.unstarted = true;
    window.usedPercent = 0;
  }
  if (window.unstarted) window.resetAt = now + window.windowMinutes * 60;
  return window;
}

/** Applies one completed turn: starts unstarted windows and adds `usagePerTurn`. */
export function chargeTurn(account: FakeAccount, now: number): void {
  for (const window of [account.primary, account.secondary]) {
    if (!window) continue;
    observeWindow(window, now);
    if (window.unstarted) {
      window.unstarted = false;
      window.resetAt = now + window.windowMinutes * 60;
    }
    window.usedPercent = Math.min(100, window.usedPercent + account.usagePerTurn);
  }
}

/** The reset a usage-limit failure reports, fixed the first time it is served. */
function failureResetAt(fake: FakeChatGpt, failure: FakeFailure & { kind: 'usage_limit' }): number {
  let resets = fake.extensions.get(failureResetsKey) as WeakMap<FakeFailure, number> | undefined;
  if (!resets) {
    resets = new WeakMap();
    fake.extensions.set(failureResetsKey, resets);
  }
  let resetAt = resets.get(failure);
  if (resetAt === undefined) {
    resetAt = fake.nowSeconds() + failure.resetsInSeconds;
    resets.set(failure, resetAt);
  }
  return resetAt;
}

/** The `x-codex-*` headers for an account's current windows (section 6.1). */
export function rateLimitHeaders(
  account: FakeAccount,
  now: number,
  limited?: { resetAt: number; limitId?: string },
): Record<string, string> {
  if (limited?.limitId !== undefined && limited.limitId !== 'codex') {
    // A family limit: the main windows are untouched, the family's window is full.
    const prefix = `x-${limited.limitId.replaceAll('_', '-')}`;
    return {
      ...rateLimitHeaders(account, now),
      'x-codex-active-limit': limited.limitId,
      [`${prefix}-limit-name`]: limited.limitId,
      [`${prefix}-primary-used-percent`]: '100',
      [`${prefix}-primary-window-minutes`]: '300',
      [`${prefix}-primary-reset-at`]: String(limited.resetAt),
    };
  }
  const headers: Record<string, string> = {
    'x-codex-plan-type': account.plan,
    'x-codex-active-limit': 'codex',
    'x-codex-credits-has-credits': String(account.credits.hasCredits),
    'x-codex-credits-unlimited': String(account.credits.unlimited),
    ...(account.credits.balance === null
      ? {}
      : { 'x-codex-credits-balance': account.credits.balance }),
  };
  const windows: Array<[string, FakeWindow | null]> = [
    ['primary', account.primary],
    ['secondary', account.secondary],
  ];
  // A limited account shows its tightest window full, resetting when the 429 says.
  const limitedSlot = account.primary ? 'primary' : 'secondary';
  for (const [slot, window] of windows) {
    if (!window) continue;
    observeWindow(window, now);
    const full = limited && slot === limitedSlot;
    const resetAt = full ? limited.resetAt : window.resetAt;
    headers[`x-codex-${slot}-used-percent`] = String(full ? 100 : window.usedPercent);
    headers[`x-codex-${slot}-window-minutes`] = String(window.windowMinutes);
    headers[`x-codex-${slot}-reset-at`] = String(resetAt);
    headers[`x-codex-${slot}-reset-after-seconds`] = String(Math.max(0, resetAt - now));
  }
  if (account.primary && account.secondary) {
    headers['x-codex-primary-over-secondary-limit-percent'] = '0';
  }
  return headers;
}

const compressionKey = 'backend.compression';
const refuseEncodedKey = 'backend.refuseEncodedBodies';

/**
 * Makes the backend refuse request bodies with a `Content-Encoding` (415), as an upstream that
 * stopped accepting compressed requests would: the router must then resend the body plain.
 */
export function setRefuseEncodedBodies(fake: FakeChatGpt, refuse: boolean): void {
  fake.extensions.set(refuseEncodedKey, refuse);
}
/** The encoding each answer gets, chosen from its request's `Accept-Encoding`. */
const answerEncodings = new WeakMap<ServerResponse, 'zstd' | 'gzip'>();

/**
 * Makes the fake compress every answer it sends (errors, usage, SSE streams) with zstd, else gzip,
 * whenever the request's `Accept-Encoding` allows it — as chatgpt.com does for Codex 0.171.
 */
export function setCompression(fake: FakeChatGpt, enabled: boolean): void {
  fake.extensions.set(compressionKey, enabled);
}

/** Picks the answer's encoding for `request` (call before answering on `response`). */
export function chooseAnswerEncoding(
  fake: FakeChatGpt,
  request: IncomingMessage,
  response: ServerResponse,
): void {
  if (fake.extensions.get(compressionKey) !== true) return;
  const accepted = String(request.headers['accept-encoding'] ?? '')
    .toLowerCase()
    .split(',')
    .map((entry) => entry.trim().split(';')[0]);
  const encoding = accepted.includes('zstd') ? 'zstd' : accepted.includes('gzip') ? 'gzip' : null;
  if (encoding) answerEncodings.set(response, encoding);
}

/** Sends a JSON answer (compressed when `chooseAnswerEncoding` picked an encoding). */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const encoding = answerEncodings.get(response);
  const text = Buffer.from(JSON.stringify(body));
  const payload =
    encoding === 'zstd' ? zstdCompressSync(text) : encoding === 'gzip' ? gzipSync(text) : text;
  response.writeHead(status, {
    'content-type': 'application/json',
    'x-oai-request-id': randomUUID(),
    ...(encoding ? { 'content-encoding': encoding, vary: 'accept-encoding' } : {}),
    'content-length': String(payload.length),
    ...headers,
  });
  response.end(payload);
}

/** Where an SSE stream's events go: the response itself, or a compressor in front of it. */
interface SseSink {
  write(text: string): void;
  end(): void;
  /** Writes `text`, then kills the connection (a reset in mid-stream). */
  writeThenReset(text: string): void;
}

function sseSink(response: ServerResponse): SseSink {
  const encoding = answerEncodings.get(response);
  if (!encoding) {
    return {
      write: (text) => void response.write(text),
      end: () => void response.end(),
      writeThenReset: (text) => void response.write(text, () => response.socket?.destroy()),
    };
  }
  const compressor = encoding === 'zstd' ? createZstdCompress() : createGzip();
  compressor.pipe(response);
  // Flushed per event, as a compressing server must for a stream the client reads live.
  return {
    write: (text) => {
      compressor.write(text);
      compressor.flush();
    },
    end: () => void compressor.end(),
    writeThenReset: (text) => {
      compressor.write(text);
      compressor.flush(() => setImmediate(() => response.socket?.destroy()));
    },
  };
}

/** The body of the real backend's 401 for an expired or unknown access token. */
function unauthorizedBody(reason: 'missing' | 'unknown' | 'expired'): Record<string, unknown> {
  const message =
    reason === 'expired'
      ? 'Provided authentication token is expired. Please try signing in again.'
      : reason === 'missing'
        ? 'Missing bearer or basic authentication in header'
        : 'Could not parse your authentication token. Please try signing in again.';
  return {
    error: {
      message,
      type: reason === 'missing' ? 'invalid_request_error' : null,
      code: reason === 'expired' ? 'token_expired' : 'invalid_token',
      param: null,
    },
    status: 401,
  };
}

/** 401 like the real backend's answer to an expired or unknown access token. */
export function sendUnauthorized(
  response: ServerResponse,
  reason: 'missing' | 'unknown' | 'expired',
): void {
  sendJson(response, 401, unauthorizedBody(reason));
}

function decodeRequestBody(request: IncomingMessage, raw: Buffer): Buffer {
  const encoding = String(request.headers['content-encoding'] ?? '').toLowerCase();
  if (encoding === '' || encoding === 'identity') return raw;
  if (encoding === 'zstd') return zstdDecompressSync(raw);
  if (encoding === 'gzip') return gunzipSync(raw);
  if (encoding === 'br') return brotliDecompressSync(raw);
  if (encoding === 'deflate') return inflateSync(raw);
  throw new Error(`unsupported content-encoding ${encoding}`);
}

/** Replaces the recorded (compressed) body with its decoded text so tests read JSON. */
function recordDecoded(
  fake: FakeChatGpt,
  request: IncomingMessage,
  raw: Buffer,
  decoded: Buffer,
): void {
  if (decoded === raw) return;
  const rawText = raw.toString('utf8');
  for (let index = fake.requests.length - 1; index >= 0; index -= 1) {
    const recorded = fake.requests[index];
    if (recorded && recorded.body === rawText && recorded.method === request.method) {
      recorded.body = decoded.toString('utf8');
      return;
    }
  }
}

function accountIdHeader(request: IncomingMessage): string | undefined {
  const value = request.headers['chatgpt-account-id'];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

export function nextFailure(account: FakeAccount): FakeFailure | null {
  return account.failures.shift() ?? account.stickyFailure;
}

/** A scripted failure's answer: status, JSON body and headers, the same over either transport. */
export interface FailureAnswer {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

/**
 * The answer a scripted failure gets, or null for one the stream itself plays (`reset_mid_stream`).
 * Over WebSocket it arrives wrapped in an `error` frame, as the real backend sends it.
 */
export function failureAnswer(
  fake: FakeChatGpt,
  account: FakeAccount,
  failure: FakeFailure,
): FailureAnswer | null {
  const now = fake.nowSeconds();
  switch (failure.kind) {
    case 'usage_limit': {
      const resetAt = failureResetAt(fake, failure);
      return {
        status: 429,
        body: {
          error: {
            type: 'usage_limit_reached',
            message: 'The usage limit has been reached',
            plan_type: account.plan,
            resets_at: resetAt,
            eligible_promo: null,
            resets_in_seconds: Math.max(0, resetAt - now),
          },
        },
        headers: rateLimitHeaders(account, now, {
          resetAt,
          ...(failure.limitId === undefined ? {} : { limitId: failure.limitId }),
        }),
      };
    }
    case 'unauthorized':
      return { status: 401, body: unauthorizedBody('expired'), headers: {} };
    case 'server_error':
      return {
        status: failure.status ?? 500,
        body: {
          error: {
            message: 'An error occurred while processing your request.',
            type: 'server_error',
            param: null,
            code: null,
          },
        },
        headers: {},
      };
    case 'bad_request':
      return {
        status: 400,
        body: {
          error: {
            message: failure.message ?? 'Invalid request.',
            type: 'invalid_request_error',
            param: null,
            code: null,
          },
        },
        headers: {},
      };
    case 'reset_mid_stream':
      // Played by the stream itself: it starts normally and dies part-way.
      return null;
  }
}

/** Serves a scripted failure; returns true when the request has been answered. */
function serveFailure(
  fake: FakeChatGpt,
  account: FakeAccount,
  failure: FakeFailure,
  response: ServerResponse,
): boolean {
  const answer = failureAnswer(fake, account, failure);
  if (!answer) return false;
  sendJson(response, answer.status, answer.body, answer.headers);
  return true;
}

/** Splits a reply into the delta chunks of an SSE stream: a few for short text, 256-char pieces for long. */
export function replyChunks(reply: string): string[] {
  if (reply.length === 0) return [''];
  const size = reply.length > 1024 ? 256 : Math.max(1, Math.ceil(reply.length / 4));
  const chunks: string[] = [];
  for (let start = 0; start < reply.length; start += size)
    chunks.push(reply.slice(start, start + size));
  return chunks;
}

/** The fields of a turn's body the fake acts on. */
export interface TurnRequest {
  model: string;
  /** `include: ["reasoning.encrypted_content"]` (Codex always asks for it). */
  wantsCiphertext: boolean;
  input: unknown;
}

/** Codex 0.171 marks a Responses Lite request with this header over HTTP… */
export const responsesLiteHeader = 'x-openai-internal-codex-responses-lite';
/** …and with this `client_metadata` member in a WebSocket frame (measured on native Codex). */
export const responsesLiteMetadataKey = 'ws_request_header_x_openai_internal_codex_responses_lite';

/**
 * The 400 a request meets when its input carries a Responses Lite item (`additional_tools`: how
 * Codex 0.171 sends its tools, in the input rather than a `tools` field) but the request is not
 * marked Lite; null when it is fine. What the real upstream does with an unmarked Lite input is
 * not known; the fake refuses it, as the Responses API refuses an input item type it does not
 * know, so a request that lost its marker on the way shows.
 */
export function liteInputError(input: unknown, lite: boolean): Record<string, unknown> | null {
  if (lite || !Array.isArray(input)) return null;
  const index = input.findIndex(
    (item) => (item as { type?: unknown } | null)?.type === 'additional_tools',
  );
  if (index < 0) return null;
  return {
    error: {
      type: 'invalid_request_error',
      code: 'invalid_value',
      message: `Invalid value: 'additional_tools'. The input item type is valid only in a Responses Lite request.`,
      param: `input[${index}].type`,
    },
  };
}

export function parseTurn(body: Buffer): TurnRequest {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as {
      model?: unknown;
      include?: unknown;
      input?: unknown;
    };
    return {
      model: typeof parsed.model === 'string' ? parsed.model : 'gpt-5.1-codex',
      wantsCiphertext:
        Array.isArray(parsed.include) && parsed.include.includes('reasoning.encrypted_content'),
      input: parsed.input,
    };
  } catch {
    return { model: 'gpt-5.1-codex', wantsCiphertext: false, input: null };
  }
}

/** One turn's answer as event payloads, shared by the SSE and the WebSocket paths. */
export interface TurnAnswer {
  responseId: string;
  /** Every event before `response.completed` (the last one is `response.output_text.delta`, …). */
  events: Array<Record<string, unknown>>;
  /** The items the response added (what a follow-up's input carries after the previous input). */
  output: Array<Record<string, unknown>>;
}

/** Builds the events of one turn's answer: reasoning (when the account reasons), then the message. */
export function turnAnswer(fake: FakeChatGpt, account: FakeAccount, turn: TurnRequest): TurnAnswer {
  const { model } = turn;
  const now = fake.nowSeconds();
  const responseId = `resp_${randomUUID().replaceAll('-', '')}`;
  const itemId = `msg_${randomUUID().replaceAll('-', '')}`;
  const base = { id: responseId, object: 'response', created_at: now, model };
  let sequence = 0;
  const output: Array<Record<string, unknown>> = [];
  const events: Array<Record<string, unknown>> = [
    {
      type: 'response.created',
      sequence_number: sequence++,
      response: { ...base, status: 'in_progress', output: [] },
    },
  ];
  if (account.reasoning) {
    // A reasoning item first, as reasoning models answer; its ciphertext is this account's.
    const reasoningId = `rs_${randomUUID().replaceAll('-', '')}`;
    const reasoning: Record<string, unknown> = { id: reasoningId, type: 'reasoning', summary: [] };
    if (turn.wantsCiphertext) {
      reasoning['encrypted_content'] = mintEncryptedContent(fake, account, reasoningId);
    }
    output.push(reasoning);
    events.push(
      {
        type: 'response.output_item.added',
        sequence_number: sequence++,
        output_index: 0,
        item: { id: reasoningId, type: 'reasoning', summary: [] },
      },
      {
        type: 'response.output_item.done',
        sequence_number: sequence++,
        output_index: 0,
        item: reasoning,
      },
    );
  }
  const messageIndex = output.length;
  // The conversation's last say: Codex 0.171 may follow it with items that are not (a
  // `configuration_update` after the user's message, measured on native Codex over HTTP).
  const lastItem = Array.isArray(turn.input)
    ? (turn.input as unknown[]).findLast((item) => isUserMessage(item) || isAssistantOrTool(item))
    : undefined;
  if (account.toolCall && isUserMessage(lastItem)) {
    return toolCallAnswer(account.toolCall, { base, events, output, sequence, responseId });
  }
  const reply =
    account.toolCall && isFunctionCallOutput(lastItem)
      ? `${account.reply}${outputText(lastItem).includes(account.toolCall.expect) ? ' (the tool said so)' : ' (the tool output was missing)'}`
      : account.reply;
  events.push(
    {
      type: 'response.output_item.added',
      sequence_number: sequence++,
      output_index: messageIndex,
      item: { id: itemId, type: 'message', status: 'in_progress', role: 'assistant', content: [] },
    },
    ...replyChunks(reply).map((delta) => ({
      type: 'response.output_text.delta',
      sequence_number: sequence++,
      item_id: itemId,
      output_index: messageIndex,
      content_index: 0,
      delta,
    })),
  );
  const item = {
    id: itemId,
    type: 'message',
    status: 'completed',
    role: 'assistant',
    content: [{ type: 'output_text', text: reply, annotations: [] }],
  };
  output.push(item);
  const outputTokens = Math.max(1, Math.ceil(reply.length / 4));
  events.push(
    {
      type: 'response.output_item.done',
      sequence_number: sequence++,
      output_index: messageIndex,
      item,
    },
    {
      type: 'response.completed',
      sequence_number: sequence++,
      response: {
        ...base,
        status: 'completed',
        output,
        usage: {
          input_tokens: account.usageTokens.input,
          input_tokens_details: { cached_tokens: account.usageTokens.cached },
          output_tokens: outputTokens,
          output_tokens_details: { reasoning_tokens: account.usageTokens.reasoning },
          total_tokens: account.usageTokens.input + outputTokens,
        },
      },
    },
  );
  return { responseId, events, output };
}

function isUserMessage(item: unknown): boolean {
  const record = item as Record<string, unknown> | undefined;
  return record?.['type'] === 'message' && record['role'] === 'user';
}

/** An item of the conversation other than a user message: an answer, a tool call or its output. */
function isAssistantOrTool(item: unknown): boolean {
  const type = (item as Record<string, unknown> | undefined)?.['type'];
  return (
    type === 'function_call' ||
    type === 'function_call_output' ||
    type === 'custom_tool_call' ||
    type === 'custom_tool_call_output' ||
    ((item as Record<string, unknown> | undefined)?.['role'] === 'assistant' && type === 'message')
  );
}

function isFunctionCallOutput(item: unknown): boolean {
  return (item as Record<string, unknown> | undefined)?.['type'] === 'function_call_output';
}

/** A function call output's text: a string, or the text parts of a content list. */
function outputText(item: unknown): string {
  const output = (item as Record<string, unknown>)['output'];
  if (typeof output === 'string') return output;
  return JSON.stringify(output ?? '');
}

/** The rest of an answer that calls `tool` instead of answering (the events so far in `state`). */
function toolCallAnswer(
  tool: { name: string; arguments: string },
  state: {
    base: Record<string, unknown>;
    events: Array<Record<string, unknown>>;
    output: Array<Record<string, unknown>>;
    sequence: number;
    responseId: string;
  },
): TurnAnswer {
  const { base, events, output, responseId } = state;
  let sequence = state.sequence;
  const outputIndex = output.length;
  const id = `fc_${randomUUID().replaceAll('-', '')}`;
  const callId = `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
  const item = {
    id,
    type: 'function_call',
    status: 'completed',
    name: tool.name,
    arguments: tool.arguments,
    call_id: callId,
  };
  output.push(item);
  events.push(
    {
      type: 'response.output_item.added',
      sequence_number: sequence++,
      output_index: outputIndex,
      item: { ...item, status: 'in_progress', arguments: '' },
    },
    {
      type: 'response.function_call_arguments.delta',
      sequence_number: sequence++,
      item_id: id,
      output_index: outputIndex,
      delta: tool.arguments,
    },
    {
      type: 'response.function_call_arguments.done',
      sequence_number: sequence++,
      item_id: id,
      output_index: outputIndex,
      arguments: tool.arguments,
    },
    {
      type: 'response.output_item.done',
      sequence_number: sequence++,
      output_index: outputIndex,
      item,
    },
    {
      type: 'response.completed',
      sequence_number: sequence,
      response: {
        ...base,
        status: 'completed',
        output,
        usage: {
          input_tokens: 12,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: 8,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: 20,
        },
      },
    },
  );
  return { responseId, events, output };
}

/** How many of a turn's events a reset in mid-stream lets through (never `response.completed`). */
export function eventsBeforeReset(answer: TurnAnswer): number {
  // Stop before the last text delta: the text has begun, the turn has not finished.
  return Math.max(2, answer.events.length - 3);
}

/** What the fake knows of the turn states it issued. */
interface TurnStates {
  /** Token → the account it was issued to. */
  issuedTo: Map<string, string>;
  /** Requests that carried a turn state issued to another account. */
  crossings: number;
}

function turnStates(fake: FakeChatGpt): TurnStates {
  let state = fake.extensions.get('backend.turnStates') as TurnStates | undefined;
  if (!state) {
    state = { issuedTo: new Map(), crossings: 0 };
    fake.extensions.set('backend.turnStates', state);
  }
  return state;
}

/**
 * How many requests carried an `x-codex-turn-state` the fake had issued to another account. What
 * the real upstream answers to one is not known; native Codex never sends one (it keeps one
 * account for a whole turn), so the fake counts them and tests expect none.
 */
export function turnStateCrossings(fake: FakeChatGpt): number {
  return turnStates(fake).crossings;
}

/**
 * The `x-codex-turn-state` an answer carries: the sticky-routing token the upstream issues at a
 * turn's first request, echoed back while Codex sends it (Codex replays it on the turn's later
 * requests and on a WebSocket reconnect within the turn; docs/codex-protocol.md, section 5.5).
 * A token is the account's it was issued to: one issued to another account is counted
 * (`turnStateCrossings`) and answered with a new one.
 */
export function turnStateFor(
  fake: FakeChatGpt,
  request: IncomingMessage,
  account: FakeAccount,
): string {
  const state = turnStates(fake);
  const sent = request.headers['x-codex-turn-state'];
  if (typeof sent === 'string' && sent !== '') {
    const owner = state.issuedTo.get(sent);
    if (owner === account.accountId) return sent;
    if (owner !== undefined) state.crossings += 1;
  }
  const issued = `ts_${randomUUID()}`;
  state.issuedTo.set(issued, account.accountId);
  return issued;
}

function streamResponse(
  fake: FakeChatGpt,
  account: FakeAccount,
  response: ServerResponse,
  turn: TurnRequest,
  resetMidStream: boolean,
  turnState: string,
): void {
  const now = fake.nowSeconds();
  const encoding = answerEncodings.get(response);
  response.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    'x-oai-request-id': randomUUID(),
    'x-models-etag': fakeModelsEtag,
    'openai-model': turn.model,
    'x-codex-turn-state': turnState,
    ...(encoding ? { 'content-encoding': encoding, vary: 'accept-encoding' } : {}),
    ...rateLimitHeaders(account, now),
  });
  const sink = sseSink(response);
  const event = (payload: Record<string, unknown>): string =>
    `event: ${String(payload['type'])}\ndata: ${JSON.stringify(payload)}\n\n`;
  const answer = turnAnswer(fake, account, turn);
  if (resetMidStream) {
    // Some events reach the client, then the connection dies without response.completed.
    sink.writeThenReset(answer.events.slice(0, eventsBeforeReset(answer)).map(event).join(''));
    return;
  }
  // One write per event, as a real stream arrives: clients and proxies must cope with framing.
  for (const payload of answer.events) sink.write(event(payload));
  chargeTurn(account, fake.nowSeconds());
  sink.end();
}

function serveCompact(fake: FakeChatGpt, account: FakeAccount, response: ServerResponse): void {
  const now = fake.nowSeconds();
  const headers = rateLimitHeaders(account, now);
  chargeTurn(account, now);
  sendJson(
    response,
    200,
    {
      output: [
        {
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_text', text: `Summary of the conversation so far (${account.email}).` },
          ],
        },
      ],
    },
    headers,
  );
}

/** The `wham/usage` payload (section 7) for an account. */
export function usagePayload(
  fake: FakeChatGpt,
  account: FakeAccount,
  withAccountHeader: boolean,
): Record<string, unknown> {
  const now = fake.nowSeconds();
  const identity = { user_id: account.userId, account_id: account.accountId, email: account.email };
  if (!withAccountHeader && workspacePlans.has(account.plan)) {
    // Like the real endpoint: without the workspace header a team member is seen as free.
    return {
      ...identity,
      plan_type: 'free',
      rate_limit: null,
      credits: null,
      additional_rate_limits: null,
      rate_limit_reached_type: null,
    };
  }
  const sticky = account.stickyFailure?.kind === 'usage_limit' ? account.stickyFailure : null;
  const limitedResetAt = sticky ? failureResetAt(fake, sticky) : undefined;
  const limitedSlot = account.primary ? 'primary' : 'secondary';
  const windowJson = (slot: string, window: FakeWindow | null) => {
    if (!window) return null;
    observeWindow(window, now);
    const full = limitedResetAt !== undefined && slot === limitedSlot;
    const resetAt = full ? limitedResetAt : window.resetAt;
    return {
      used_percent: full ? 100 : Math.round(window.usedPercent),
      limit_window_seconds: window.windowMinutes * 60,
      reset_after_seconds: Math.max(0, resetAt - now),
      reset_at: resetAt,
    };
  };
  const primary = windowJson('primary', account.primary);
  const secondary = windowJson('secondary', account.secondary);
  const reached = [primary, secondary].some(
    (window) => window !== null && window.used_percent >= 100,
  );
  return {
    ...identity,
    plan_type: account.plan,
    rate_limit: {
      allowed: !reached,
      limit_reached: reached,
      primary_window: primary,
      secondary_window: secondary,
    },
    credits: {
      has_credits: account.credits.hasCredits,
      unlimited: account.credits.unlimited,
      balance: account.credits.balance,
      approx_local_messages: null,
      approx_cloud_messages: null,
    },
    additional_rate_limits:
      account.additionalLimits.length === 0
        ? null
        : account.additionalLimits.map((limit) => ({
            limit_name: limit.limitName,
            metered_feature: limit.meteredFeature,
            rate_limit: {
              allowed: limit.primary.usedPercent < 100,
              limit_reached: limit.primary.usedPercent >= 100,
              primary_window: {
                used_percent: Math.round(limit.primary.usedPercent),
                limit_window_seconds: limit.primary.windowMinutes * 60,
                reset_after_seconds: Math.max(0, limit.primary.resetAt - now),
                reset_at: limit.primary.resetAt,
              },
              secondary_window: null,
            },
          })),
    rate_limit_reached_type: reached ? { type: 'rate_limit_reached' } : null,
  };
}

/** The backend side of the fake ChatGPT; loaded automatically by `startFakeChatGpt`. */
export const handleBackendRequest: FakeHandler = async (fake, request, response, raw) => {
  const url = new URL(request.url ?? '/', fake.issuerUrl);
  const path = url.pathname.replace(/\/+$/, '');
  const method = request.method ?? 'GET';
  const isResponses = method === 'POST' && path === '/backend-api/codex/responses';
  const isCompact = method === 'POST' && path === '/backend-api/codex/responses/compact';
  const isModels = method === 'GET' && path === '/backend-api/codex/models';
  const isUsage = method === 'GET' && path === '/backend-api/wham/usage';
  if (!isResponses && !isCompact && !isModels && !isUsage) return false;
  chooseAnswerEncoding(fake, request, response);

  const bodyEncoding = String(request.headers['content-encoding'] ?? '').toLowerCase();
  if (
    fake.extensions.get(refuseEncodedKey) === true &&
    bodyEncoding !== '' &&
    bodyEncoding !== 'identity'
  ) {
    sendJson(response, 415, {
      error: {
        message: `Unsupported Content-Encoding: ${bodyEncoding}.`,
        type: 'invalid_request_error',
        param: null,
        code: 'unsupported_content_encoding',
      },
    });
    return true;
  }

  let body: Buffer;
  try {
    body = decodeRequestBody(request, raw);
  } catch (error) {
    sendJson(response, 400, {
      error: {
        message: `Could not decode the request body: ${String(error)}`,
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    });
    return true;
  }
  recordDecoded(fake, request, raw, body);

  const check = accountForBearer(fake, request.headers.authorization);
  if (!check.ok) {
    sendUnauthorized(response, check.reason);
    return true;
  }
  const { account } = check;
  const accountHeader = accountIdHeader(request);
  if (accountHeader !== undefined && accountHeader !== account.accountId) {
    sendJson(response, 403, { detail: 'The ChatGPT-Account-Id does not match this token.' });
    return true;
  }

  if (isModels) {
    // Codex 0.169 accepts an empty list and keeps its bundled catalog.
    sendJson(
      response,
      200,
      { models: [] },
      { etag: fakeModelsEtag, 'x-models-etag': fakeModelsEtag },
    );
    return true;
  }
  if (isUsage) {
    if (account.usageHold) await account.usageHold;
    if (account.usageFailure === 'unauthorized') {
      sendUnauthorized(response, 'unknown');
      return true;
    }
    if (account.usageFailure === 'unavailable') {
      sendJson(response, 503, { detail: 'Service Unavailable' });
      return true;
    }
    sendJson(response, 200, usagePayload(fake, account, accountHeader !== undefined));
    return true;
  }

  if (account.turnHold) await account.turnHold;
  const failure = nextFailure(account);
  if (failure && serveFailure(fake, account, failure, response)) return true;
  const turn = parseTurn(body);
  const liteError = liteInputError(
    turn.input,
    !fake.requireLiteMarker || request.headers[responsesLiteHeader] === 'true',
  );
  if (liteError) {
    sendJson(response, 400, liteError);
    return true;
  }
  const rejected = firstRejectedBlob(fake, account, turn.input);
  if (rejected) {
    sendJson(response, 400, encryptedContentError(account, rejected.blob, rejected.check));
    return true;
  }
  if (isCompact) {
    serveCompact(fake, account, response);
    return true;
  }
  streamResponse(
    fake,
    account,
    response,
    turn,
    failure?.kind === 'reset_mid_stream',
    turnStateFor(fake, request, account),
  );
  return true;
};
