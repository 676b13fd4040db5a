import { describe, expect, it } from 'vitest';
import {
  exhaustedUntil,
  familyLimitVerdict,
  limitFamily,
  mainLimitVerdict,
  standingHealth,
  type LimitMark,
} from '../../../core/quota/limit-marks.ts';
import type { QuotaSnapshot, QuotaWindow } from '../../../core/state/schema.ts';

const now = Date.UTC(2026, 11, 3, 10, 0);
const hour = 3_600_000;

function window(usedPercent: number, resetsAt: number | null = now + 2 * hour): QuotaWindow {
  return { usedPercent, windowMinutes: 300, resetsAt };
}

function reading(at: number, patch: Partial<QuotaSnapshot> = {}): QuotaSnapshot {
  return {
    observedAt: at,
    source: 'usage',
    plan: null,
    primary: window(30),
    secondary: { usedPercent: 20, windowMinutes: 10080, resetsAt: now + 72 * hour },
    credits: null,
    activeLimit: null,
    limitReached: false,
    others: [],
    ...patch,
  };
}

const limitedAt = (at: number, until: number | null = now + hour): LimitMark => ({
  status: 'limited',
  unavailableUntil: until,
  updatedAt: at,
});

describe('mainLimitVerdict: the newest reading of the main limit wins', () => {
  it('lifts a 429 mark that a later read shows room against', () => {
    expect(mainLimitVerdict(limitedAt(now - 1000), reading(now), now)).toEqual({ lift: true });
    // A mark with no known reset is lifted the same way.
    expect(mainLimitVerdict(limitedAt(now - 1000, null), reading(now), now)).toEqual({
      lift: true,
    });
  });

  it('keeps the mark when the read was taken before it (a read under way when the 429 came)', () => {
    expect(mainLimitVerdict(limitedAt(now), reading(now - 1), now)).toBeNull();
  });

  it('keeps the mark when the later read still shows the limit spent', () => {
    const spent = reading(now, { primary: window(100) });
    expect(mainLimitVerdict(limitedAt(now - 1000), spent, now)).toBeNull();
    const reached = reading(now, { limitReached: true });
    expect(mainLimitVerdict(limitedAt(now - 1000), reached, now)).toBeNull();
    // A read with no window says nothing either way.
    const empty = reading(now, { primary: null, secondary: null });
    expect(mainLimitVerdict(limitedAt(now - 1000), empty, now)).toBeNull();
  });

  it('marks a profile limited until the reset when a read shows a window used up', () => {
    const spent = reading(now, { primary: window(100, now + 2 * hour) });
    expect(mainLimitVerdict(undefined, spent, now)).toEqual({ lift: false, until: now + 2 * hour });
    const ok: LimitMark = { status: 'ok', unavailableUntil: null, updatedAt: now - 1000 };
    expect(mainLimitVerdict(ok, spent, now)).toEqual({ lift: false, until: now + 2 * hour });
    // A mark that has lapsed is no mark.
    expect(mainLimitVerdict(limitedAt(now - 2 * hour, now - hour), spent, now)).toEqual({
      lift: false,
      until: now + 2 * hour,
    });
    // Both windows used up: until the later reset.
    const both = reading(now, {
      primary: window(100, now + 2 * hour),
      secondary: { usedPercent: 100, windowMinutes: 10080, resetsAt: now + 50 * hour },
    });
    expect(mainLimitVerdict(undefined, both, now)).toEqual({ lift: false, until: now + 50 * hour });
  });

  it('does not lock an account out on a used-up window with an unknown reset', () => {
    expect(
      mainLimitVerdict(undefined, reading(now, { primary: window(100, null) }), now),
    ).toBeNull();
  });

  it('never lifts a needs-sign-in mark', () => {
    const signIn: LimitMark = { status: 'auth_error', unavailableUntil: null, updatedAt: now - 1 };
    expect(mainLimitVerdict(signIn, reading(now), now)).toBeNull();
    expect(mainLimitVerdict(signIn, reading(now, { primary: window(100) }), now)).toBeNull();
  });
});

describe('familyLimitVerdict: a family answers only to its own figures', () => {
  const spark = (usedPercent: number, at = now) =>
    reading(at, {
      others: [
        {
          limitId: 'codex-spark',
          limitName: 'GPT-5.3-Codex-Spark',
          primary: window(usedPercent),
          secondary: null,
        },
      ],
    });
  const mark = { until: now + hour, markedAt: now - 1000 };

  it('keeps a family mark against main windows with room', () => {
    expect(familyLimitVerdict('codex_spark', mark, reading(now), now)).toBeNull();
  });

  it('lifts it on the family’s own room read after the 429, and keeps it on its own spent window', () => {
    expect(familyLimitVerdict('codex_spark', mark, spark(20), now)).toEqual({ lift: true });
    expect(familyLimitVerdict('codex_spark', mark, spark(100), now)).toBeNull();
    expect(familyLimitVerdict('codex_spark', mark, spark(20, now - 2000), now)).toBeNull();
  });

  it('marks a family that a read shows used up', () => {
    expect(familyLimitVerdict('codex_spark', undefined, spark(100), now)).toEqual({
      lift: false,
      until: now + 2 * hour,
    });
  });

  it('names families as 429s do', () => {
    expect(limitFamily('codex-spark')).toBe('codex_spark');
    expect(limitFamily('codex')).toBeNull();
    expect(limitFamily(null)).toBeNull();
  });
});

describe('standingHealth', () => {
  const ok = { status: 'ok' as const, unavailableUntil: null, code: null, message: null };

  it('shows figures with a used-up window as limited until the reset, as routing holds them', () => {
    const spent = reading(now, { primary: window(100, now + hour) });
    expect(exhaustedUntil(spent, now)).toBe(now + hour);
    expect(standingHealth(ok, spent, now)).toMatchObject({
      status: 'limited',
      unavailableUntil: now + hour,
      code: 'usage_limit_reached',
    });
    expect(standingHealth(ok, reading(now), now)).toBe(ok);
    // Past its reset, a used-up window no longer counts.
    expect(standingHealth(ok, spent, now + hour)).toBe(ok);
  });
});
