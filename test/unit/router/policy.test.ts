import { describe, expect, it } from 'vitest';
import { formatWindowLeft, humanizeTimes } from '../../../core/format.ts';
import {
  chooseProfile,
  circuitTrial,
  ineligibility,
  tightestUsedPercent,
  weeklyResetAt,
  type RoutingCandidate,
  type RoutingInput,
} from '../../../core/router/policy.ts';
import type { RouteContext } from '../../../core/router/route-context.ts';
import type { QuotaSnapshot, QuotaWindow } from '../../../core/state/schema.ts';

const now = Date.UTC(2026, 0, 5, 12, 0, 0);
const hour = 3_600_000;
const day = 24 * hour;

const context: RouteContext = {
  sessionId: 's1',
  sessionSource: 'header',
  repo: '/repo',
  model: 'gpt-5.1-codex',
  headerProfile: null,
  turnState: null,
};

function window(usedPercent: number, resetsIn: number | null, windowMinutes = 10080): QuotaWindow {
  return { usedPercent, windowMinutes, resetsAt: resetsIn === null ? null : now + resetsIn };
}

/** A snapshot with a 5-hour primary (or none) and a weekly secondary. */
function quota(weekly: QuotaWindow | null, fiveHour: QuotaWindow | null = null): QuotaSnapshot {
  return {
    observedAt: now,
    source: 'headers',
    plan: 'plus',
    primary: fiveHour,
    secondary: weekly,
    credits: null,
    activeLimit: null,
    limitReached: null,
    others: [],
  };
}

function candidate(name: string, patch: Partial<RoutingCandidate> = {}): RoutingCandidate {
  return {
    name,
    status: 'ok',
    unavailableUntil: null,
    circuitOpenUntil: null,
    quota: null,
    ...patch,
  };
}

function input(patch: Partial<RoutingInput>): RoutingInput {
  return {
    candidates: [candidate('a'), candidate('b'), candidate('c')],
    context,
    sessionProfile: null,
    pin: null,
    active: 'auto',
    bucketProfile: null,
    exclude: new Set(),
    now,
    ...patch,
  };
}

const limited = (until = now + 2 * hour): Partial<RoutingCandidate> => ({
  status: 'limited',
  unavailableUntil: until,
});

describe('chooseProfile: the order', () => {
  it.each([
    ['user order when nothing is known', {}, 'a', 'best'],
    ['active profile', { active: 'b' }, 'b', 'active'],
    ['session beats active', { active: 'b', sessionProfile: 'c' }, 'c', 'sticky'],
    ['bucket when no active', { bucketProfile: 'c' }, 'c', 'best'],
    ['active beats bucket', { active: 'b', bucketProfile: 'c' }, 'b', 'active'],
    [
      'header pin beats session and active',
      {
        pin: { profile: 'c', allowFallback: false, source: 'header' },
        sessionProfile: 'a',
        active: 'b',
      },
      'c',
      'pinned',
    ],
    ['unknown session profile is ignored', { sessionProfile: 'gone' }, 'a', 'best'],
    ['unknown active profile is ignored', { active: 'gone' }, 'a', 'best'],
    ['unknown bucket profile is ignored', { bucketProfile: 'gone' }, 'a', 'best'],
  ] as const)('%s', (_name, patch, profile, route) => {
    const decision = chooseProfile(input(patch as Partial<RoutingInput>));
    expect(decision).toMatchObject({ profile, route, outcome: 'routed', blockedBy: null });
    expect(decision.detail).toMatch(/^[A-Z].*\.$/);
  });

  it('says why in one sentence', () => {
    expect(chooseProfile(input({ bucketProfile: 'b' })).detail).toContain(
      'Same repo and model as a recent session',
    );
    expect(chooseProfile(input({ active: 'b' })).detail).toBe('Active profile.');
    expect(chooseProfile(input({ sessionProfile: 'b' })).detail).toBe(
      'Session stays on its profile.',
    );
  });
});

