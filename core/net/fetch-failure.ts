/**
 * Why a `fetch` failed, in words a person can act on. Undici rejects every network failure
 * (refused, unresolvable host, reset, TLS) as a bare `TypeError: fetch failed` and keeps the
 * socket's error in `cause`; the error's class name says nothing, its cause does.
 */

/**
 * A short reason for a rejected `fetch` or body read: `no answer within N s` for a timeout
 * (`timeoutMs`, the signal's), the socket error's code (`ECONNREFUSED`, `ENOTFOUND`) when there is
 * one, else its message, else the error's own message.
 */
export function describeFetchFailure(error: unknown, timeoutMs?: number): string {
  const failure = error as { name?: unknown; message?: unknown; cause?: unknown } | null;
  if (failure?.name === 'TimeoutError') {
    return timeoutMs === undefined
      ? 'no answer in time'
      : `no answer within ${Math.round(timeoutMs / 1000)} s`;
  }
  const cause = failure?.cause as { code?: unknown; message?: unknown } | null | undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string' && cause.message !== '') return cause.message;
  return typeof failure?.message === 'string' && failure.message !== ''
    ? failure.message
    : String(error);
}
