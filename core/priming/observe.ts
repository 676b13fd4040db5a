/**
 * A usage observer for priming: one fresh `GET {base}/wham/usage` per call, built and read by
 * `core/quota/usage.ts`. A usage GET never starts a window (onWatch's finding), so observing is
 * free of side effects upstream.
 */
import type { FetchLike } from '../auth/http.ts';
import { sendRequest } from '../auth/http.ts';
import { LabError } from '../errors.ts';
import type { Clock } from '../ports.ts';
import { buildUsageRequest, processUsageResponse } from '../quota/usage.ts';
import type { QuotaSnapshot } from '../state/schema.ts';
import type { PrimingCredentialSource } from './scheduler.ts';

/** What the observer is built from. */
export interface UsageObserverOptions {
  tokens: PrimingCredentialSource;
  baseUrl: string;
  clock: Clock;
  /** Default: the global fetch. */
  fetch?: FetchLike;
  /** Optional sink, so every observation also feeds the quota book. */
  onSnapshot?(name: string, snapshot: QuotaSnapshot): void;
}

/** Builds `observeUsage(name)` for `PrimingScheduler`. */
export function createUsageObserver(
  options: UsageObserverOptions,
): (name: string) => Promise<QuotaSnapshot> {
  const fetch = options.fetch ?? (globalThis.fetch as FetchLike);
  return async (name) => {
    const credentials = await options.tokens.getCredentials(name);
    const request = buildUsageRequest(options.baseUrl, credentials);
    const answer = await sendRequest(
      fetch,
      { method: 'GET', url: request.url, headers: request.headers },
      30_000,
      'upstream_unreachable',
    );
    if (answer.status === 401 || answer.status === 403) {
      throw new LabError(
        'unauthorized',
        `The usage endpoint refused ${name}'s sign-in (${answer.status}); sign in again with: codex-lab login ${name}`,
      );
    }
    if (answer.status < 200 || answer.status > 299) {
      throw new LabError(
        'upstream_error',
        `The usage endpoint answered ${answer.status} for ${name}; priming looks again at its next check.`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(answer.body);
    } catch {
      json = null;
    }
    const snapshot = processUsageResponse(json, options.clock.now());
    options.onSnapshot?.(name, snapshot);
    return snapshot;
  };
}