describe('chooseProfile: pins', () => {
  const pinTo = (
    profile: string,
    allowFallback = false,
    source: 'header' | 'session' | 'repo' = 'repo',
  ) => ({
    profile,
    allowFallback,
    source,
  });

  it('a strict pin to a limited profile blocks and reports its reset', () => {
    const until = now + 3 * hour;
    const decision = chooseProfile(
      input({ candidates: [candidate('a'), candidate('b', limited(until))], pin: pinTo('b') }),
    );
    expect(decision).toMatchObject({
      profile: null,
      route: 'pinned',
      outcome: 'pinned_unavailable',
      earliestReset: until,
      blockedBy: { profile: 'b', code: 'limited', until },
    });
    expect(decision.detail).toContain('repo pin');
  });

  it.each([
    ['auth_error', { status: 'auth_error' as const }, 'auth_error'],
    ['open circuit', { circuitOpenUntil: now + 30_000 }, 'circuit_open'],
    ['exhausted window', { quota: quota(window(100, day)) }, 'exhausted'],
  ])('a strict pin to a profile with %s blocks', (_name, patch, code) => {
    const decision = chooseProfile(
      input({ candidates: [candidate('a'), candidate('b', patch)], pin: pinTo('b') }),
    );
    expect(decision.outcome).toBe('pinned_unavailable');
    expect(decision.blockedBy?.code).toBe(code);
  });

  it('a strict pin whose profile failed this request blocks (the proxy returns the upstream error)', () => {
    const decision = chooseProfile(
      input({ pin: pinTo('b', false, 'header'), exclude: new Set(['b']) }),
    );
    expect(decision.outcome).toBe('pinned_unavailable');
    expect(decision.blockedBy?.code).toBe('failed');
  });

  it('a pin allowing fallback moves on and marks the route fallback', () => {
    const decision = chooseProfile(
      input({ candidates: [candidate('a'), candidate('b', limited())], pin: pinTo('b', true) }),
    );
    expect(decision).toMatchObject({ profile: 'a', route: 'fallback', outcome: 'routed' });
    expect(decision.detail).toMatch(/^Pinned b is limited until .*allows fallback/);
  });

  it('a pin allowing fallback after a failure on this request is a fallback', () => {
    const decision = chooseProfile(input({ pin: pinTo('b', true), exclude: new Set(['b']) }));
    expect(decision).toMatchObject({ profile: 'a', route: 'fallback', outcome: 'routed' });
  });

  it('an unknown pinned profile is its own outcome, even with fallback allowed', () => {
    for (const allowFallback of [false, true]) {
      const decision = chooseProfile(input({ pin: pinTo('nope', allowFallback, 'header') }));
      expect(decision).toMatchObject({
        profile: null,
        route: 'pinned',
        outcome: 'unknown_pin',
        blockedBy: { profile: 'nope', code: 'unknown_profile' },
      });
      expect(decision.detail).toContain('"nope"');
    }
  });

  it('a healthy pin wins even when the session is elsewhere', () => {
    const decision = chooseProfile(
      input({ pin: pinTo('c', false, 'session'), sessionProfile: 'a' }),
    );
    expect(decision).toMatchObject({
      profile: 'c',
      route: 'pinned',
      detail: 'Pinned by session pin.',
    });
  });
});

