/**
 * The small HTTP layer every auth flow shares: requests are plain values built by pure functions
 * and sent by an injected `fetch`, so each flow is "build request → send → process response".
 */
import { LabError, type ErrorCode } from '../errors.ts';
import { describeFetchFailure } from '../net/fetch-failure.ts';

/** A fetch-compatible function (the global `fetch`, or undici's). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** One HTTP request as a value. */
export interface HttpRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

/** A received answer: status and body text (bodies here are small JSON documents). */
export interface HttpAnswer {
  status: number;
  body: string;
}

/**
 * Sends `request` with `fetch` and reads the whole body, giving up after `timeoutMs`.
 * A network failure or timeout becomes a `LabError` with `networkCode`; the message names only the
 * host, never the body (which may carry a token).
 */
export async function sendRequest(
  fetch: FetchLike,
  request: HttpRequest,
  timeoutMs: number,
  networkCode: ErrorCode,
): Promise<HttpAnswer> {
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: response.status, body: await response.text() };
  } catch (error) {
    const reason = describeFetchFailure(error, timeoutMs);
    throw new LabError(
      networkCode,
      `Could not reach ${new URL(request.url).host} (${reason}). Check the network and try again.`,
      { cause: error },
    );
  }
}

/** Parses a JSON body, or returns undefined when it is not JSON. */
export function parseJsonBody(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

/** Form-encodes fields in the given order (what `application/x-www-form-urlencoded` bodies use). */
export function formBody(fields: ReadonlyArray<readonly [string, string]>): string {
  return new URLSearchParams(
    fields.map(([key, value]): [string, string] => [key, value]),
  ).toString();
}
