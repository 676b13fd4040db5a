/** When a countdown next reads differently: the moment a surface that does not tick redraws. */
import { describe, expect, it } from 'vitest';
import { countdownChangesAt, formatAgo, formatIn } from '../../../core/format.ts';

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;
const day = 24 * hour;

/** What a countdown to `at` reads at `now`, as `formatMoment` words its distance. */
const relative = (at: number, now: number) =>
  at >= now ? formatIn(at - now) : formatAgo(now - at);

describe('countdownChangesAt', () => {
  const now = Date.parse('2030-01-01T12:00:00Z');
  const distances = [
    0,
    1,
    500,
    999,
    1000,
    1001,
    40_000,
    40_123,
    59_999,
    60_000,
    60_001,
    61_500,
    5 * minute + 7,
    hour - 1,
    hour,
    hour + 30 * second,
    3 * hour + 5 * minute + 17_250,
    day - 1,
    day,
    day + 1,
    2 * day + 4 * hour + 59 * minute,
    8 * day,
  ];

  it.each([...new Set(distances.flatMap((distance) => [distance, -distance]))])(
    'is the first moment the words change, %i ms away',
    (distance) => {
      const at = now + distance;
      const changes = countdownChangesAt(at, now);
      expect(changes).toBeGreaterThan(now);
      // The same words up to it (each unit is rounded down, so nothing in between differs)…
      expect(relative(at, changes - 1)).toBe(relative(at, now));
      // …and other words from it on.
      expect(relative(at, changes)).not.toBe(relative(at, now));
    },
  );

  it('waits a whole second under a minute and a whole minute above it', () => {
    expect(countdownChangesAt(now + 40_000, now) - now).toBe(1);
    expect(countdownChangesAt(now + 40_500, now) - now).toBe(501);
    expect(countdownChangesAt(now + 5 * minute + 30 * second, now) - now).toBe(30 * second + 1);
  });
});
