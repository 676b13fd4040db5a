import { describe, expect, it } from 'vitest';
import { buildPoolLimitBody, parseUsageLimitBody } from '../../../core/quota/usage-limit.ts';
import { parseRateLimitHeaders } from '../../../core/quota/headers.ts';

const now = Date.UTC(2026, 0, 5, 12);

describe('parseUsageLimitBody', () => {
  it('reads the real body, preferring resets_at over resets_in_seconds', () => {
    const body = {
      error: {
        type: 'usage_limit_reached',
        message: 'The usage limit has been reached',
        plan_type: 'plus',
        resets_at: 1777936568,
        eligible_promo: null,
        resets_in_seconds: 13872,
      },
    };
    expect(parseUsageLimitBody(body, now)).toEqual({
      type: 'usage_limit_reached',
      resetsAt: 1777936568_000,
      planType: 'plus',
    });
    expect(parseUsageLimitBody(JSON.stringify(body), now).resetsAt).toBe(1777936568_000);
    expect(parseUsageLimitBody(new TextEncoder().encode(JSON.stringify(body)), now).resetsAt).toBe(
      1777936568_000,
    );
  });

  it('falls back to now + resets_in_seconds (older upstream)', () => {
    const body = { error: { type: 'usage_limit_reached', resets_in_seconds: 60 } };
    expect(parseUsageLimitBody(body, now).resetsAt).toBe(now + 60_000);
  });

  it('falls back to the exhausted header window', () => {
    const headers = parseRateLimitHeaders(
      {
        'x-codex-primary-used-percent': '100',
        'x-codex-primary-reset-at': String(now / 1000 + 600),
        'x-codex-secondary-used-percent': '40',
        'x-codex-secondary-reset-at': String(now / 1000 + 60),
      },
      now,
    );
    expect(
      parseUsageLimitBody({ error: { type: 'usage_limit_reached' } }, now, headers).resetsAt,
    ).toBe(now + 600_000);
  });

  it('without an exhausted window, takes the earliest reset ahead', () => {
    const headers = parseRateLimitHeaders(
      {
        'x-codex-primary-used-percent': '99',
        'x-codex-primary-reset-at': String(now / 1000 + 600),
        'x-codex-secondary-used-percent': '40',
        'x-codex-secondary-reset-at': String(now / 1000 - 60),
      },
      now,
    );
    expect(parseUsageLimitBody('{}', now, headers).resetsAt).toBe(now + 600_000);
  });

  it.each([null, '', 'not json', 42, { error: 'x' }, { error: { resets_at: 'soon' } }])(
    'tolerates %j',
    (body) => {
      expect(parseUsageLimitBody(body, now).resetsAt).toBeNull();
    },
  );

  it('reports other 429 types so the caller can tell them apart', () => {
    expect(parseUsageLimitBody({ error: { type: 'usage_not_included' } }, now).type).toBe(
      'usage_not_included',
    );
  });
});

describe('buildPoolLimitBody', () => {
  it('has Codex’s shape with the earliest reset', () => {
    const body = buildPoolLimitBody({
      earliestReset: now + 90_500,
      now,
      profileCount: 3,
      planType: 'plus',
      timeZone: 'UTC',
    });
    expect(body).toEqual({
      error: {
        type: 'usage_limit_reached',
        message:
          'All 3 Codex Lab profiles reached the usage limit. The earliest resets at 12:01 (in 1m).',
        plan_type: 'plus',
        resets_at: Math.ceil((now + 90_500) / 1000),
        resets_in_seconds: 91,
      },
    });
    // What Codex reads back: the reset it shows the user.
    expect(parseUsageLimitBody(body, now).resetsAt).toBe(Math.ceil((now + 90_500) / 1000) * 1000);
  });

  it('names the reset as people read times: local clock, the weekday when a day or more away', () => {
    const later = buildPoolLimitBody({
      earliestReset: now + 2 * 86_400_000 + 3 * 3_600_000 + 59_000,
      now,
      profileCount: 2,
      timeZone: 'UTC',
    });
    expect(later.error['message']).toBe(
      'All 2 Codex Lab profiles reached the usage limit. The earliest resets at Wed 15:00 (in 2d 3h).',
    );
    const tokyo = buildPoolLimitBody({
      earliestReset: now + 2 * 3_600_000,
      now,
      timeZone: 'Asia/Tokyo',
    });
    expect(tokyo.error['message']).toContain('The earliest resets at 23:00 (in 2h).');
    expect(String(tokyo.error['message'])).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
  });

  it('says so when no reset is known', () => {
    const body = buildPoolLimitBody({ earliestReset: null, now });
    expect(body.error).toMatchObject({ resets_at: null, resets_in_seconds: null, plan_type: null });
    expect(body.error.message).toContain('Every Codex Lab profile');
  });
});
