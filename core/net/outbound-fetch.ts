/**
 * The one HTTP client for the calls Codex Lab makes to OpenAI itself (refreshes, sign-in, usage
 * reads, priming turns, the workspace check): `fetch`'s shape, so every caller and test keeps its
 * `FetchLike`, sent with undici's `request`, which puts on the wire exactly the headers given.
 * Undici's `fetch` follows the browser Fetch standard and adds `sec-fetch-mode: cors`,
 * `accept-language: *`, its own `accept-encoding` and `user-agent: node` to every request: headers
 * Codex never sends, which mark the call as not Codex's (docs/libraries.md, "undici").
 */
import { pipeline, Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { cookieJarKey, cookieOrigin, processCookieJars } from './cloudflare-cookies.ts';
import { responseDecoder } from './content-encoding.ts';

/** Statuses whose answers have no body (a `Response` refuses one). */
const bodilessStatuses: ReadonlySet<number> = new Set([204, 205, 304]);

/**
 * Sends one request as `fetch(input, init)` would, with only `init.headers` (plus what HTTP/1.1
 * needs: `host`, `connection`, `content-length`) and never following a redirect (the callers ask
 * for `redirect: 'manual'`); a compressed answer is read decoded. It fails as `fetch` does, so the callers' reading of failures holds:
 * a network failure rejects as `TypeError('fetch failed')` with the socket's error as `cause`, an
 * aborted signal with the signal's reason. Honors the environment's proxy, which
 * `useProxyFromEnvironment` sets as undici's global dispatcher.
 */
export async function outboundFetch(input: string, init: RequestInit = {}): Promise<Response> {
  // Loaded on the first request: a command that sends none does not pay for undici.
  const { request } = await import('undici');
  const method = (init.method ?? 'GET').toUpperCase() as Dispatcher.HttpMethod;
  const headers = plainHeaders(init.headers);
  // A call for a ChatGPT account (it names one in `ChatGPT-Account-Id`: usage reads, the
  // workspace check, priming) carries that account's Cloudflare cookies, as Codex's own do; the
  // issuer's (sign-in, refresh) carry none, as Codex's do not.
  const account = headers['chatgpt-account-id'];
  const jar = account === undefined ? undefined : cookieJarKey(cookieOrigin(input), account);
  const cookie =
    jar === undefined || headers['cookie'] !== undefined
      ? undefined
      : processCookieJars.cookieHeader(jar, Date.now());
  if (cookie !== undefined) headers['cookie'] = cookie;
  let answer: Dispatcher.ResponseData;
  try {
    answer = await request(input, {
      method,
      headers,
      body: bodyOf(init.body),
      ...(init.signal ? { signal: init.signal } : {}),
    });
  } catch (error) {
    if (init.signal?.aborted === true) throw init.signal.reason;
    throw new TypeError('fetch failed', { cause: error });
  }
  if (jar !== undefined) processCookieJars.remember(jar, answer.headers['set-cookie'], Date.now());
  const answerHeaders = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) answerHeaders.append(name, one);
  }
  if (answer.statusCode < 200 || answer.statusCode > 599) {
    answer.body.destroy();
    throw new TypeError('fetch failed', {
      cause: new Error(`the server answered with status ${answer.statusCode}`),
    });
  }
  if (bodilessStatuses.has(answer.statusCode) || method === 'HEAD') {
    await answer.body.dump();
    return new Response(null, { status: answer.statusCode, headers: answerHeaders });
  }
  // An answer compressed as asked (`accept-encoding`, Codex's) is read decoded, as `fetch` reads
  // one; an encoding this Node cannot read is passed on as it came, as `fetch` does.
  const decoder = responseDecoder(answerHeaders.get('content-encoding'));
  let stream: Readable = answer.body;
  if (decoder) {
    stream = pipeline(answer.body, decoder, () => undefined);
    answerHeaders.delete('content-encoding');
    answerHeaders.delete('content-length');
  }
  const body = Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>;
  return new Response(body, { status: answer.statusCode, headers: answerHeaders });
}

/** The request headers as a plain object (what undici's `request` takes). */
function plainHeaders(headers: RequestInit['headers']): Record<string, string> {
  const plain: Record<string, string> = {};
  if (headers === undefined) return plain;
  new Headers(headers).forEach((value, name) => {
    plain[name] = value;
  });
  return plain;
}

/** The callers send text bodies (JSON, forms) or bytes; anything else is a bug. */
function bodyOf(body: RequestInit['body']): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  throw new TypeError('outboundFetch sends only string or byte bodies');
}
