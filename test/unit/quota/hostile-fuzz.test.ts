/**
 * Fuzz of the boundary (issue 9, item 7): seeded random hostile values in rate-limit headers, 429
 * bodies, usage answers and state files. Nothing may throw, every time that comes out must be
 * printable (`toISOString`) and within the bounds, and a state file either parses into bounded
 * values or is refused as a whole (reported by name by its reader).
 */
import { describe, expect, it } from 'vitest';
import { maxResetDistanceMs } from '../../../core/quota/bounds.ts';
import { parseRateLimitHeaders } from '../../../core/quota/headers.ts';
import { parseUsageLimitBody } from '../../../core/quota/usage-limit.ts';
import { processUsageResponse } from '../../../core/quota/usage.ts';
import {
  healthFileSchema,
  quotaFileSchema,
  type QuotaSnapshot,
} from '../../../core/state/schema.ts';

const now = Date.UTC(2026, 10, 30, 12);
const cases = 2_000;

/** A small deterministic generator, so a failing case can be replayed from its number. */
function generator(seed: number) {
  let state = seed >>> 0 || 1;
  const next = () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  return { next, pick };
}

const hostileNumbers = [
  1e308,
  -1e308,
  1e15,
  1e14,
  1e13,
  -1,
  0,
  -0,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
  2 ** 53 + 1,
  0.5,
  100,
  101,
  1e-300,
  now / 1000,
  now / 1000 + 3600,
];
const hostileText = [
  'NaN',
  'Infinity',
  '-Infinity',
  '1e999',
  '',
  ' ',
  '0x10',
  '١٢٣',
  '9'.repeat(400),
  'null',
  '{}',
];

function hostileValue(random: ReturnType<typeof generator>): unknown {
  const kind = random.next();
  if (kind < 0.6) return random.pick(hostileNumbers);
  if (kind < 0.85) return random.pick(hostileText);
  return random.pick([null, true, [], {}, { nested: 1e308 }]);
}

function checkTime(value: number | null | undefined, where: string): void {
  if (value === null || value === undefined) return;
  expect(Number.isFinite(value), where).toBe(true);
  expect(value, where).toBeGreaterThanOrEqual(0);
  expect(value - now, where).toBeLessThanOrEqual(maxResetDistanceMs);
  expect(() => new Date(value).toISOString(), where).not.toThrow();
}

function checkSnapshot(snapshot: QuotaSnapshot | null, where: string): void {
  if (!snapshot) return;
  for (const window of [
    snapshot.primary,
    snapshot.secondary,
    ...snapshot.others.flatMap((other) => [other.primary, other.secondary]),
  ]) {
    if (!window) continue;
    checkTime(window.resetsAt, `${where} resetsAt`);
    expect(window.usedPercent, where).toBeGreaterThanOrEqual(0);
    expect(window.usedPercent, where).toBeLessThanOrEqual(100);
  }
}

describe(`${cases} hostile cases per boundary`, () => {
  it('rate-limit headers', () => {
    const random = generator(1);
    for (let index = 0; index < cases; index += 1) {
      const headers: Record<string, string> = {};
      for (const prefix of ['x-codex', 'x-codex-bengalfox']) {
        for (const slot of ['primary', 'secondary']) {
          for (const field of ['used-percent', 'window-minutes', 'reset-at']) {
            if (random.next() < 0.7)
              headers[`${prefix}-${slot}-${field}`] = String(hostileValue(random));
          }
        }
      }
      const where = `headers case ${index}: ${JSON.stringify(headers).slice(0, 200)}`;
      let snapshot: QuotaSnapshot | null = null;
      expect(() => (snapshot = parseRateLimitHeaders(headers, now)), where).not.toThrow();
      checkSnapshot(snapshot, where);
    }
  });

  it('429 bodies', () => {
    const random = generator(2);
    for (let index = 0; index < cases; index += 1) {
      const body = {
        error: {
          type: 'usage_limit_reached',
          resets_at: hostileValue(random),
          resets_in_seconds: hostileValue(random),
        },
      };
      const where = `429 case ${index}: ${JSON.stringify(body).slice(0, 200)}`;
      const info = parseUsageLimitBody(JSON.stringify(body), now);
      checkTime(info.resetsAt, where);
    }
  });

  it('usage answers', () => {
    const random = generator(3);
    for (let index = 0; index < cases; index += 1) {
      const window = () => ({
        used_percent: hostileValue(random),
        limit_window_seconds: hostileValue(random),
        reset_at: hostileValue(random),
        reset_after_seconds: hostileValue(random),
      });
      const body = {
        plan_type: 'plus',
        rate_limit: { primary_window: window(), secondary_window: window() },
      };
      const where = `usage case ${index}: ${JSON.stringify(body).slice(0, 200)}`;
      try {
        checkSnapshot(processUsageResponse(body, now), where);
      } catch (error) {
        // A body of the wrong shape is one clean `upstream_error`, never anything else.
        expect((error as { code?: string }).code, where).toBe('upstream_error');
      }
    }
  });

  it('state files', () => {
    const random = generator(4);
    for (let index = 0; index < cases; index += 1) {
      const time = () => hostileValue(random);
      const quota = {
        version: 1,
        profiles: {
          p: {
            latest: {
              observedAt: time(),
              source: 'usage',
              plan: null,
              primary: { usedPercent: time(), windowMinutes: time(), resetsAt: time() },
              secondary: null,
              credits: null,
              activeLimit: null,
              limitReached: null,
            },
            history: [{ at: time(), primary: time(), secondary: null }],
          },
        },
      };
      const health = {
        version: 1,
        profiles: {
          p: {
            status: 'limited',
            unavailableUntil: time(),
            code: null,
            message: null,
            updatedAt: time(),
          },
        },
      };
      const parsedQuota = quotaFileSchema.safeParse(JSON.parse(JSON.stringify(quota)));
      if (parsedQuota.success) {
        const latest = parsedQuota.data.profiles['p']!.latest!;
        for (const value of [latest.observedAt, latest.primary?.resetsAt]) {
          if (value !== null && value !== undefined) {
            expect(() => new Date(value).toISOString()).not.toThrow();
          }
        }
      }
      const parsedHealth = healthFileSchema.safeParse(JSON.parse(JSON.stringify(health)));
      if (parsedHealth.success) {
        const until = parsedHealth.data.profiles['p']!.unavailableUntil;
        if (until !== null) expect(() => new Date(until).toISOString()).not.toThrow();
      }
    }
  });
});
