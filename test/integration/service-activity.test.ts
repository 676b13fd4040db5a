/**
 * Activity messages are one sentence each, with their moments kept as ISO times: each surface
 * words them where it shows them, in its own time zone and as of its own clock.
 */
import { expect, it } from 'vitest';
import { formatMoment, humanizeTimes } from '../../core/format.ts';
import type { Clock } from '../../core/ports.ts';
import { ActivityLog, primingActivityMessage } from '../../core/service/events.ts';

const now = new Date(2026, 4, 12, 12, 2, 0).getTime();
const clock: Clock = { now: () => now, setTimeout: () => () => undefined };

it('keeps moments as ISO times for the reader to word, and ends each message once', () => {
  const log = new ActivityLog(clock);
  const until = new Date(2026, 4, 12, 14, 5, 0);
  const entry = log.add(
    'limited',
    'alpha',
    `alpha reached its usage limit; skipped until ${until.toISOString()}.`,
  );
  // Not worded when written: "(in 2h 3m)" would be frozen, and in the server's time zone.
  expect(entry.message).toBe(
    `alpha reached its usage limit; skipped until ${until.toISOString()}.`,
  );
  expect(humanizeTimes(entry.message, { now })).toBe(
    'alpha reached its usage limit; skipped until 14:05 (in 2h 3m).',
  );
  // An hour later the same line counts down, and another time zone reads its own clock.
  expect(humanizeTimes(entry.message, { now: now + 3_600_000 })).toBe(
    'alpha reached its usage limit; skipped until 14:05 (in 1h 3m).',
  );
  expect(
    humanizeTimes(entry.message, { now, timeZone: 'America/New_York' }).replace(/\d\d:05/, 'HH:05'),
  ).toBe('alpha reached its usage limit; skipped until HH:05 (in 2h 3m).');
  expect(log.add('prime', 'alpha', 'sent a turn').message).toBe('sent a turn.');
  const later = new Date(2026, 4, 15, 9, 30, 0).getTime();
  expect(formatMoment(later, { now })).toBe('Fri 09:30 (in 2d 21h)');
  expect(formatMoment(now - 5 * 60_000, { now })).toBe('11:57 (5m ago)');
});

it('describes a priming event with its window and outcome', () => {
  const log = new ActivityLog(clock);
  const message = primingActivityMessage({
    window: 'weekly',
    outcome: 'confirmed',
    message: `the weekly window started; it resets at ${new Date(now + 7 * 86_400_000).toISOString()}`,
  });
  const entry = log.add('prime', 'alpha', message);
  expect(humanizeTimes(entry.message, { now })).toMatch(
    /^Priming \(weekly window, confirmed\): the weekly window started; it resets at Tue 12:02 \(in 7d\)\.$/,
  );
});
