/**
 * The priming request, as "build request → send → process response": the cheapest complete turn
 * the upstream accepts (docs/design.md section 5). A window starts only on a *completed* turn, so the
 * SSE stream is read to `response.completed`; a stream that stops before it is a failure.
 */
import { codexClientHeaders, codexClientVersion } from '../auth/codex-identity.ts';
import type { FetchLike } from '../auth/http.ts';
import { describeFetchFailure } from '../net/fetch-failure.ts';
import { routingOverrideHeader, type WorkspaceRouting } from '../net/workspace-routing.ts';

/**
 * The default priming model: the small Codex model every ChatGPT plan with Codex can use. It is
 * the cheapest lane against the plan's quota; a profile may name another in `priming.model`.
 */
export const defaultPrimingModel = 'gpt-5.1-codex-mini';

/** The tiny user message; any complete turn starts the window, so it only needs to be short. */
export const primingMessage = 'hi';

/** The Codex version our `User-Agent` claims (the one every router-originated call claims). */
export const primingClientVersion = codexClientVersion;

/** A profile's upstream credentials (never logged). */
export interface PrimeCredentials {
  accessToken: string;
  accountId: string | null;
}

/** Where priming gets a profile's upstream credentials (a `TokenManager` fits). */
export interface PrimingCredentialSource {
  getCredentials(name: string): Promise<PrimeCredentials>;
  /** Refreshes once after a 401 from the usage endpoint (the one usage client's policy). */
  refreshAfterUnauthorized?(name: string, rejectedAccessToken: string): Promise<PrimeCredentials>;
}

/** What the priming request is built from. */
export interface PrimeRequestInput {
  baseUrl: string;
  credentials: PrimeCredentials;
  /** The model slug, or null for `defaultPrimingModel`. */
  model?: string | null;
  /**
   * The account's workspace routing (docs/routing.md, "Workspace routing"): its backend origin
   * replaces the base URL's, and its residency override is sent, as on every turn of the profile.
   */
  routing?: WorkspaceRouting;
}

/** The priming body: no instructions, no tools, one tiny message, lowest reasoning. */
export interface PrimeBody {
  model: string;
  input: Array<{
    type: 'message';
    role: 'user';
    content: Array<{ type: 'input_text'; text: string }>;
  }>;
  reasoning: { effort: 'low' };
  store: false;
  stream: true;
}

/** One priming request as a value; `body` is the exact JSON sent. */
export interface PrimeRequest {
  method: 'POST';
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Builds the body. `reasoning.effort` is `low`: the Codex models list low, medium and high, so
 * `minimal` risks an "unsupported value" 400. `max_output_tokens` is left out because the upstream
 * rejects small values with 400 (codex-lb#1895).
 */
export function buildPrimeBody(model?: string | null): PrimeBody {
  return {
    model: model && model.trim() !== '' ? model.trim() : defaultPrimingModel,
    input: [
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: primingMessage }] },
    ],
    reasoning: { effort: 'low' },
    store: false,
    stream: true,
  };
}

/** Builds the whole request: Codex's headers for a ChatGPT-mode `/responses` call (section 5.3). */
export function buildPrimeRequest(input: PrimeRequestInput): PrimeRequest {
  const headers: Record<string, string> = {
    authorization: `Bearer ${input.credentials.accessToken}`,
    'content-type': 'application/json',
    ...codexClientHeaders('text/event-stream'),
  };
  if (input.credentials.accountId) headers['chatgpt-account-id'] = input.credentials.accountId;
  if (input.routing?.override) headers[routingOverrideHeader] = input.routing.override;
  const url = new URL(`${input.baseUrl.replace(/\/+$/, '')}/codex/responses`);
  const origin = input.routing?.origin ?? url.origin;
  return {
    method: 'POST',
    url: `${origin}${url.pathname}`,
    headers,
    body: JSON.stringify(buildPrimeBody(input.model)),
  };
}

/** Headers whose values are secrets or identify the account; `--dry-run` shows them redacted. */
const redactedHeaders = new Set(['authorization', 'chatgpt-account-id']);

/** The request as `prime --dry-run` prints it: method, URL, headers (secrets redacted) and body. */
export function describePrimeRequest(request: PrimeRequest): string {
  const lines = [`${request.method} ${request.url}`];
  for (const [name, value] of Object.entries(request.headers)) {
    const shown = redactedHeaders.has(name)
      ? name === 'authorization'
        ? 'Bearer <redacted>'
        : '<redacted>'
      : value;
    lines.push(`${name}: ${shown}`);
  }
  lines.push('', JSON.stringify(JSON.parse(request.body), null, 2));
  return lines.join('\n');
}

