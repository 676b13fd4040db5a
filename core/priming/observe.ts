/**
 * A usage observer for priming: one fresh `GET {base}/wham/usage` per call through the one usage
 * client (`core/quota/usage-client.ts`, one 401 policy for every caller). A usage GET never starts a window (onWatch's finding), so observing is
 * free of side effects upstream. It records nothing: a host passes its operations layer's read
 * instead (`LabOperations.readUsage`, which records every read in the live state).
 */
import type { FetchLike } from '../auth/http.ts';
import type { Clock } from '../ports.ts';
import { readUsage } from '../quota/usage-client.ts';
import type { QuotaSnapshot } from '../state/schema.ts';
import type { PrimingCredentialSource } from './request.ts';

/** What the observer is built from. */
export interface UsageObserverOptions {
  tokens: PrimingCredentialSource;
  baseUrl: string;
  clock: Clock;
  /** Default: the global fetch. */
  fetch?: FetchLike;
}

/** Builds `observeUsage(name)` for `PrimingScheduler`, on the one usage client (`core/quota`). */
export function createUsageObserver(
  options: UsageObserverOptions,
): (name: string) => Promise<QuotaSnapshot> {
  return async (name) =>
    readUsage(
      {
        baseUrl: options.baseUrl,
        credentials: options.tokens,
        now: () => options.clock.now(),
        timeoutMs: 30_000,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      },
      name,
      // Priming looks at the windows only.
      { resetCredits: false },
    );
}