describe('chooseProfile: stickiness', () => {
  it('never rotates a healthy session, even to a much emptier profile', () => {
    const candidates = [
      candidate('a', { quota: quota(window(0, day)) }),
      candidate('b', { quota: quota(window(95, day), window(99, hour, 300)) }),
    ];
    for (let request = 0; request < 20; request++) {
      const decision = chooseProfile(
        input({ candidates, sessionProfile: 'b', active: 'a', bucketProfile: 'a' }),
      );
      expect(decision).toMatchObject({ profile: 'b', route: 'sticky' });
    }
  });

  it('moves a session off its limited profile and marks it fallback', () => {
    const decision = chooseProfile(
      input({ candidates: [candidate('a', limited()), candidate('b')], sessionProfile: 'a' }),
    );
    expect(decision).toMatchObject({ profile: 'b', route: 'fallback', outcome: 'routed' });
    expect(decision.detail).toMatch(/^Session's a is limited until/);
  });

  it('a session whose limit has passed stays sticky', () => {
    const decision = chooseProfile(
      input({
        candidates: [candidate('a', limited(now - 1)), candidate('b')],
        sessionProfile: 'a',
      }),
    );
    expect(decision).toMatchObject({ profile: 'a', route: 'sticky' });
  });

  it('a failure on this request moves the session and marks it fallback', () => {
    const decision = chooseProfile(input({ sessionProfile: 'a', exclude: new Set(['a']) }));
    expect(decision).toMatchObject({ profile: 'b', route: 'fallback' });
    expect(decision.excluded).toEqual([
      { profile: 'a', reason: 'failed on this request', code: 'failed', until: null },
    ]);
  });

  it('moves a session whose profile was removed as a fallback that names it', () => {
    const decision = chooseProfile(
      input({
        candidates: [candidate('b'), candidate('c')],
        sessionProfile: null,
        sessionRemoved: 'a',
        active: 'c',
      }),
    );
    expect(decision).toMatchObject({ profile: 'c', route: 'fallback', outcome: 'routed' });
    expect(decision.why).toEqual({
      rule: 'active',
      pin: null,
      left: [{ profile: 'a', code: 'removed' }],
    });
    expect(decision.detail).toMatch(/^Session's a was removed; active profile/);
  });

  it('falls back to the active profile when the session profile failed', () => {
    const decision = chooseProfile(
      input({ sessionProfile: 'a', active: 'c', exclude: new Set(['a']) }),
    );
    expect(decision).toMatchObject({ profile: 'c', route: 'fallback' });
  });
});

describe('chooseProfile: best eligible', () => {
  it('picks the most headroom in the tightest window', () => {
    const candidates = [
      // weekly 10% but 5-hour 90% → tightest 90
      candidate('a', { quota: quota(window(10, day), window(90, hour, 300)) }),
      // weekly 50%, no 5-hour window (normal) → tightest 50
      candidate('b', { quota: quota(window(50, day)) }),
      candidate('c', { quota: quota(window(60, day), window(5, hour, 300)) }),
    ];
    const decision = chooseProfile(input({ candidates }));
    expect(decision).toMatchObject({ profile: 'b', route: 'best' });
    expect(decision.detail).toBe(
      `Best: 50% left in its tightest window, weekly resets ${new Date(now + day).toISOString()}.`,
    );
  });

  it('words the weekly reset as every table does (core/format.ts), so a footer agrees with its table', () => {
    // 3d 23h 59m 30s: the WEEKLY column says "resets in 3d 23h"; the reason must not say "4d 0h".
    const resetsIn = 4 * day - 30_000;
    const candidates = [candidate('a', { quota: quota(window(20, resetsIn)) })];
    const decision = chooseProfile(input({ candidates }));
    // The moment stays ISO (worded where it is read, as every surface words moments, so it never
    // goes stale in a state shown later); worded, it reads as the table's column does.
    expect(decision.detail).toBe(
      `Best: 80% left in its tightest window, weekly resets ${new Date(now + resetsIn).toISOString()}.`,
    );
    expect(humanizeTimes(decision.detail, { now, timeZone: 'UTC' })).toContain('(in 3d 23h)');
    expect(humanizeTimes(decision.detail, { now: now + 2 * day, timeZone: 'UTC' })).toContain(
      '(in 1d 23h)',
    );
    expect(
      formatWindowLeft(
        { ...window(20, resetsIn), resetsAt: new Date(now + resetsIn).toISOString() },
        now,
      ),
    ).toBe('80% left, resets in 3d 23h');
  });

  it('breaks a headroom tie by the earliest weekly reset, then user order', () => {
    const candidates = [
      candidate('a', { quota: quota(window(20, 5 * day)) }),
      candidate('b', { quota: quota(window(20.2, 2 * day)) }),
      candidate('c', { quota: quota(window(19.8, 2 * day)) }),
    ];
    expect(chooseProfile(input({ candidates })).profile).toBe('b');
  });

  it('uses the weekly window when it is the only one, in either slot', () => {
    const weeklyInPrimary: QuotaSnapshot = { ...quota(null), primary: window(30, day) };
    const candidates = [
      candidate('a', { quota: weeklyInPrimary }),
      candidate('b', { quota: quota(window(40, day)) }),
    ];
    expect(chooseProfile(input({ candidates })).profile).toBe('a');
    expect(weeklyResetAt(weeklyInPrimary, now)).toBe(now + day);
  });

  it('counts a window whose reset has passed as empty', () => {
    const stale = quota(window(99, -hour));
    expect(tightestUsedPercent(stale, now)).toBe(0);
    const candidates = [
      // No room in its 5-hour window; b, read as 99 % used, would have none either.
      candidate('a', { quota: quota(window(10, day), window(80, hour, 300)) }),
      candidate('b', { quota: stale }),
    ];
    expect(chooseProfile(input({ candidates })).profile).toBe('b');
  });

  it('treats an exhausted window with its reset ahead as ineligible', () => {
    const candidates = [
      candidate('a', { quota: quota(window(40, day), window(100, hour, 300)) }),
      candidate('b', { quota: quota(window(99, day)) }),
    ];
    const decision = chooseProfile(input({ candidates }));
    expect(decision.profile).toBe('b');
    expect(decision.excluded).toEqual([
      expect.objectContaining({ profile: 'a', code: 'exhausted', until: now + hour }),
    ]);
    // In the words of every surface: a full window is "used up" (docs/quota.md).
    expect(decision.excluded[0]!.reason).toMatch(/^has used up its quota until /);
    expect(decision.detail).toBe(
      `Best: 1% left in its tightest window, weekly resets ${new Date(now + day).toISOString()}.`,
    );
  });

  it.each([
    ['ok', { status: 'ok' as const }, true],
    ['unknown', { status: 'unknown' as const }, true],
    ['limited, reset ahead', limited(), false],
    ['limited, reset passed', limited(now), true],
    ['limited, reset unknown', { status: 'limited' as const, unavailableUntil: null }, false],
    ['auth_error', { status: 'auth_error' as const }, false],
    ['circuit open', { circuitOpenUntil: now + 1 }, false],
    ['circuit closed again', { circuitOpenUntil: now }, true],
    ['100% with unknown reset', { quota: quota(window(100, null)) }, true],
    ['99.9%', { quota: quota(window(99.9, day)) }, true],
  ])('eligibility: %s', (_name, patch, eligible) => {
    expect(ineligibility(candidate('x', patch), new Set(), now) === null).toBe(eligible);
  });
});

describe('chooseProfile: nobody eligible', () => {
  it('reports the earliest reset across the pool', () => {
    const candidates = [
      candidate('a', limited(now + 5 * hour)),
      candidate('b', { quota: quota(window(100, 2 * hour)) }),
      candidate('c', { status: 'auth_error' }),
      candidate('d', { circuitOpenUntil: now + 10_000 }),
    ];
    const decision = chooseProfile(input({ candidates, sessionProfile: 'a', active: 'b' }));
    expect(decision).toMatchObject({
      profile: null,
      route: null,
      outcome: 'none_eligible',
      earliestReset: now + 2 * hour,
    });
    expect(decision.excluded.map((entry) => entry.code)).toEqual([
      'limited',
      'exhausted',
      'auth_error',
      'circuit_open',
    ]);
    expect(decision.detail).toMatch(/^No eligible profile: a is limited until/);
  });

  it('a profile just limited by this request still counts for the earliest reset', () => {
    const candidates = [
      candidate('a', limited(now + 4 * hour)),
      candidate('b', limited(now + 9 * hour)),
    ];
    const decision = chooseProfile(input({ candidates, exclude: new Set(['a']) }));
    expect(decision).toMatchObject({ outcome: 'none_eligible', earliestReset: now + 4 * hour });
    expect(decision.excluded[0]).toMatchObject({ profile: 'a', code: 'limited' });
  });

  it('has no reset when nothing is limited by quota', () => {
    const decision = chooseProfile(
      input({ candidates: [candidate('a', { status: 'auth_error' })] }),
    );
    expect(decision).toMatchObject({ outcome: 'none_eligible', earliestReset: null });
  });

  it('an auth file that cannot be read is named as such, not as a missing sign-in', () => {
    const decision = chooseProfile(
      input({
        candidates: [
          candidate('solo', { status: 'auth_error', statusCode: 'corrupt_file' }),
          candidate('gone', { status: 'auth_error', statusCode: 'refresh_token_revoked' }),
        ],
      }),
    );
    expect(decision.excluded).toEqual([
      {
        profile: 'solo',
        reason: 'has an auth file that cannot be read',
        code: 'unreadable_file',
        until: null,
      },
      { profile: 'gone', reason: 'needs sign-in', code: 'auth_error', until: null },
    ]);
    expect(decision.detail).toBe(
      'No eligible profile: solo has an auth file that cannot be read; gone needs sign-in.',
    );
  });

  it('an empty pool says so', () => {
    expect(chooseProfile(input({ candidates: [] }))).toMatchObject({
      outcome: 'none_eligible',
      detail: 'No profile is signed in.',
    });
  });

  it('every profile failing this request is none_eligible', () => {
    const decision = chooseProfile(input({ exclude: new Set(['a', 'b', 'c']) }));
    expect(decision.outcome).toBe('none_eligible');
  });
});

describe('chooseProfile: large pools', () => {
  it('finds names past the small-pool scan', () => {
    const candidates = Array.from({ length: 50 }, (_, index) =>
      candidate(`p${index}`, { quota: quota(window(50, day)) }),
    );
    expect(chooseProfile(input({ candidates, sessionProfile: 'p42' })).profile).toBe('p42');
    expect(chooseProfile(input({ candidates, active: 'p49' })).profile).toBe('p49');
    expect(
      chooseProfile(
        input({ candidates, pin: { profile: 'p30', allowFallback: false, source: 'repo' } }),
      ).profile,
    ).toBe('p30');
  });

  it('is pure: the same input gives the same decision', () => {
    const shared = input({ sessionProfile: 'b', exclude: new Set(['b']) });
    expect(chooseProfile(shared)).toEqual(chooseProfile(shared));
  });
});

describe('chooseProfile: invariants over random pools', () => {
  /** A small deterministic generator (mulberry32) so failures reproduce. */
  function random(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state + 0x6d2b79f5) | 0;
      let value = Math.imul(state ^ (state >>> 15), 1 | state);
      value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
      return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('keeps a healthy session sticky, never picks an ineligible profile, and reports the earliest reset', () => {
    const next = random(42);
    for (let round = 0; round < 2000; round++) {
      const candidates = Array.from({ length: 1 + Math.floor(next() * 8) }, (_, index) => {
        const roll = next();
        return candidate(`p${index}`, {
          status:
            roll < 0.1 ? 'auth_error' : roll < 0.25 ? 'limited' : roll < 0.3 ? 'unknown' : 'ok',
          unavailableUntil:
            roll >= 0.1 && roll < 0.25 ? now + Math.floor(next() * 10 * hour) - hour : null,
          circuitOpenUntil: next() < 0.1 ? now + 30_000 : null,
          quota:
            next() < 0.2
              ? null
              : quota(
                  window(Math.floor(next() * 101), day),
                  next() < 0.5 ? null : window(Math.floor(next() * 101), hour, 300),
                ),
        });
      });
      const pick = (): string | null =>
        next() < 0.5
          ? (candidates[Math.floor(next() * candidates.length)] as RoutingCandidate).name
          : null;
      const exclude = new Set(
        next() < 0.2 ? [pick()].filter((name): name is string => name !== null) : [],
      );
      const sessionProfile = pick();
      const decision = chooseProfile(
        input({
          candidates,
          sessionProfile,
          active: pick() ?? 'auto',
          bucketProfile: pick(),
          exclude,
        }),
      );
      // Every usable profile's circuit open: the request goes through as a trial.
      const trial = circuitTrial(candidates, exclude, now);
      const eligible = candidates
        .filter((entry) => ineligibility(entry, exclude, now, trial) === null)
        .map((entry) => entry.name);
      if (sessionProfile !== null && eligible.includes(sessionProfile)) {
        expect(decision).toMatchObject({
          profile: sessionProfile,
          route: exclude.size > 0 ? 'fallback' : 'sticky',
        });
      }
      if (decision.profile !== null) expect(eligible).toContain(decision.profile);
      expect(decision.outcome === 'none_eligible').toBe(eligible.length === 0);
      if (decision.outcome === 'none_eligible' && decision.earliestReset !== null) {
        for (const entry of decision.excluded) {
          if ((entry.code === 'limited' || entry.code === 'exhausted') && entry.until !== null) {
            expect(decision.earliestReset).toBeLessThanOrEqual(entry.until);
          }
        }
      }
    }
  });
});

describe('chooseProfile: capacity that expires unused is lost', () => {
  it('sends a new session to the week that ends first while it has room, not the emptiest one', () => {
    // The report's pool: b's week ends in 1 h 29 m with half of it left; c has 90 % for 5 days.
    const candidates = [
      candidate('b', { quota: quota(window(50, hour + 29 * 60_000), window(20, 2 * hour, 300)) }),
      candidate('c', { quota: quota(window(10, 5 * day + 18 * hour), window(0, 5 * hour, 300)) }),
    ];
    const decision = chooseProfile(input({ candidates }));
    expect(decision).toMatchObject({ profile: 'b', route: 'best' });
    expect(decision.detail).toBe(
      `Best: its week ends first, at ${new Date(now + hour + 29 * 60_000).toISOString()}, with 50% left, used before it expires.`,
    );
  });

  it('needs room: a quarter of the 5-hour window and a tenth of the week', () => {
    const soon = (weeklyUsed: number, fiveHourUsed: number) =>
      quota(window(weeklyUsed, 2 * hour), window(fiveHourUsed, 3 * hour, 300));
    const later = quota(window(10, 5 * day), window(0, 5 * hour, 300));
    const pick = (first: QuotaSnapshot) =>
      chooseProfile(
        input({ candidates: [candidate('b', { quota: first }), candidate('c', { quota: later })] }),
      ).profile;
    expect(pick(soon(50, 75))).toBe('b');
    expect(pick(soon(50, 76))).toBe('c');
    expect(pick(soon(90, 0))).toBe('b');
    expect(pick(soon(91, 0))).toBe('c');
    // With room nowhere, the most headroom first, as before.
    expect(
      chooseProfile(
        input({
          candidates: [
            candidate('b', { quota: soon(50, 90) }),
            candidate('c', { quota: quota(window(10, 5 * day), window(80, hour, 300)) }),
          ],
        }),
      ).profile,
    ).toBe('c');
  });

  it('does not flap: the pick stays while its week fills, until it has no room', () => {
    const picks: string[] = [];
    for (let used = 50; used <= 95; used += 1) {
      const candidates = [
        candidate('b', { quota: quota(window(used, 2 * day)) }),
        candidate('c', { quota: quota(window(10, 5 * day)) }),
      ];
      picks.push(chooseProfile(input({ candidates })).profile as string);
    }
    // b until a tenth of its week is left, then c: one change, never back and forth.
    expect(picks.join('')).toMatch(/^b+c+$/);
    expect(picks.indexOf('c')).toBe(91 - 50);
  });

  it('ties weeks that end within the same hour: windows read moments apart go by headroom', () => {
    const candidates = [
      candidate('a', { quota: quota(window(30, 7 * day)) }),
      candidate('b', { quota: quota(window(0, 7 * day + 60_000)) }),
    ];
    // The same clock hour for both (now is on the hour): b, the emptier one.
    expect(chooseProfile(input({ candidates })).profile).toBe('b');
  });

  it('puts a profile whose quota is not known after those with room and a known week', () => {
    const candidates = [
      candidate('a'),
      candidate('b', { quota: quota(window(60, 6 * day), window(10, 2 * hour, 300)) }),
      candidate('c', { quota: quota(window(5, 6 * day), window(90, 2 * hour, 300)) }),
    ];
    expect(chooseProfile(input({ candidates })).profile).toBe('b');
    const noRoom = [candidate('a'), candidates[2]!];
    expect(chooseProfile(input({ candidates: noRoom })).profile).toBe('a');
  });
});

describe('chooseProfile: requests that spend no quota', () => {
  const read = (patch: Partial<RoutingInput>): RoutingInput =>
    input({ ...patch, spendsQuota: false });

  it('go where a turn would go while one can', () => {
    const decision = chooseProfile(
      read({ candidates: [candidate('a', limited()), candidate('b'), candidate('c')] }),
    );
    expect(decision.profile).toBe('b');
  });

  it('go to the profile that frees soonest when every one is limited or spent', () => {
    const candidates = [
      candidate('a', limited(now + 3 * hour)),
      candidate('b', { quota: quota(window(100, hour)) }),
      candidate('c', { status: 'limited', unavailableUntil: null }),
    ];
    const decision = chooseProfile(read({ candidates }));
    expect(decision.outcome).toBe('routed');
    expect(decision.profile).toBe('b');
    expect(decision.route).toBe('best');
    expect(decision.detail).toMatch(/^No profile can take a turn now; b frees soonest/);
    // A turn in the same pool is refused with the earliest reset.
    const turn = chooseProfile(input({ candidates }));
    expect(turn).toMatchObject({
      profile: null,
      outcome: 'none_eligible',
      earliestReset: now + hour,
    });
  });

  it('never go to a profile that needs a sign-in, or one that failed this request', () => {
    const candidates = [
      candidate('a', { status: 'auth_error' }),
      candidate('b', limited(now + hour)),
      candidate('c', limited(now + 2 * hour)),
    ];
    expect(chooseProfile(read({ candidates })).profile).toBe('b');
    expect(chooseProfile(read({ candidates, exclude: new Set(['b']) })).profile).toBe('c');
    const none = chooseProfile(read({ candidates, exclude: new Set(['b', 'c']) }));
    expect(none.outcome).toBe('none_eligible');
  });

  it('go to a strictly pinned profile that is limited, but not one that needs a sign-in', () => {
    const pin = { profile: 'a', allowFallback: false, source: 'header' as const };
    const candidates = [candidate('a', limited()), candidate('b')];
    const decision = chooseProfile(read({ candidates, pin }));
    expect(decision).toMatchObject({ profile: 'a', route: 'pinned', outcome: 'routed' });
    expect(chooseProfile(input({ candidates, pin })).outcome).toBe('pinned_unavailable');
    const signedOut = [candidate('a', { status: 'auth_error' }), candidate('b')];
    expect(chooseProfile(read({ candidates: signedOut, pin })).outcome).toBe('pinned_unavailable');
  });
});
