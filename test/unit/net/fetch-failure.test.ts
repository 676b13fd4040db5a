import { describe, expect, it } from 'vitest';
import { describeFetchFailure } from '../../../core/net/fetch-failure.ts';

/** A network failure as undici's `fetch` rejects with it: a bare TypeError, the reason in cause. */
function fetchFailed(code: string): TypeError {
  const socket = Object.assign(new Error(`connect ${code} 127.0.0.1:9`), { code });
  return new TypeError('fetch failed', { cause: socket });
}

describe('describeFetchFailure', () => {
  it('says the socket’s error, never the TypeError fetch wraps it in', () => {
    expect(describeFetchFailure(fetchFailed('ECONNREFUSED'))).toBe('ECONNREFUSED');
    expect(describeFetchFailure(fetchFailed('ENOTFOUND'), 10_000)).toBe('ENOTFOUND');
    const tls = new TypeError('fetch failed', { cause: new Error('unable to verify the cert') });
    expect(describeFetchFailure(tls)).toBe('unable to verify the cert');
  });

  it('says how long it waited for a timeout, when it knows', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(describeFetchFailure(timeout, 30_000)).toBe('no answer within 30 s');
    expect(describeFetchFailure(timeout)).toBe('no answer in time');
  });

  it('falls back to the error’s own message', () => {
    expect(describeFetchFailure(new Error('socket hang up'))).toBe('socket hang up');
    expect(describeFetchFailure('odd')).toBe('odd');
  });
});
