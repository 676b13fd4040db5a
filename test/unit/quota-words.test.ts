/**
 * The one vocabulary of quota (docs/quota.md, "Words for quota"): what is left, how a reset is
 * said, and how a used-up or unknown window reads, worded by one function each in the shared
 * formatting module and used by every surface.
 */
import { describe, expect, it } from 'vitest';
import {
  cutAtWord,
  cutText,
  familyLimitParts,
  forecastParts,
  forecastSentence,
  formatStatus,
  formatFamilyLimit,
  formatStatusShort,
  formatWindowLeft,
  leftPercent,
  percentLeftText,
  poolLeftParts,
  quotaAmountText,
  quotaUnknownText,
  resetText,
  routeWhyText,
  windowLeft,
} from '../../core/format.ts';

const now = Date.parse('2030-01-01T12:00:00.000Z');
const minute = 60_000;
const hour = 60 * minute;
const at = (offset: number) => new Date(now + offset).toISOString();

describe('how much is left', () => {
  it('is 100 − used, rounded as the pool headroom rounds, within 0–100', () => {
    expect(leftPercent(0)).toBe(100);
    expect(leftPercent(41.6)).toBe(58);
    // Math.round(100 − 42.5): the pool's mean of (100 − used) rounds the same way, so an
    // account alone in the pool shows the same figure on its card and in the banner.
    expect(leftPercent(42.5)).toBe(58);
    expect(leftPercent(100)).toBe(0);
    expect(leftPercent(130)).toBe(0);
    expect(leftPercent(-3)).toBe(100);
    expect(leftPercent(Number.NaN)).toBe(100);
  });

  it('says "N% left", and "used up" only for a full window', () => {
    expect(percentLeftText(47)).toBe('47% left');
    expect(quotaAmountText(12)).toBe('88% left');
    expect(quotaAmountText(99.6)).toBe('0% left');
    expect(quotaAmountText(100)).toBe('used up');
  });
});

describe('resets', () => {
  it('counts down, and says when the reset is past or unknown', () => {
    expect(resetText(at(3 * hour + 5 * minute), now)).toBe('resets in 3h 5m');
    expect(resetText(at(500), now)).toBe('resets now');
    expect(resetText(at(-1), now)).toBe('reset since last read');
    expect(resetText(null, now)).toBe('reset time unknown');
    expect(resetText('garbage', now)).toBe('reset time unknown');
  });
});

describe('a whole window', () => {
  it('words what is left and the reset in one sentence', () => {
    const window = { usedPercent: 41.6, windowMinutes: 300, resetsAt: at(3 * hour) };
    expect(formatWindowLeft(window, now)).toBe('58% left, resets in 3h');
    expect(windowLeft(window, now)).toMatchObject({
      left: 58,
      exhausted: false,
      figure: '58%',
      amount: '58% left',
      reset: 'resets in 3h',
      countdown: '3h',
    });
  });

  it('says a full window is used up until its reset', () => {
    const window = { usedPercent: 100, windowMinutes: 300, resetsAt: at(2 * hour) };
    expect(formatWindowLeft(window, now)).toBe('used up, resets in 2h');
    expect(windowLeft(window, now)).toMatchObject({ left: 0, exhausted: true, figure: 'used up' });
  });

  it('offers no way to say a used-up window as a percentage', () => {
    // A compact cell shows `figure`: were it "0%", a surface could say "5h 0%" where the card
    // says "used up", with no literal for a scan of the components to find.
    const parts = windowLeft({ usedPercent: 100, windowMinutes: 300, resetsAt: at(hour) }, now);
    const words = Object.entries(parts).filter(([, value]) => typeof value === 'string');
    expect(words.filter(([, value]) => /\d%/.test(value as string))).toEqual([]);
    // A window a fraction short of full still serves, and says its figure.
    expect(
      windowLeft({ usedPercent: 99.6, windowMinutes: 300, resetsAt: at(hour) }, now).figure,
    ).toBe('0%');
  });

  it('counts a window past its reset as the router does: all of it left', () => {
    const window = { usedPercent: 100, windowMinutes: 300, resetsAt: at(-minute) };
    expect(formatWindowLeft(window, now)).toBe('100% left, reset since last read');
    // The short form says it has reset, not "now" (which would read as "resetting now" for days).
    expect(windowLeft(window, now)).toMatchObject({
      left: 100,
      exhausted: false,
      countdown: 'reset',
      compact: '100% · reset',
    });
    const lastSecond = { ...window, resetsAt: new Date(now + 500).toISOString() };
    expect(windowLeft(lastSecond, now).countdown).toBe('now');
  });

  it('never cuts an emoji in half', () => {
    expect(cutText('a😀b c', 3)).toBe('a…');
    expect(cutAtWord('a😀b c', 3)).toBe('a…');
    expect(cutText('ab😀', 4)).toBe('ab😀');
  });

  it('says a window nobody has reported is not known yet', () => {
    expect(quotaUnknownText).toBe('not known yet');
    expect(formatWindowLeft(null, now)).toBe('not known yet');
    expect(windowLeft(null, now)).toMatchObject({
      left: null,
      figure: '–',
      amount: 'not known yet',
    });
    const noReset = { usedPercent: 30, windowMinutes: 10080, resetsAt: null };
    expect(formatWindowLeft(noReset, now)).toBe('70% left, reset time unknown');
    expect(windowLeft(noReset, now).countdown).toBe('–');
  });
});

