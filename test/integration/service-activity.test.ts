/** Activity messages are for people: local clock times with a countdown, one sentence each. */
import { expect, it } from 'vitest';
import type { Clock } from '../../core/ports.ts';
import { ActivityLog, formatMoment, primingActivityMessage } from '../../core/service/events.ts';

const now = new Date(2026, 4, 12, 12, 2, 0).getTime();
const clock: Clock = { now: () => now, setTimeout: () => () => undefined };

it('turns ISO times into local clock times with a countdown and ends each message once', () => {
  const log = new ActivityLog(clock);
  const until = new Date(2026, 4, 12, 14, 5, 0);
  const entry = log.add(
    'limited',
    'alpha',
    `alpha reached its usage limit; skipped until ${until.toISOString()}.`,
  );
  expect(entry.message).toBe('alpha reached its usage limit; skipped until 14:05 (in 2h 3m).');
  expect(log.add('prime', 'alpha', 'sent a turn').message).toBe('sent a turn.');
  const later = new Date(2026, 4, 15, 9, 30, 0).getTime();
  expect(formatMoment(later, now)).toBe('Fri 09:30 (in 2d 21h)');
  expect(formatMoment(now - 5 * 60_000, now)).toBe('11:57 (5m ago)');
});

it('describes a priming event with its window and outcome', () => {
  const log = new ActivityLog(clock);
  const message = primingActivityMessage({
    window: 'weekly',
    outcome: 'confirmed',
    message: `the weekly window started; it resets at ${new Date(now + 7 * 86_400_000).toISOString()}`,
  });
  const entry = log.add('prime', 'alpha', message);
  expect(entry.message).toMatch(
    /^Priming \(weekly window, confirmed\): the weekly window started; it resets at Tue 12:02 \(in 7d\)\.$/,
  );
});
