/**
 * The one client of the usage endpoint (`GET {base}/wham/usage`, and with it the reset credits
 * of `wham/rate-limit-reset-credits`), used by the service (usage refresh, polling, the read right
 * after a sign-in) and by priming (idle-window detection), with one 401 policy for both: a 401 refreshes the profile's sign-in once and asks again, as Codex does; a
 * second 401 with the fresh token is reported, never refreshed again (that would only spend
 * another single-use refresh token).
 */
import type { FetchLike, HttpAnswer } from '../auth/http.ts';
import { LabError, signInAgainError } from '../errors.ts';
import { describeFetchFailure } from '../net/fetch-failure.ts';
import type { QuotaSnapshot, ResetCredits } from '../state/schema.ts';
import type { BoundaryWarn } from './bounds.ts';
import { parseResetCredits, resetCreditsPath } from './reset-credits.ts';
import { buildBackendRequest, processUsageResponse } from './usage.ts';
import { outboundFetch } from '../net/outbound-fetch.ts';

/** Where the client gets a profile's credentials (the `TokenManager`, or the router's cache). */
export interface UsageCredentialSource {
  getCredentials(name: string): Promise<{ accessToken: string; accountId: string | null }>;
  /** Refreshes after a 401; without it, a 401 is reported at once. */
  refreshAfterUnauthorized?(
    name: string,
    rejectedAccessToken: string,
  ): Promise<{ accessToken: string; accountId: string | null }>;
}

/** What `readUsage` needs. */
export interface UsageClientOptions {
  baseUrl: string;
  credentials: UsageCredentialSource;
  now: () => number;
  /** Default: the global fetch. */
  fetch?: FetchLike;
  /** Default 20 s. */
  timeoutMs?: number;
  /** Told once per field when an answer carries an out-of-range value (which is dropped). */
  warn?: BoundaryWarn;
}

/**
 * Asks the usage endpoint for `name`'s windows now, then (unless `resetCredits` is false) the
 * reset-credits endpoint with the same credentials. Expected failures of the usage read are
 * `LabError`s; the reset credits are extras: a 404 means "none", any other failure leaves them
 * unknown (absent) without failing the read.
 */
export async function readUsage(
  options: UsageClientOptions,
  name: string,
  settings: { resetCredits?: boolean } = {},
): Promise<QuotaSnapshot> {
  const sign = { credentials: await options.credentials.getCredentials(name), refreshed: false };
  const answer = await ask(options, name, sign, 'wham/usage');
  if (answer.status < 200 || answer.status > 299) {
    throw new LabError(
      'upstream_error',
      `The usage endpoint answered ${answer.status} for ${name}; try again later.`,
      { namedProfile: name },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    throw new LabError(
      'upstream_error',
      `The usage endpoint sent an unexpected answer for ${name}.`,
      { namedProfile: name },
    );
  }
  const snapshot = processUsageResponse(json, options.now(), options.warn);
  if (settings.resetCredits === false) return snapshot;
  const resetCredits = await readResetCredits(options, name, sign);
  return resetCredits === undefined ? snapshot : { ...snapshot, resetCredits };
}

/** The reset credits, null for none (404 included), undefined when unknown (a failed read). */
async function readResetCredits(
  options: UsageClientOptions,
  name: string,
  sign: SignIn,
): Promise<ResetCredits | null | undefined> {
  let answer: HttpAnswer;
  try {
    answer = await ask(options, name, sign, resetCreditsPath);
  } catch (error) {
    // A refused sign-in is the profile's state, reported like the usage read's; an unreachable
    // or slow endpoint only leaves the extras unknown.
    if (error instanceof LabError && error.code === 'unauthorized') throw error;
    return undefined;
  }
  if (answer.status === 404) return null;
  if (answer.status < 200 || answer.status > 299) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    return undefined;
  }
  const read = parseResetCredits(json, options.now(), options.warn);
  return read.ok ? read.value : undefined;
}

/** The credentials in use for one read, and whether this read already spent its one refresh. */
interface SignIn {
  credentials: { accessToken: string; accountId: string | null };
  refreshed: boolean;
}

/**
 * One GET with the 401 policy: the first 401 of a read refreshes once and asks again; a 401 (or
 * 403) after that is `unauthorized`. The refresh is shared by every request of one read.
 */
async function ask(
  options: UsageClientOptions,
  name: string,
  sign: SignIn,
  path: string,
): Promise<HttpAnswer> {
  const fetch = options.fetch ?? outboundFetch;
  for (;;) {
    const request = buildBackendRequest(options.baseUrl, sign.credentials, path);
    const answer = await get(fetch, request.url, request.headers, options.timeoutMs ?? 20_000);
    if (answer.status === 401 && !sign.refreshed && options.credentials.refreshAfterUnauthorized) {
      sign.refreshed = true;
      sign.credentials = await options.credentials.refreshAfterUnauthorized(
        name,
        sign.credentials.accessToken,
      );
      continue;
    }
    if (answer.status === 401 || answer.status === 403) {
      const endpoint = path === resetCreditsPath ? 'reset-credits' : 'usage';
      throw signInAgainError(
        'unauthorized',
        name,
        `The ${endpoint} endpoint refused ${name}'s sign-in (${answer.status}).`,
        // Only a 401 to the token this read has just refreshed says the account lost access; a
        // 403 can be a permission or an edge's refusal (`usageRefused` counts only the former).
        { details: { freshTokenRefused: sign.refreshed && answer.status === 401 } },
      );
    }
    return answer;
  }
}

async function get(
  fetch: FetchLike,
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<HttpAnswer> {
  try {
    const response = await fetch(url, {
      method: 'GET',
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: response.status, body: await response.text() };
  } catch (error) {
    throw new LabError(
      'upstream_unreachable',
      `Could not reach the usage endpoint at ${url} (${describeFetchFailure(error, timeoutMs)}); check the network connection and try again.`,
      { cause: error },
    );
  }
}
