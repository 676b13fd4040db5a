import { describe, expect, it } from 'vitest';
import {
  barTone,
  explainLoginError,
  formatAgo,
  formatDuration,
  formatLimitedUntil,
  windowTitle,
} from '../../../renderer/format.ts';
import { radioKeyTarget } from '../../../renderer/keyboard.ts';
import { readTokenFromHash } from '../../../renderer/bridge/web-bridge.ts';

const now = Date.parse('2030-01-01T12:00:00Z');
const minute = 60_000;
const hour = 60 * minute;

describe('formatDuration', () => {
  it('shows the two largest units', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(45_000)).toBe('45s');
    expect(formatDuration(59 * minute + 59_000)).toBe('59m');
    expect(formatDuration(3 * hour + 12 * minute + 30_000)).toBe('3h 12m');
    expect(formatDuration(3 * hour)).toBe('3h');
    expect(formatDuration(2 * 24 * hour + 4 * hour + 5 * minute)).toBe('2d 4h');
    // One spelling for a day: never `1d00h`, `1d 0h` or `25h 0m`.
    expect(formatDuration(24 * hour)).toBe('1d');
    expect(formatDuration(25 * hour)).toBe('1d 1h');
    expect(formatDuration(-5_000)).toBe('0s');
  });
});

describe('barTone', () => {
  it('warns when little is left: amber at 30 %, red at 10 % and for a used-up window', () => {
    expect(barTone(100)).toBe('ok');
    expect(barTone(31)).toBe('ok');
    expect(barTone(30)).toBe('warn');
    expect(barTone(11)).toBe('warn');
    expect(barTone(10)).toBe('critical');
    expect(barTone(0)).toBe('critical');
  });
});

describe('formatAgo', () => {
  it('says just now, minutes or hours ago, never, or unknown', () => {
    expect(formatAgo(new Date(now - 3_000).toISOString(), now)).toBe('just now');
    expect(formatAgo(new Date(now - 5 * minute).toISOString(), now)).toBe('5m ago');
    expect(formatAgo(new Date(now - 3 * hour - 5 * minute).toISOString(), now)).toBe('3h 5m ago');
    expect(formatAgo(null, now)).toBe('never');
    expect(formatAgo('nope', now)).toBe('unknown');
  });
});

describe('formatLimitedUntil', () => {
  it('says how long a limit lasts and when it ends', () => {
    expect(formatLimitedUntil(new Date(now + hour - 1_000).toISOString(), now, 'UTC')).toBe(
      'back in 59m, at 12:59',
    );
    expect(formatLimitedUntil('2030-01-03T09:00:00Z', now, 'UTC')).toBe(
      'back in 1d 21h, at Thu 09:00',
    );
  });

  it('is null when the end is unknown or past', () => {
    expect(formatLimitedUntil(null, now)).toBeNull();
    expect(formatLimitedUntil('soon', now)).toBeNull();
    expect(formatLimitedUntil(new Date(now - minute).toISOString(), now)).toBeNull();
  });
});

describe('windowTitle', () => {
  it('names windows by length', () => {
    const window = (windowMinutes: number | null) => ({
      usedPercent: 1,
      windowMinutes,
      resetsAt: null,
    });
    expect(windowTitle(window(300), 'x')).toBe('5-hour');
    expect(windowTitle(window(10080), 'x')).toBe('Weekly');
    expect(windowTitle(window(1440), 'x')).toBe('1-day');
    expect(windowTitle(window(null), 'Weekly')).toBe('Weekly');
    expect(windowTitle(null, '5-hour')).toBe('5-hour');
  });
});

describe('explainLoginError', () => {
  it('explains denied, timed out and port busy in plain words', () => {
    expect(explainLoginError('auth_denied', 'x')).toMatch(/declined/);
    expect(explainLoginError('auth_timeout', 'x')).toMatch(/timed out/);
    expect(explainLoginError('port_in_use', 'x')).toMatch(/port/);
    expect(explainLoginError('something_else', 'The server said no.')).toBe('The server said no.');
  });
  it('words every sign-in failure the core sends with the dialog’s fix, never a command, one full stop', () => {
    expect(
      explainLoginError(
        'token_exchange_failed',
        'Sign-in failed: token endpoint returned status 400: Invalid or already used authorization code.',
      ),
    ).toBe(
      'Sign-in failed: token endpoint returned status 400: Invalid or already used authorization code. Nothing was saved: try again.',
    );
    // The network's sentence already says to try again: the dialog says it once.
    expect(
      explainLoginError(
        'token_exchange_failed',
        'Could not reach auth.openai.com (no answer within 30 s). Check the network and try again.',
      ),
    ).toBe(
      'Could not reach auth.openai.com (no answer within 30 s). Nothing was saved: check the network and try again.',
    );
    for (const code of ['auth_missing_code', 'device_code_unsupported']) {
      expect(explainLoginError(code, 'raw core sentence')).not.toBe('raw core sentence');
    }
  });
});

describe('radioKeyTarget', () => {
  it('moves with arrows (wrapping), jumps with Home/End, ignores other keys', () => {
    expect(radioKeyTarget('ArrowRight', 0, 3)).toBe(1);
    expect(radioKeyTarget('ArrowDown', 2, 3)).toBe(0);
    expect(radioKeyTarget('ArrowLeft', 0, 3)).toBe(2);
    expect(radioKeyTarget('ArrowUp', 1, 3)).toBe(0);
    expect(radioKeyTarget('Home', 2, 3)).toBe(0);
    expect(radioKeyTarget('End', 0, 3)).toBe(2);
    expect(radioKeyTarget('Enter', 1, 3)).toBeNull();
    expect(radioKeyTarget('ArrowRight', 0, 0)).toBeNull();
  });
});

describe('readTokenFromHash', () => {
  it('reads the token from the fragment only', () => {
    expect(readTokenFromHash('#token=abc')).toBe('abc');
    expect(readTokenFromHash('token=abc&x=1')).toBe('abc');
    expect(readTokenFromHash('#token=')).toBeNull();
    expect(readTokenFromHash('')).toBeNull();
  });
});
