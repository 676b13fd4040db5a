/**
 * Parsing `wham/rate-limit-reset-credits` answers: the count, the soonest expiry of an available
 * credit, "none" for an account without any, and malformed answers refused rather than guessed.
 */
import { describe, expect, it } from 'vitest';
import { parseResetCredits } from '../../../core/quota/reset-credits.ts';

const now = Date.parse('2026-11-30T10:00:00Z');

const credit = (status: string, expiresAt: string | number | null, id = status) => ({
  id,
  reset_type: 'codex_rate_limits',
  status,
  granted_at: '2026-11-01T09:00:00Z',
  expires_at: expiresAt,
  title: 'Full reset (Weekly + 5 hr)',
  description: null,
});

describe('parseResetCredits', () => {
  it('reads the count and the soonest expiry among available credits', () => {
    const read = parseResetCredits(
      {
        available_count: 2,
        credits: [
          credit('available', '2026-12-20T08:00:00Z', 'later'),
          credit('redeemed', '2026-12-01T08:00:00Z', 'used'),
          credit('available', '2026-12-05T18:30:00Z', 'sooner'),
        ],
      },
      now,
    );
    expect(read).toEqual({
      ok: true,
      value: { available: 2, nextExpiresAt: Date.parse('2026-12-05T18:30:00Z') },
    });
  });

  it('takes Unix seconds too, and ignores an expiry already past', () => {
    const read = parseResetCredits(
      {
        available_count: 2,
        credits: [
          credit('available', Date.parse('2026-11-29T00:00:00Z') / 1000),
          credit('AVAILABLE', Date.parse('2026-12-03T00:00:00Z') / 1000),
        ],
      },
      now,
    );
    expect(read).toEqual({
      ok: true,
      value: { available: 2, nextExpiresAt: Date.parse('2026-12-03T00:00:00Z') },
    });
  });

  it('counts the available credits when the count is missing', () => {
    const read = parseResetCredits(
      { credits: [credit('available', null), credit('redeemed', null)] },
      now,
    );
    expect(read).toEqual({ ok: true, value: { available: 1, nextExpiresAt: null } });
  });

  it('says "none" (null, not zero) for an account without credits', () => {
    expect(parseResetCredits({ available_count: 0, credits: [] }, now)).toEqual({
      ok: true,
      value: null,
    });
    expect(parseResetCredits({ credits: [credit('redeemed', null)] }, now)).toEqual({
      ok: true,
      value: null,
    });
    expect(parseResetCredits({ available_count: 0 }, now)).toEqual({ ok: true, value: null });
  });

  it('keeps the count when the list is malformed, dropping bad entries and bad times', () => {
    expect(
      parseResetCredits(
        {
          available_count: 1,
          credits: [null, 'x', credit('available', 'not a time'), { status: 7 }],
        },
        now,
      ),
    ).toEqual({ ok: true, value: { available: 1, nextExpiresAt: null } });
    const warned: string[] = [];
    expect(
      parseResetCredits(
        { available_count: 1, credits: [credit('available', 1e12)] },
        now,
        (field) => warned.push(field),
      ),
    ).toEqual({ ok: true, value: { available: 1, nextExpiresAt: null } });
    expect(warned).toEqual(['rate_limit_reset_credits.expires_at']);
  });

  it.each([
    ['not an object', 'reset'],
    ['null', null],
    ['an array', [credit('available', null)]],
    ['no count and no list', { plan_type: 'plus' }],
    ['a negative count and no list', { available_count: -1 }],
    ['a fractional count and no list', { available_count: 1.5 }],
    ['a string count and a non-list', { available_count: '2', credits: 'two' }],
  ])('refuses an answer that is %s', (_label, json) => {
    const read = parseResetCredits(json, now);
    expect(read.ok).toBe(false);
    if (!read.ok) {
      expect(read.code).toBe('upstream_error');
      expect(read.message).toMatch(/^The reset-credits endpoint sent/);
    }
  });
});