describe('the pool', () => {
  const pool = { headroomPercent: 47, eligible: ['work'] };
  it('says its headroom as what is left, the same words as a window', () => {
    expect(poolLeftParts(pool)).toEqual({
      figure: '47%',
      words: 'left in the pool',
      text: '47% left',
    });
    expect(poolLeftParts({ headroomPercent: 0, eligible: [] })).toMatchObject({
      figure: '0%',
      text: '0% left',
    });
    expect(poolLeftParts({ headroomPercent: null, eligible: ['work'] })).toEqual({
      figure: '–',
      words: 'quota not known yet',
      text: 'quota not known yet',
    });
  });
});

describe('why a turn moved', () => {
  it('says a used-up account in the same words', () => {
    const why = {
      rule: 'best' as const,
      pin: null,
      left: [{ profile: 'work', code: 'exhausted' }],
    };
    expect(routeWhyText(why)).toBe('fallback after work had used up its quota: best by quota');
  });
});

describe('short forms for a narrow table', () => {
  it('says a window as its figure and countdown, a used-up one as used up', () => {
    const window = { usedPercent: 42, windowMinutes: 300, resetsAt: at(3 * hour + 5 * minute) };
    expect(windowLeft(window, now).compact).toBe('58% · 3h 5m');
    const full = { usedPercent: 100, windowMinutes: 300, resetsAt: at(2 * hour) };
    expect(windowLeft(full, now).compact).toBe('used up · 2h');
    expect(windowLeft(null, now).compact).toBe('not known yet');
  });

  it('says a limited status without the clock time', () => {
    const until = at(2 * hour + 5 * minute);
    expect(formatStatus('limited', until, { now, timeZone: 'UTC' })).toBe(
      'limited, back in 2h 5m, at 14:05',
    );
    expect(formatStatusShort('limited', until, { now })).toBe('limited, back in 2h 5m');
    expect(formatStatusShort('limited', null, { now })).toBe('limited');
    expect(formatStatusShort('auth_error', null, { now }, 'corrupt_file')).toBe(
      'auth file unreadable',
    );
  });

  it('says a weekly forecast under a WEEKLY PACE header without repeating "weekly"', () => {
    const when = () => 'Tue 18:00';
    const runsOut = {
      outlook: 'runs_out' as const,
      runsOutAt: at(hour),
      resetsAt: at(2 * hour),
      percentPerHour: 1.23,
    };
    expect(forecastParts(runsOut, when)).toEqual({
      text: forecastSentence(runsOut, when),
      cell: '1.2%/h: runs out Tue 18:00, before the reset',
      compact: '1.2%/h: runs out Tue 18:00',
    });
    expect(forecastSentence(runsOut, when)).toBe(
      'weekly pace 1.2%/h: runs out Tue 18:00, before the weekly reset',
    );
    const lasts = { ...runsOut, outlook: 'lasts' as const, runsOutAt: null, percentPerHour: 0 };
    expect(forecastParts(lasts, when)).toMatchObject({
      cell: '0.0%/h: fine until the reset',
      compact: '0.0%/h: fine',
    });
    expect(forecastParts(null, when)).toEqual({
      text: 'weekly pace: not known yet',
      cell: 'not known yet',
      compact: 'not known yet',
    });
  });

  it('cuts a line at a word, with "…"', () => {
    const line =
      'New sessions → work: best: its week ends first, at Fri 12:00 (in 3d), with 60% left';
    expect(cutAtWord(line, 200)).toBe(line);
    expect(cutAtWord(line, 31)).toBe('New sessions → work: best: its…');
    expect(cutAtWord(line, 30)).toBe('New sessions → work: best…');
    expect(cutAtWord(line, 23)).toBe('New sessions → work…');
    expect(cutAtWord('unbreakable-long-word', 10)).toBe('unbreakab…');
    for (const width of [10, 23, 30, 50]) {
      expect(cutAtWord(line, width).length).toBeLessThanOrEqual(width);
    }
  });
});

describe('a limit family, one wording on the card and in usage and list', () => {
  const spark = {
    id: 'codex_spark',
    name: 'GPT-5.3-Codex-Spark',
    primary: { usedPercent: 5, windowMinutes: 300, resetsAt: at(hour) },
    secondary: null,
    limitedUntil: at(2 * hour + 5 * minute),
  };

  it('says every window, an unreported one as not known yet, and a holding mark', () => {
    const parts = familyLimitParts(spark, now);
    expect(parts.label).toBe('GPT-5.3-Codex-Spark limit');
    expect(
      parts.text.startsWith(`5-hour 95% left, resets in 1h; weekly ${quotaUnknownText}; `),
    ).toBe(true);
    expect(parts.text).toMatch(/; limited, back in 2h 5m, at \d\d:\d\d$/);
    // `usage` and `list` print the same parts joined.
    expect(formatFamilyLimit(spark, now)).toBe(`${parts.label}: ${parts.text}`);
  });

  it('names a family without a display name by its id', () => {
    expect(familyLimitParts({ ...spark, name: null, limitedUntil: null }, now).label).toBe(
      'codex_spark limit',
    );
  });
});
