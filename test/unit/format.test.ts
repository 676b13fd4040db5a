/** The shared words and the CLI's colour rules. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { colourEnabled, fitTable, paint } from '../../core/cli/format.ts';
import {
  activityKindLabel,
  formatAgo,
  formatBackAt,
  formatClockTime,
  formatDuration,
  formatLatency,
  formatLogStamp,
  formatMoment,
  humanizeTimes,
  formatResetCredits,
  formatStatus,
  formatWindowLeft,
  formatWindowLeftAt,
  hasNoAccounts,
  lastKnownText,
  notLiveText,
  quotaNotLive,
  resetClockText,
  resetMomentText,
  statusLabel,
  windowName,
  poolForecastSentence,
  withCliFix,
  withLabFix,
  cutText,
  requestLeftText,
  requestRouteText,
  requestRuleText,
  routeRuleText,
  sessionIdsMatching,
  sessionLabel,
} from '../../core/format.ts';

const now = Date.parse('2030-01-01T12:00:00Z');
const minute = 60_000;
const hour = 60 * minute;
const utc = { now, timeZone: 'UTC' };
const escape = String.fromCharCode(27);

describe('durations', () => {
  it('uses one spelling for every surface', () => {
    expect(formatDuration(24 * hour)).toBe('1d');
    expect(formatDuration(25 * hour)).toBe('1d 1h');
    expect(formatDuration(3 * hour + 5 * minute)).toBe('3h 5m');
    expect(formatDuration(12 * minute + 30_000)).toBe('12m');
    expect(formatAgo(30_000)).toBe('just now');
    expect(formatAgo(5 * minute)).toBe('5m ago');
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(-5)).toBe('0s');
    expect(formatDuration(90 * minute)).toBe('1h 30m');
    expect(formatDuration(2 * 24 * hour + 3 * hour)).toBe('2d 3h');
  });

  it('rounds every unit down, so a countdown never shows more time than is left', () => {
    const week = 7 * 24 * hour;
    // A weekly window that has not started resets 7 days after each read: a few milliseconds
    // later it must read the same on every refresh, whatever the sub-second timing.
    for (const late of [1, 400, 600, 999]) {
      expect(formatDuration(week - late)).toBe('6d 23h');
      expect(
        formatWindowLeft(
          {
            usedPercent: 0,
            windowMinutes: 10080,
            resetsAt: new Date(now + week - late).toISOString(),
          },
          now,
        ),
      ).toBe('100% left, resets in 6d 23h');
    }
    expect(formatDuration(week)).toBe('7d');
    expect(formatDuration(4 * 24 * hour - 30_000)).toBe('3d 23h');
    expect(formatDuration(59_999)).toBe('59s');
    expect(formatDuration(hour - 1)).toBe('59m');
  });
});

describe('clock times and moments', () => {
  it('adds the weekday 20 hours away or more', () => {
    expect(formatClockTime(now + 2 * hour, utc)).toBe('14:00');
    expect(formatClockTime(now + 2 * 24 * hour, utc)).toBe('Thu 12:00');
    expect(formatMoment(now + 2 * hour + 3 * minute, utc)).toBe('14:03 (in 2h 3m)');
    expect(formatMoment(now - 5 * minute, utc)).toBe('11:55 (5m ago)');
    expect(formatBackAt(new Date(now + hour).toISOString(), utc)).toBe('in 1h, at 13:00');
    expect(formatBackAt(new Date(now - 1).toISOString(), utc)).toBeNull();
  });

  it('dates a log entry that is not from today, and the year when not this one', () => {
    expect(formatLogStamp(now - 3 * hour, utc)).toBe('09:00:00');
    expect(formatLogStamp(now - 13 * hour, utc)).toBe('31 Dec 2029 23:00:00');
    expect(formatLogStamp(now + 3 * 24 * hour + 5_000, utc)).toBe('4 Jan 12:00:05');
    // Today is the local day: 16:00 UTC on 31 Dec is already 1 Jan in Tokyo.
    expect(formatLogStamp(now - 20 * hour, { now, timeZone: 'Asia/Tokyo' })).toBe('01:00:00');
    expect(formatLogStamp(now - 20 * hour, utc)).toBe('31 Dec 2029 16:00:00');
  });

  it('words the ISO times in a sentence as moments, and leaves other text alone', () => {
    const iso = new Date(now + 2 * hour + 10 * minute).toISOString();
    expect(humanizeTimes(`The earliest resets at ${iso}.`, utc)).toBe(
      'The earliest resets at 14:10 (in 2h 10m).',
    );
    expect(humanizeTimes('no time here: 2030-01-01', utc)).toBe('no time here: 2030-01-01');
  });

  it('words request timings in one spelling', () => {
    expect(formatLatency(850)).toBe('850ms');
    expect(formatLatency(1_250)).toBe('1.2s');
    expect(formatLatency(59_990)).toBe('59.9s');
    expect(formatLatency(5 * minute + 12_000)).toBe('5m');
  });

  it('words reset credits with the soonest expiry, or the count alone', () => {
    const nextExpiresAt = new Date(now + 4 * 24 * hour).toISOString();
    expect(formatResetCredits({ available: 2, nextExpiresAt }, utc)).toBe(
      '2 available · next expires Sat 12:00',
    );
    expect(formatResetCredits({ available: 1, nextExpiresAt: null }, utc)).toBe('1 available');
  });
});

describe('windows and statuses', () => {
  it('names windows and says what a status means', () => {
    expect(windowName(300)).toBe('5-hour');
    expect(windowName(10080)).toBe('weekly');
    expect(windowName(10080, 'short')).toBe('wk');
    expect(
      formatWindowLeft(
        { usedPercent: 41.6, windowMinutes: 300, resetsAt: new Date(now + 3 * hour).toISOString() },
        now,
      ),
    ).toBe('58% left, resets in 3h');
    expect(statusLabel('auth_error')).toBe('needs sign-in');
    expect(statusLabel('ok')).toBe('ready');
    expect(activityKindLabel('auth_error')).toBe('needs sign-in');
    expect(formatStatus('limited', new Date(now + hour).toISOString(), utc)).toBe(
      'limited, back in 1h, at 13:00',
    );
  });
});

describe('a window with its reset as a clock time (a surface that does not tick)', () => {
  it('says the same "left, resets" as the countdown, with the time instead', () => {
    const window = { usedPercent: 41.6, windowMinutes: 300, resetsAt: '2030-01-01T14:05:00Z' };
    expect(formatWindowLeft(window, now)).toBe('58% left, resets in 2h 5m');
    expect(formatWindowLeftAt(window, utc)).toBe('58% left, resets 14:05');
    const week = { ...window, resetsAt: '2030-01-04T09:00:00Z' };
    expect(formatWindowLeftAt(week, utc)).toBe('58% left, resets Fri 09:00');
    // Past its reset the window counts as unused, as routing counts it.
    expect(formatWindowLeftAt({ ...window, resetsAt: '2030-01-01T11:00:00Z' }, utc)).toBe(
      formatWindowLeft({ ...window, resetsAt: '2030-01-01T11:00:00Z' }, now),
    );
    expect(formatWindowLeftAt({ ...window, resetsAt: null }, utc)).toBe(
      formatWindowLeft({ ...window, resetsAt: null }, now),
    );
    expect(formatWindowLeftAt({ ...window, usedPercent: 100 }, utc)).toBe('used up, resets 14:05');
    expect(formatWindowLeftAt(null, utc)).toBe(formatWindowLeft(null, now));
  });

  it('words the reset alone for a quota bar’s title, none when unknown or past', () => {
    expect(resetClockText('2030-01-01T14:05:00Z', utc)).toBe('resets 14:05');
    expect(resetClockText('2030-01-04T09:00:00Z', utc)).toBe('resets Fri 09:00');
    expect(resetClockText('2030-01-01T11:00:00Z', utc)).toBeNull();
    expect(resetClockText(null, utc)).toBeNull();
  });

  it('words the reset as its clock time and countdown for a quota bar, else as `resetText`', () => {
    expect(resetMomentText('2030-01-01T14:59:00Z', utc)).toBe('resets 14:59 (in 2h 59m)');
    expect(resetMomentText('2030-01-04T09:00:00Z', utc)).toBe('resets Fri 09:00 (in 2d 21h)');
    expect(resetMomentText('2030-01-01T11:00:00Z', utc)).toBe('reset since last read');
    expect(resetMomentText(null, utc)).toBe('reset time unknown');
  });
});

describe('quotaNotLive: the one rule of figures that are not live', () => {
  const quota = { updatedAt: '2030-01-01T10:00:00Z' };
  it('holds for an account that cannot be read, with its reason and the age of its reading', () => {
    const signIn = quotaNotLive({ status: 'auth_error', quota })!;
    expect(notLiveText(signIn, utc)).toBe('needs sign-in — last known, as of 2h ago');
    expect(lastKnownText(signIn, utc, 'clock')).toBe('last known, as of 10:00');
    const keychain = quotaNotLive({
      status: 'auth_error',
      statusCode: 'keyring_unavailable',
      quota,
    });
    expect(keychain?.reason).toBe('keychain unavailable');
    const file = quotaNotLive({ status: 'auth_error', statusCode: 'io_error', quota });
    expect(file?.reason).toBe('auth file unreadable');
    expect(lastKnownText({ reason: 'x', readAt: null }, utc)).toBe('last known, when unknown');
  });

  it('does not hold while the account is read: ready, limited, not checked yet', () => {
    for (const status of ['ok', 'limited', 'unknown'] as const) {
      expect(quotaNotLive({ status, quota })).toBeNull();
    }
  });
});

describe('hasNoAccounts: the one rule for "No accounts yet"', () => {
  it('holds only with no profile listed and every file read', () => {
    const problem = { code: 'corrupt_file', message: 'auth-profiles.json is not valid JSON.' };
    expect(hasNoAccounts({ profiles: [], problems: [] })).toBe(true);
    // An unreadable registry lists no profile, yet the user may have many.
    expect(hasNoAccounts({ profiles: [], problems: [problem] })).toBe(false);
    expect(hasNoAccounts({ profiles: [{}], problems: [] })).toBe(false);
  });
});

describe('colour', () => {
  const tty = Object.assign(new Writable({ write: (_c, _e, done) => done() }), { isTTY: true });
  const pipe = new Writable({ write: (_c, _e, done) => done() });

  it('only on a terminal, and never with NO_COLOR or TERM=dumb', () => {
    expect(colourEnabled(tty, {})).toBe(true);
    expect(colourEnabled(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colourEnabled(tty, { TERM: 'dumb' })).toBe(false);
    expect(colourEnabled(pipe, {})).toBe(false);
    expect(paint('ready', 'good', false)).toBe('ready');
    expect(paint('ready', 'good', true)).toBe('\u001b[32mready\u001b[0m');
  });

  it('colours the text of a cell, so columns stay aligned', () => {
    const table = fitTable(
      [{ header: 'A' }, { header: 'STATUS' }, { header: 'B' }],
      [
        ['x', 'ready', '1'],
        ['y', 'needs sign-in', '2'],
      ],
      Infinity,
      (cell, _row, column) => (column === 1 ? paint(cell, 'good', true) : cell),
    ).lines.join('\n');
    const plain = table.replaceAll(`${escape}[32m`, '').replaceAll(`${escape}[0m`, '');
    expect(plain.split('\n')).toEqual([
      'A  STATUS         B',
      'x  ready          1',
      'y  needs sign-in  2',
    ]);
  });
});

describe('poolForecastSentence', () => {
  it('words every outlook once, with the surface choosing how a moment reads', () => {
    const when = (iso: string) => `<${iso}>`;
    expect(poolForecastSentence({ outlook: 'runs_out', runsOutAt: 'T1' }, when)).toBe(
      "at this week's pace the pool runs out <T1>",
    );
    expect(poolForecastSentence({ outlook: 'lasts', nextResetAt: 'T2' }, when)).toBe(
      "at this week's pace the pool lasts past the next reset (<T2>)",
    );
    expect(poolForecastSentence({ outlook: 'lasts', nextResetAt: null }, when)).toBe(
      "at this week's pace the pool lasts past the resets",
    );
    expect(poolForecastSentence({ outlook: 'exhausted', nextResetAt: 'T3' }, when)).toBe(
      "the pool's weekly quota is used up until <T3>",
    );
    expect(poolForecastSentence({ outlook: 'unknown' }, when)).toBe('weekly pace not known yet');
  });
});

describe('a failed sign-in and its fix, said by each surface', () => {
  const failed = 'Sign-in failed at the issuer (server_error).';
  it('the command line names the command that starts the same sign-in again', () => {
    expect(withCliFix(failed, { action: 'retry_sign_in', name: null, method: 'browser' })).toBe(
      'Sign-in failed at the issuer (server_error). Run codex-lab login again.',
    );
    expect(withCliFix(failed, { action: 'retry_sign_in', name: 'work', method: 'device' })).toBe(
      'Sign-in failed at the issuer (server_error). Run codex-lab login work --device again.',
    );
  });
  it("Codex Lab's window sends the user back to it, and words no other fix", () => {
    expect(withLabFix(failed, { action: 'retry_sign_in', name: 'work', method: 'browser' })).toBe(
      'Sign-in failed at the issuer (server_error). Go back to Codex Lab to try again.',
    );
    expect(withLabFix(failed, { action: 'sign_in', profiles: ['work'] })).toBe(failed);
    expect(withLabFix(failed, undefined)).toBe(failed);
  });
});

describe('a logged request’s route, the same on every surface that lists requests', () => {
  const moved = {
    route: 'fallback',
    why: { rule: 'best' as const, pin: null, left: [{ profile: 'work', code: 'limited' }] },
    // The upstream's 429 on work, which the router read as "was limited".
    fallback: [
      { profile: 'work', reason: 'usage_limit_reached' },
      { profile: 'spare', reason: 'server_error' },
    ],
  };

  it('names each profile the request left once, in the route’s words where the router said why', () => {
    expect(requestRouteText(moved)).toBe(
      'fallback after work was limited, spare (server_error): best by quota',
    );
    expect(requestLeftText(moved)).toBe('work was limited, spare (server_error)');
    expect(requestRuleText(moved, 'short')).toBe('best by quota');
  });

  it('says the rule in short words that start as the long ones do', () => {
    const rule = (why: Parameters<typeof routeRuleText>[0]) => [
      routeRuleText(why),
      routeRuleText(why, 'short'),
    ];
    expect(rule({ rule: 'session', pin: null, left: [] })).toEqual([
      'kept on its account for the prompt cache',
      'kept on account',
    ]);
    expect(rule({ rule: 'pin', pin: 'repo', left: [] })).toEqual([
      'pinned (repository pin)',
      'repository pin',
    ]);
    // An older record has no rule: its route, in either form.
    expect(requestRuleText({ route: 'sticky', why: null }, 'short')).toBe('sticky');
  });

  it('cuts text to a width with "…"', () => {
    expect(cutText('research-team-shared', 10)).toBe('research-…');
    expect(cutText('work', 10)).toBe('work');
  });
});

describe('an older request’s route, recorded before the router kept its rule', () => {
  it('keeps the accounts it tried and the upstream’s reasons', () => {
    const tried = [{ profile: 'work', reason: 'usage_limit_reached' }];
    expect(requestRouteText({ route: 'fallback', why: null, fallback: tried })).toBe(
      'fallback after work (usage_limit_reached)',
    );
    expect(requestRouteText({ route: null, why: null, fallback: tried })).toBe(
      'refused after work (usage_limit_reached)',
    );
    expect(requestRouteText({ route: null, why: null, fallback: [] })).toBeNull();
  });
});

describe('fitTable on a narrow terminal', () => {
  const rows = [
    ['acct-10', 'ready', '90% · 2h 59m'],
    ['acct-11', 'limited, back in 3d 23h', '0% · 2h 59m'],
    ['research-team-shared-1', 'ready', '50% · 2h 59m'],
    ['research-team-shared-2', 'ready', '40% · 2h 59m'],
  ];
  const columns = [
    { header: 'PROFILE', min: 16, distinct: true },
    { header: 'STATUS', min: 12 },
    { header: '5-HOUR LEFT' },
  ];

  it('never cuts the names that tell rows apart into the same text', () => {
    for (const width of [80, 50, 40, 30, 22]) {
      const names = fitTable(columns, rows, width)
        .lines.slice(1)
        .map((line) => line.split(/\s{2,}/)[0]);
      expect(new Set(names).size, `${width}: ${names.join(' | ')}`).toBe(rows.length);
    }
  });

  it('cuts a column that need not tell rows apart to six characters rather than spill', () => {
    const table = fitTable(columns, rows, 44);
    for (const line of table.lines) expect(line.length, line).toBeLessThanOrEqual(44);
    expect(table.lines[2]).toContain('limit…');
  });
});

describe('sessionIdsMatching', () => {
  const one = '019a5c3e-1111-7000-8000-aaaa87f48ca9';
  const twinA = '019a5c3e-2222-7000-8000-bbbb12345678';
  const twinB = '019a5c3e-3333-7000-8000-cccc12345678';
  const known = [one, twinA, twinB, one];

  it('finds an id as sessionLabel shows it, by its end or start, or whole', () => {
    expect(sessionIdsMatching(sessionLabel(one), known)).toEqual([one]);
    expect(sessionIdsMatching('87f48ca9', known)).toEqual([one]);
    expect(sessionIdsMatching('019a5c3e-1111', known)).toEqual([one]);
    expect(sessionIdsMatching(one, known)).toEqual([one]);
  });

  it('finds every id the text could be, and none for text in no id or no text', () => {
    expect(sessionIdsMatching('12345678', known)).toEqual([twinA, twinB]);
    expect(sessionIdsMatching('nope', known)).toEqual([]);
    expect(sessionIdsMatching('…', known)).toEqual([]);
    expect(sessionIdsMatching('', known)).toEqual([]);
  });

  it('prefers an id equal to the text over longer ones that end with it', () => {
    expect(sessionIdsMatching('abc', ['abc', 'xabc'])).toEqual(['abc']);
  });
});
