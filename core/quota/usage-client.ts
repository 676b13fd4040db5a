/**
 * The one client of the usage endpoint (`GET {base}/wham/usage`), used by the service (usage
 * refresh, polling, the read right after a sign-in) and by priming (idle-window detection), with
 * one 401 policy: a 401 refreshes the profile's sign-in once and asks again, as Codex does; a
 * second 401 with the fresh token is reported, never refreshed again (that would only spend
 * another single-use refresh token).
 */
import type { FetchLike, HttpAnswer } from '../auth/http.ts';
import { LabError } from '../errors.ts';
import type { QuotaSnapshot } from '../state/schema.ts';
import type { BoundaryWarn } from './bounds.ts';
import { buildUsageRequest, processUsageResponse } from './usage.ts';

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

/** Asks the usage endpoint for `name`'s windows now. Expected failures are `LabError`s. */
export async function readUsage(options: UsageClientOptions, name: string): Promise<QuotaSnapshot> {
  const fetch = options.fetch ?? (globalThis.fetch as FetchLike);
  let credentials = await options.credentials.getCredentials(name);
  for (let attempt = 0; ; attempt += 1) {
    const request = buildUsageRequest(options.baseUrl, credentials);
    const answer = await get(fetch, request.url, request.headers, options.timeoutMs ?? 20_000);
    if (answer.status === 401 && attempt === 0 && options.credentials.refreshAfterUnauthorized) {
      credentials = await options.credentials.refreshAfterUnauthorized(
        name,
        credentials.accessToken,
      );
      continue;
    }
    if (answer.status === 401 || answer.status === 403) {
      throw new LabError(
        'unauthorized',
        `The usage endpoint refused ${name}'s sign-in (${answer.status}); sign in again with: codex-lab login ${name}`,
      );
    }
    if (answer.status < 200 || answer.status > 299) {
      throw new LabError(
        'upstream_error',
        `The usage endpoint answered ${answer.status} for ${name}; try again later.`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(answer.body);
    } catch {
      throw new LabError(
        'upstream_error',
        `The usage endpoint sent an unexpected answer for ${name}.`,
      );
    }
    return processUsageResponse(json, options.now(), options.warn);
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
    const cause = (error as Error & { cause?: { code?: string } }).cause?.code;
    const reason =
      (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : cause;
    throw new LabError(
      'upstream_unreachable',
      `Could not reach the usage endpoint at ${url}${reason ? ` (${reason})` : ''}; check the network connection and try again.`,
      { cause: error },
    );
  }
}
