import { describe, expect, it } from 'vitest';
import { cancelledByStop, fetchUntilStop, isCancelled } from '../../../core/net/stop-signal.ts';

/** A fetch that never answers, and ends as a real one does when its signal aborts. */
function hangingFetch(input: string, init: RequestInit): Promise<Response> {
  return new Promise((_resolve, reject) => {
    if (init.signal?.aborted === true) return reject(init.signal.reason);
    init.signal?.addEventListener('abort', () => reject(init.signal?.reason), { once: true });
  });
}

describe('fetchUntilStop', () => {
  it('ends a request in flight when the stop aborts, beside its own signal', async () => {
    const stop = new AbortController();
    const fetch = fetchUntilStop(hangingFetch, () => stop.signal);
    const own = new AbortController();
    const first = fetch('http://127.0.0.1:9/', { signal: own.signal });
    own.abort(new Error('its own limit'));
    await expect(first).rejects.toThrow('its own limit');
    const second = fetch('http://127.0.0.1:9/', { signal: new AbortController().signal });
    stop.abort();
    await expect(second).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('reads the stop signal per request, so a host started again gets its new one', async () => {
    let stop = new AbortController();
    const fetch = fetchUntilStop(hangingFetch, () => stop.signal);
    stop.abort();
    await expect(fetch('http://127.0.0.1:9/', {})).rejects.toMatchObject({ name: 'AbortError' });
    stop = new AbortController();
    const pending = fetch('http://127.0.0.1:9/', {});
    let ended = false;
    void pending.catch(() => (ended = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ended).toBe(false);
    stop.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('cancelledByStop', () => {
  it('is the expected failure `cancelled`, saying nothing was saved', () => {
    const error = cancelledByStop('the usage refresh');
    expect(error.code).toBe('cancelled');
    expect(error.message).toContain('the usage refresh');
    expect(error.message).toContain('nothing of it was saved');
    expect(isCancelled(error)).toBe(true);
    expect(isCancelled(new Error('cancelled'))).toBe(false);
  });
});
