import { describe, expect, it } from 'vitest';
import { parseRateLimitHeaders } from '../../../core/quota/headers.ts';

const now = Date.UTC(2026, 0, 5, 12);

/** Headers as a real Plus 429 carries them (research §6.1, third-party captures). */
const plus = {
  'x-codex-primary-used-percent': '42.5',
  'x-codex-primary-window-minutes': '300',
  'x-codex-primary-reset-at': '1767628800',
  'x-codex-secondary-used-percent': '13',
  'x-codex-secondary-window-minutes': '10080',
  'x-codex-secondary-reset-at': '1768060800',
  'x-codex-primary-reset-after-seconds': '999',
  'x-codex-plan-type': 'plus',
  'x-codex-active-limit': 'codex',
  'x-codex-credits-has-credits': 'False',
  'x-codex-credits-unlimited': '0',
  'x-codex-credits-balance': '12.5',
  'content-type': 'text/event-stream',
};

describe('parseRateLimitHeaders', () => {
  it('reads the codex family, credits, plan and active limit', () => {
    expect(parseRateLimitHeaders(plus, now)).toEqual({
      observedAt: now,
      source: 'headers',
      plan: 'plus',
      primary: { usedPercent: 42.5, windowMinutes: 300, resetsAt: 1767628800_000 },
      secondary: { usedPercent: 13, windowMinutes: 10080, resetsAt: 1768060800_000 },
      credits: { hasCredits: false, unlimited: false, balance: '12.5' },
      activeLimit: 'codex',
      limitReached: null,
      others: [],
    });
  });

  it('accepts a fetch Headers object (any case)', () => {
    const headers = new Headers({
      'X-Codex-Secondary-Used-Percent': '7',
      'X-Codex-Secondary-Reset-At': '100',
    });
    expect(parseRateLimitHeaders(headers, now)?.secondary).toEqual({
      usedPercent: 7,
      windowMinutes: null,
      resetsAt: 100_000,
    });
  });

  it('accepts Node header arrays and mixed-case plain records', () => {
    const snapshot = parseRateLimitHeaders({ 'X-Codex-Primary-Used-Percent': ['5', '6'] }, now);
    expect(snapshot?.primary?.usedPercent).toBe(5);
  });

  it('copes with a missing 5-hour window', () => {
    const {
      'x-codex-primary-used-percent': _a,
      'x-codex-primary-window-minutes': _b,
      'x-codex-primary-reset-at': _c,
      ...weeklyOnly
    } = plus;
    const snapshot = parseRateLimitHeaders(weeklyOnly, now);
    expect(snapshot?.primary).toBeNull();
    expect(snapshot?.secondary?.windowMinutes).toBe(10080);
  });

  it.each([
    ['used 0, nothing else', { 'x-codex-primary-used-percent': '0' }, false],
    [
      'used 0, minutes 0',
      { 'x-codex-primary-used-percent': '0', 'x-codex-primary-window-minutes': '0' },
      false,
    ],
    [
      'used 0, minutes 300',
      { 'x-codex-primary-used-percent': '0', 'x-codex-primary-window-minutes': '300' },
      true,
    ],
    [
      'used 0, reset present',
      { 'x-codex-primary-used-percent': '0', 'x-codex-primary-reset-at': '5' },
      true,
    ],
    ['used 3', { 'x-codex-primary-used-percent': '3' }, true],
    [
      'no used percent',
      { 'x-codex-primary-window-minutes': '300', 'x-codex-primary-reset-at': '5' },
      false,
    ],
    ['junk used percent', { 'x-codex-primary-used-percent': 'lots' }, false],
    ['empty used percent', { 'x-codex-primary-used-percent': '' }, false],
    ['NaN used percent', { 'x-codex-primary-used-percent': 'NaN' }, false],
  ])('a window counts only by Codex rule: %s', (_name, headers, counts) => {
    const snapshot = parseRateLimitHeaders(headers, now);
    expect(snapshot?.primary != null).toBe(counts);
  });

  it('ignores junk minutes and reset values but keeps the window', () => {
    const snapshot = parseRateLimitHeaders(
      {
        'x-codex-primary-used-percent': '10',
        'x-codex-primary-window-minutes': '300.5',
        'x-codex-primary-reset-at': 'tomorrow',
      },
      now,
    );
    expect(snapshot?.primary).toEqual({ usedPercent: 10, windowMinutes: null, resetsAt: null });
  });

  it('reads other limit families with - turned into _', () => {
    const snapshot = parseRateLimitHeaders(
      {
        ...plus,
        'x-codex-bengalfox-primary-used-percent': '80',
        'x-codex-bengalfox-primary-window-minutes': '300',
        'x-codex-bengalfox-limit-name': 'GPT-5.3-Codex-Spark',
        'x-codex-secondary-primary-used-percent': '1',
        'x-other-primary-used-percent': '0',
      },
      now,
    );
    expect(snapshot?.others).toEqual([
      {
        limitId: 'codex_bengalfox',
        limitName: 'GPT-5.3-Codex-Spark',
        primary: { usedPercent: 80, windowMinutes: 300, resetsAt: null },
        secondary: null,
      },
      {
        limitId: 'codex_secondary',
        limitName: null,
        primary: { usedPercent: 1, windowMinutes: null, resetsAt: null },
        secondary: null,
      },
    ]);
    // The codex family itself is never listed as another family.
    expect(snapshot?.primary?.usedPercent).toBe(42.5);
  });

  it.each([
    ['True', true],
    ['1', true],
    ['FALSE', false],
    ['0', false],
  ])('credits booleans: %s', (value, expected) => {
    const snapshot = parseRateLimitHeaders(
      { 'x-codex-credits-has-credits': value, 'x-codex-credits-unlimited': value },
      now,
    );
    expect(snapshot?.credits).toEqual({ hasCredits: expected, unlimited: expected, balance: null });
  });

  it('needs both credit booleans', () => {
    expect(parseRateLimitHeaders({ 'x-codex-credits-has-credits': 'true' }, now)).toBeNull();
    expect(
      parseRateLimitHeaders(
        { 'x-codex-credits-has-credits': 'yes', 'x-codex-credits-unlimited': 'no' },
        now,
      ),
    ).toBeNull();
  });

  it('returns null when a response carries no quota', () => {
    expect(
      parseRateLimitHeaders({ 'content-type': 'application/json', 'x-request-id': 'r' }, now),
    ).toBeNull();
    expect(parseRateLimitHeaders({}, now)).toBeNull();
  });
});
