/**
 * One rule names the weekly window (core/format.ts `windowsByLength`): of two, the longer; a lone
 * window when it lasts a day or more; a lone window without a length by its slot. `list` shows the
 * WEEKLY cell by it, and the forecast, the pool summary and the router read the same window, so a
 * lone 5-hour window is never the week on one surface and "not known" on another.
 */
import { describe, expect, it } from 'vitest';
import { windowsByLength } from '../../../core/format.ts';
import { weeklySlot } from '../../../core/quota/forecast.ts';
import { hasRoom, weeklyResetAt } from '../../../core/router/policy.ts';
import type { QuotaSnapshot, QuotaWindow } from '../../../core/state/schema.ts';

const now = Date.parse('2030-01-01T12:00:00.000Z');
const hour = 3_600_000;

function snapshot(primary: QuotaWindow | null, secondary: QuotaWindow | null): QuotaSnapshot {
  return {
    observedAt: now,
    source: 'headers',
    plan: 'plus',
    primary,
    secondary,
    credits: null,
    activeLimit: null,
    limitReached: null,
    others: [],
  };
}

const fiveHour = (usedPercent: number): QuotaWindow => ({
  usedPercent,
  windowMinutes: 300,
  resetsAt: now + 2 * hour,
});
const weekly = (usedPercent: number): QuotaWindow => ({
  usedPercent,
  windowMinutes: 10080,
  resetsAt: now + 72 * hour,
});
const noLength = (usedPercent: number): QuotaWindow => ({
  usedPercent,
  windowMinutes: null,
  resetsAt: now + 2 * hour,
});

const cases: [string, QuotaSnapshot][] = [
  ['a lone 5-hour window in primary', snapshot(fiveHour(40), null)],
  ['a lone 5-hour window in secondary', snapshot(null, fiveHour(40))],
  ['a lone primary window without a length', snapshot(noLength(40), null)],
  ['a lone secondary window without a length', snapshot(null, noLength(40))],
  ['a lone weekly window in primary', snapshot(weekly(40), null)],
  ['a 5-hour and a weekly window', snapshot(fiveHour(40), weekly(20))],
  ['a weekly and a 5-hour window', snapshot(weekly(20), fiveHour(40))],
];

describe('the weekly window, on every surface', () => {
  it.each(cases)(
    '%s: the forecast (and the pool summary) and the router read the window list shows as WEEKLY',
    (_, quota) => {
      const { weekly: shown } = windowsByLength(quota);
      const slot = weeklySlot(quota);
      expect(slot === null ? null : quota[slot]).toBe(shown);
      expect(weeklyResetAt(quota, now)).toBe(shown?.resetsAt ?? null);
    },
  );

  it('a lone 5-hour window is judged as the 5-hour window when routing, not as the week', () => {
    // 80% used leaves a week 20% (room) but a 5-hour window only a fifth (no room).
    expect(hasRoom(snapshot(fiveHour(80), null), now)).toBe(false);
    expect(hasRoom(snapshot(fiveHour(50), null), now)).toBe(true);
    expect(hasRoom(snapshot(weekly(80), null), now)).toBe(true);
  });
});
