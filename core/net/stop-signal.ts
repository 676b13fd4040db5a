/**
 * The host's stop, as the work it started sees it. A stop aborts one signal; every outbound
 * request sent on the host's behalf (usage reads, priming turns, the workspace check) takes it, so
 * the stop ends them at once instead of waiting out their own time limits. Work a stop ended is
 * `cancelled` (an expected failure) and writes nothing more. A token refresh never takes it: the
 * issuer rotates the single-use refresh token as it answers, so a refresh must finish and land.
 */
import { LabError } from '../errors.ts';

/** A fetch-compatible function (the global `fetch`, or a test's). */
type Fetch = (input: string, init: RequestInit) => Promise<Response>;

/**
 * `fetch`, with every request also ended when the signal `stopSignal()` gives (read per request,
 * so a host started again gets its new one) aborts, beside the request's own signal.
 */
export function fetchUntilStop(fetch: Fetch, stopSignal: () => AbortSignal): Fetch {
  return (input, init) => {
    const stop = stopSignal();
    const signal = init.signal ? AbortSignal.any([init.signal, stop]) : stop;
    return fetch(input, { ...init, signal });
  };
}

/** The failure of `what` (a phrase: "the priming of ann") when a stop ended it. */
export function cancelledByStop(what: string): LabError {
  return new LabError(
    'cancelled',
    `Codex Lab stopped before ${what} finished: it was cancelled, and nothing of it was saved. Run it again once Codex Lab is running.`,
  );
}

/** Throws `cancelledByStop(what)` once `signal` has aborted: work past that point writes nothing. */
export function throwIfStopped(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted === true) throw cancelledByStop(what);
}

/** True for the failure `cancelledByStop` gives (a stop ended the work: nothing to report). */
export function isCancelled(error: unknown): boolean {
  return error instanceof LabError && error.code === 'cancelled';
}