/** How a priming request ended. */
export type PrimeResult =
  | { ok: true; responseId: string | null; model: string | null }
  | {
      ok: false;
      /** HTTP status, or null for a network failure or a broken stream. */
      status: number | null;
      /** `auth` and `limited` are never retried; everything else is, up to the bound. */
      kind: 'auth' | 'limited' | 'rejected' | 'server' | 'network' | 'stream';
      message: string;
      /** A refused answer's body and headers, for the host to classify as a routed turn's. */
      answer?: { body: string; headers: Record<string, string> };
    };

/**
 * Reads a `/responses` answer: a non-2xx status is classified, and a 2xx SSE body is consumed
 * until `response.completed`. `response.failed`, `response.incomplete` or an early end fail.
 */
export async function processPrimeResponse(response: Response): Promise<PrimeResult> {
  if (response.status < 200 || response.status > 299) {
    const text = await response.text().catch(() => '');
    return {
      ok: false,
      status: response.status,
      kind: classifyStatus(response.status, text),
      message: `the upstream answered ${response.status}${describeErrorBody(text)}`,
      answer: { body: text, headers: Object.fromEntries(response.headers) },
    };
  }
  if (!response.body) {
    return {
      ok: false,
      status: response.status,
      kind: 'stream',
      message: 'the answer had no body',
    };
  }
  const decoder = new TextDecoder();
  let buffered = '';
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffered += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let boundary: number;
      while ((boundary = nextBoundary(buffered)) !== -1) {
        const block = buffered.slice(0, boundary);
        buffered = buffered.slice(boundary).replace(/^(\r?\n){1,2}/, '');
        const verdict = readEvent(block);
        if (verdict) return verdict;
      }
      if (done) break;
    }
  } catch (error) {
    return {
      ok: false,
      status: response.status,
      kind: 'stream',
      message: `the stream broke before response.completed (${(error as Error).message})`,
    };
  } finally {
    reader.releaseLock();
    // A verdict may arrive before the server closes the stream; drop the rest.
    await response.body.cancel().catch(() => undefined);
  }
  const last = buffered.trim() === '' ? undefined : readEvent(buffered);
  return (
    last ?? {
      ok: false,
      status: response.status,
      kind: 'stream',
      message: 'the stream closed before response.completed',
    }
  );
}

/** Sends a priming request with `fetch` and reads the answer to the end. */
export async function sendPrimeRequest(
  fetch: FetchLike,
  request: PrimeRequest,
  timeoutMs = 120_000,
): Promise<PrimeResult> {
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return {
      ok: false,
      status: null,
      kind: 'network',
      message: `could not reach ${new URL(request.url).host} (${describeFetchFailure(error, timeoutMs)})`,
    };
  }
  return processPrimeResponse(response);
}

function nextBoundary(text: string): number {
  const lf = text.indexOf('\n\n');
  const crlf = text.indexOf('\r\n\r\n');
  if (lf === -1) return crlf;
  if (crlf === -1) return lf;
  return Math.min(lf, crlf);
}

function readEvent(block: string): PrimeResult | undefined {
  const data = block
    .split(/\r?\n/)
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).trimStart())
    .join('\n');
  if (data === '' || data === '[DONE]') return undefined;
  let event: { type?: unknown; response?: Record<string, unknown> };
  try {
    event = JSON.parse(data) as typeof event;
  } catch {
    return undefined;
  }
  const payload = event.response ?? {};
  switch (event.type) {
    case 'response.completed':
      return {
        ok: true,
        responseId: typeof payload['id'] === 'string' ? payload['id'] : null,
        model: typeof payload['model'] === 'string' ? payload['model'] : null,
      };
    case 'response.failed': {
      const error = payload['error'] as { code?: unknown; message?: unknown } | undefined;
      const code = typeof error?.code === 'string' ? error.code : 'unknown';
      return {
        ok: false,
        status: 200,
        kind: code === 'insufficient_quota' || code === 'usage_not_included' ? 'limited' : 'server',
        message: `the upstream failed the turn (${code})`,
      };
    }
    case 'response.incomplete': {
      const details = payload['incomplete_details'] as { reason?: unknown } | undefined;
      return {
        ok: false,
        status: 200,
        kind: 'stream',
        message: `the upstream returned an incomplete response (${String(details?.reason ?? 'no reason')})`,
      };
    }
    default:
      return undefined;
  }
}

function classifyStatus(status: number, body: string): 'auth' | 'limited' | 'rejected' | 'server' {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429)
    return /usage_limit_reached|usage_not_included/.test(body) ? 'limited' : 'server';
  if (status >= 500) return 'server';
  return 'rejected';
}

/** The upstream's error message, shortened; error bodies carry no secrets but may be long. */
function describeErrorBody(text: string): string {
  try {
    const parsed = JSON.parse(text) as {
      error?: { message?: unknown; code?: unknown; type?: unknown };
    };
    const error = parsed.error;
    const detail = [error?.code ?? error?.type, error?.message].filter(
      (part): part is string => typeof part === 'string' && part !== '',
    );
    return detail.length > 0 ? `: ${detail.join(': ').slice(0, 200)}` : '';
  } catch {
    return '';
  }
}
