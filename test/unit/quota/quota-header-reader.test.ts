/** Quota headers that did not change since the profile's last response are not parsed again. */
import { describe, expect, it } from 'vitest';
import { parseRateLimitHeaders, QuotaHeaderReader } from '../../../core/quota/headers.ts';

const now = Date.UTC(2026, 10, 30, 12);
const resetAt = String(Math.floor(now / 1000) + 3600);

function response(used: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'content-type': 'text/event-stream',
    'x-request-id': `req-${Math.random()}`,
    'x-codex-plan-type': 'plus',
    'x-codex-primary-used-percent': used,
    'x-codex-primary-window-minutes': '300',
    'x-codex-primary-reset-at': resetAt,
    'x-codex-secondary-used-percent': '40',
    'x-codex-secondary-window-minutes': '10080',
    ...extra,
  };
}

describe('QuotaHeaderReader', () => {
  it('parses once while the quota headers repeat, and gives the same snapshot at the new time', () => {
    const reader = new QuotaHeaderReader();
    const first = reader.read('a', response('12'), now);
    expect(first).toEqual(parseRateLimitHeaders(response('12'), now));
    // Other headers (a request id) change on every response: they are not quota headers.
    const again = reader.read('a', response('12'), now + 1000);
    const third = reader.read('a', response('12'), now + 2000);
    expect(reader.parses).toBe(1);
    expect(again).toEqual({ ...first, observedAt: now + 1000 });
    expect(third).toEqual(parseRateLimitHeaders(response('12'), now + 2000));
  });

  it('applies a changed value, an added or removed header, and keeps profiles apart', () => {
    const reader = new QuotaHeaderReader();
    reader.read('a', response('12'), now);
    expect(reader.read('a', response('13'), now + 1)?.primary?.usedPercent).toBe(13);
    expect(reader.parses).toBe(2);
    const spark = { 'x-codex-spark-primary-used-percent': '70', 'x-codex-spark-limit-name': 'S' };
    expect(reader.read('a', response('13', spark), now + 2)?.others).toEqual(
      parseRateLimitHeaders(response('13', spark), now + 2)?.others,
    );
    expect(reader.parses).toBe(3);
    expect(reader.read('a', response('13'), now + 3)?.others).toEqual([]);
    expect(reader.parses).toBe(4);
    // The same values for another profile: that profile's first response is parsed.
    reader.read('b', response('13'), now + 4);
    expect(reader.parses).toBe(5);
    // A response without quota headers, then again: none, parsed once.
    expect(reader.read('c', { 'x-request-id': '1' }, now)).toBeNull();
    expect(reader.read('c', { 'x-request-id': '2' }, now)).toBeNull();
    expect(reader.parses).toBe(6);
  });

  it('parses again after forget', () => {
    const reader = new QuotaHeaderReader();
    reader.read('a', response('12'), now);
    reader.forget('a');
    reader.read('a', response('12'), now);
    expect(reader.parses).toBe(2);
  });
});
