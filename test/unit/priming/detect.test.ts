import { describe, expect, it } from 'vitest';
import {
  assessWindow,
  pickWindow,
  resetSlot,
  sampleWindow,
  windowLengthMs,
  type WindowSample,
} from '../../../core/priming/detect.ts';
import type { QuotaSnapshot } from '../../../core/state/schema.ts';

const week = windowLengthMs.weekly;
const start = Date.UTC(2026, 10, 24, 8, 0, 0);

function idleSample(at: number): WindowSample {
  return { observedAt: at, resetsAt: at + week, windowMs: week, usedPercent: 0 };
}

function snapshot(partial: Partial<QuotaSnapshot>): QuotaSnapshot {
  return {
    observedAt: start,
    source: 'usage',
    plan: 'plus',
    primary: null,
    secondary: null,
    credits: null,
    activeLimit: null,
    limitReached: false,
    others: [],
    ...partial,
  };
}

describe('assessWindow', () => {
  it('calls a window idle when reset_at moves forward with the clock', () => {
    const verdict = assessWindow(idleSample(start), idleSample(start + 60_000));
    expect(verdict.state).toBe('idle');
  });

  it('tolerates a few seconds of jitter in the moving reset', () => {
    const current = { ...idleSample(start + 60_000), resetsAt: start + 60_000 + week + 3_000 };
    expect(assessWindow(idleSample(start), current).state).toBe('idle');
  });

  it('does not call an idle window started from two looks too close together to tell', () => {
    // The upstream gives resets in whole seconds: an idle window's reset moved 5 s in the 5.5 s
    // between these looks, which is also within the jitter of "stopped moving".
    const current = { ...idleSample(start + 5_500), resetsAt: start + week + 5_000 };
    expect(assessWindow(idleSample(start), current).state).toBe('unknown');
    // Far enough apart, the same rounding cannot hide which it is.
    const later = { ...idleSample(start + 10_500), resetsAt: start + week + 10_000 };
    expect(assessWindow(idleSample(start), later).state).toBe('idle');
    const stopped = { ...idleSample(start + 10_500), resetsAt: start + week + 1_000 };
    expect(assessWindow(idleSample(start), stopped).state).toBe('started');
  });

  it('calls a window started when reset_at stops moving', () => {
    const first: WindowSample = {
      observedAt: start,
      resetsAt: start + week,
      windowMs: week,
      usedPercent: 0,
    };
    const second = { ...first, observedAt: start + 60_000, resetsAt: start + week + 2_000 };
    expect(assessWindow(first, second).state).toBe('started');
  });

  it('calls a window with usage started even when its reset moved with the clock', () => {
    // A turn started the window two seconds before this read: the reset moved forward by the
    // time between reads, as an idle window's does, but 3 % of it is used.
    const current = {
      ...idleSample(start + 15 * 60_000),
      resetsAt: start + 15 * 60_000 - 2_000 + week,
      usedPercent: 3,
    };
    expect(assessWindow(idleSample(start), current)).toEqual({
      state: 'started',
      reason: '3% of it is used',
    });
    expect(assessWindow(idleSample(start), { ...current, usedPercent: 100 }).state).toBe('started');
  });

  it('cannot tell from one pinned observation', () => {
    expect(assessWindow(null, idleSample(start)).state).toBe('unknown');
  });

  it('calls a window started when its countdown is below full length or quota is used', () => {
    const running: WindowSample = {
      observedAt: start,
      resetsAt: start + week / 2,
      windowMs: week,
      usedPercent: 0,
    };
    expect(assessWindow(null, running).state).toBe('started');
    expect(assessWindow(null, { ...idleSample(start), usedPercent: 3 }).state).toBe('started');
  });

  it('calls a window idle when its known reset passed and the new countdown is at full length', () => {
    const before: WindowSample = {
      observedAt: start,
      resetsAt: start + 3_600_000,
      windowMs: week,
      usedPercent: 40,
    };
    const after = idleSample(start + 2 * 3_600_000);
    expect(assessWindow(before, after).state).toBe('idle');
  });

  it('calls a window idle when the reported reset is already in the past', () => {
    const stale: WindowSample = {
      observedAt: start,
      resetsAt: start - 1_000,
      windowMs: week,
      usedPercent: 80,
    };
    expect(assessWindow(null, stale).state).toBe('idle');
  });

  it('does not call a window reset and restarted by a turn idle', () => {
    const before: WindowSample = {
      observedAt: start,
      resetsAt: start + 3_600_000,
      windowMs: week,
      usedPercent: 40,
    };
    const after: WindowSample = {
      observedAt: start + 5 * 3_600_000,
      resetsAt: start + 3 * 3_600_000 + week,
      windowMs: week,
      usedPercent: 1,
    };
    expect(assessWindow(before, after).state).toBe('started');
  });
});

describe('windows in a snapshot', () => {
  it('matches windows by length, so a weekly-only plan still finds its weekly window', () => {
    const weeklyOnly = snapshot({
      primary: { usedPercent: 0, windowMinutes: 10080, resetsAt: start + week },
    });
    expect(pickWindow(weeklyOnly, 'weekly')?.windowMinutes).toBe(10080);
    expect(pickWindow(weeklyOnly, 'five_hour')).toBeNull();
    const both = snapshot({
      primary: { usedPercent: 5, windowMinutes: 300, resetsAt: start + 1000 },
      secondary: { usedPercent: 0, windowMinutes: 10080, resetsAt: start + week },
    });
    expect(sampleWindow(both, 'weekly')).toEqual(idleSample(start));
    expect(sampleWindow(both, 'five_hour')?.usedPercent).toBe(5);
  });

  it('keys claims by an epoch-aligned slot that stays put within a window', () => {
    const slot = resetSlot('weekly', start);
    expect(resetSlot('weekly', start + 60_000)).toBe(slot);
    expect(resetSlot('weekly', slot * 1000 + week)).toBe(slot + week / 1000);
    expect(Number.isInteger(slot)).toBe(true);
  });
});
