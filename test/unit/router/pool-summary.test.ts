import { describe, expect, it } from 'vitest';
import { summarizePool, type PoolProfile } from '../../../core/router/pool-summary.ts';
import { forecastWeekly } from '../../../core/quota/forecast.ts';
import { QuotaBook } from '../../../core/quota/quota-book.ts';
import { toPoolSummaryView } from '../../../core/router/pool-summary.ts';
import { describePool, forecastText } from '../../../core/service/quota-text.ts';
import { poolReadiness } from '../../../core/format.ts';
import { toForecastView } from '../../../core/service/views.ts';
import type { QuotaSnapshot, QuotaWindow } from '../../../core/state/schema.ts';
import { FakeClock } from './fake-clock.ts';

const hour = 3_600_000;
const day = 24 * hour;

function window(usedPercent: number, resetsAt: number | null, windowMinutes: number): QuotaWindow {
  return { usedPercent, windowMinutes, resetsAt };
}

function snapshot(
  at: number,
  weekly: QuotaWindow | null,
  fiveHour: QuotaWindow | null = null,
): QuotaSnapshot {
  return {
    observedAt: at,
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

/**
 * A profile whose weekly window burned from `from` % to `to` % over the last `hours` hours (the
 * book records one point per 5 minutes, as in the router), with a 5-hour window unless `noFiveHour`.
 */
function burning(
  clock: FakeClock,
  name: string,
  options: {
    from: number;
    to: number;
    hours: number;
    weeklyResetsIn: number;
    fiveHour?: number | null;
    status?: PoolProfile['status'];
    unavailableUntil?: number | null;
  },
): PoolProfile {
  const book = new QuotaBook({ clock });
  const end = clock.now();
  const start = end - options.hours * hour;
  const steps = Math.max(1, options.hours * 12);
  for (let step = 0; step <= steps; step++) {
    const at = start + (step * (end - start)) / steps;
    const used = options.from + ((options.to - options.from) * step) / steps;
    book.observe(
      name,
      snapshot(
        at,
        window(used, end + options.weeklyResetsIn, 10080),
        options.fiveHour === null ? null : window(options.fiveHour ?? 10, end + 2 * hour, 300),
      ),
    );
  }
  return {
    name,
    status: options.status ?? 'ok',
    unavailableUntil: options.unavailableUntil ?? null,
    quota: book.latest(name),
    history: book.history(name),
  };
}

describe('summarizePool', () => {
  it("says where a new session in the most recent session's repo and model goes when that is not the best account", () => {
    const clock = new FakeClock();
    const now = clock.now();
    const roomy = burning(clock, 'roomy', { from: 5, to: 10, hours: 4, weeklyResetsIn: 3 * day });
    const busy = burning(clock, 'busy', { from: 40, to: 60, hours: 4, weeklyResetsIn: 3 * day });
    const recent = { repo: '/home/ann/src/codex-lab', model: 'gpt-5.2', profile: 'busy' };
    const summary = summarizePool({ profiles: [roomy, busy], active: 'auto', now, recent });
    expect(summary.next.profile).toBe('roomy');
    expect(summary.next.sameRepo).toMatchObject({
      repo: '/home/ann/src/codex-lab',
      model: 'gpt-5.2',
      profile: 'busy',
    });
    expect(summary.next.sameRepo?.detail).toBe(
      'Same repo and model as a recent session (its prompt cache is there).',
    );
    const text = describePool(toPoolSummaryView(summary), { now, timeZone: 'UTC' });
    expect(text.lines[1]).toBe(
      'New sessions in codex-lab (gpt-5.2) → busy: same repo and model as a recent session (its prompt cache is there)',
    );

    // The same account, an active profile that comes first, or a recent account that cannot
    // serve: nothing more to say.
    expect(
      summarizePool({
        profiles: [roomy, busy],
        active: 'auto',
        now,
        recent: { ...recent, profile: 'roomy' },
      }).next.sameRepo,
    ).toBeNull();
    expect(
      summarizePool({ profiles: [roomy, busy], active: 'roomy', now, recent }).next.sameRepo,
    ).toBeNull();
    const limitedBusy = { ...busy, status: 'limited' as const, unavailableUntil: now + hour };
    expect(
      summarizePool({ profiles: [roomy, limitedBusy], active: 'auto', now, recent }).next.sameRepo,
    ).toBeNull();

    // The repo is pinned to busy: that is why a new session there goes to busy, and it says so.
    const pinned = {
      ...recent,
      pin: { profile: 'busy', allowFallback: false, source: 'repo' as const },
    };
    const sameRepo = summarizePool({ profiles: [roomy, busy], active: 'auto', now, recent: pinned })
      .next.sameRepo;
    expect(sameRepo?.profile).toBe('busy');
    expect(sameRepo?.detail).not.toMatch(/same repo and model/i);
    expect(sameRepo?.detail).toMatch(/pin/i);
  });

  it('mixed pool: headroom of the eligible tightest windows, next free time, who a new session gets', () => {
    const clock = new FakeClock();
    const now = clock.now();
    const work = burning(clock, 'work', { from: 20, to: 30, hours: 10, weeklyResetsIn: 3 * day });
    const team = burning(clock, 'team', {
      from: 50,
      to: 60,
      hours: 10,
      weeklyResetsIn: 2 * day,
      fiveHour: 100,
      status: 'limited',
      unavailableUntil: now + 2 * hour,
    });
    const summary = summarizePool({ profiles: [work, team], active: 'auto', now });
    expect(summary.counted).toBe(2);
    expect(summary.eligible).toEqual(['work']);
    // work: tightest window 30 % used → 70 % headroom; team limited → 0; mean over 2.
    expect(summary.headroomPercent).toBe(35);
    expect(summary.nextFree).toEqual({ profile: 'team', at: now + 2 * hour });
    expect(summary.next.profile).toBe('work');
    expect(summary.next.route).toBe('best');
    expect(summary.next.detail).toMatch(/^Best: 70% left/);
  });

  it('all limited: no one gets a new session, the next free time is the earliest lift', () => {
    const clock = new FakeClock();
    const now = clock.now();
    const a = burning(clock, 'a', {
      from: 90,
      to: 100,
      hours: 5,
      weeklyResetsIn: 3 * day,
      status: 'limited',
      unavailableUntil: now + 3 * day,
    });
    const b = burning(clock, 'b', {
      from: 40,
      to: 50,
      hours: 5,
      weeklyResetsIn: 4 * day,
      fiveHour: 100,
      status: 'limited',
      unavailableUntil: now + 90 * 60_000,
    });
    const summary = summarizePool({ profiles: [a, b], active: 'auto', now });
    expect(summary.eligible).toEqual([]);
    expect(summary.headroomPercent).toBe(0);
    expect(summary.nextFree).toEqual({ profile: 'b', at: now + 90 * 60_000 });
    expect(summary.next.profile).toBeNull();
    expect(summary.next.detail).toMatch(/No eligible profile/);
    const text = describePool(toPoolSummaryView(summary), { now, timeZone: 'UTC' });
    expect(text.headline).toBe('All accounts are limited · next free: b at 13:30');
    expect(text.lines[0]).toBe('New sessions → none can take one now');
  });

  it('a missing 5-hour window is normal: the weekly window is the tightest', () => {
    const clock = new FakeClock();
    const now = clock.now();
    const weeklyOnly = burning(clock, 'weekly-only', {
      from: 30,
      to: 45,
      hours: 3,
      weeklyResetsIn: 5 * day,
      fiveHour: null,
    });
    const summary = summarizePool({ profiles: [weeklyOnly], active: 'auto', now });
    expect(summary.headroomPercent).toBe(55);
    expect(summary.eligible).toEqual(['weekly-only']);
    expect(summary.forecast.percentPerHour).toBeCloseTo(5);
    // 55 % left at 5 %/h → 11 hours, well before the reset in 5 days.
    expect(summary.forecast.outlook).toBe('runs_out');
    expect(summary.forecast.runsOutAt).toBe(now + 11 * hour);
  });

  it('no history yet: headroom and the next session are known, the forecast is not', () => {
    const now = Date.UTC(2026, 0, 5, 12);
    const fresh: PoolProfile = {
      name: 'fresh',
      status: 'unknown',
      unavailableUntil: null,
      quota: snapshot(now, window(10, now + 6 * day, 10080), window(4, now + hour, 300)),
      history: [{ at: now, primary: 4, secondary: 10 }],
    };
    const never: PoolProfile = {
      name: 'never',
      status: 'unknown',
      unavailableUntil: null,
      quota: null,
      history: [],
    };
    const summary = summarizePool({ profiles: [fresh, never], active: 'auto', now });
    // "never" has no figure yet: the headroom is fresh's alone, not a promise of 100 % for it.
    expect(summary.headroomPercent).toBe(90);
    expect(summary.forecast.outlook).toBe('unknown');
    expect(summary.forecast.nextResetAt).toBe(now + 6 * day);
    // The router's rule: fresh's week ends (in 6 days, 90 % left) and it has room; nothing is
    // known to expire on "never", which comes after every profile with room and a known week.
    expect(summary.next.profile).toBe('fresh');
    expect(
      forecastText(toForecastView(forecastWeekly(fresh.quota, fresh.history, now)), { now }),
    ).toBe('weekly pace: not known yet');
  });

  it('a pool nobody has used yet: its headroom and its week are not known, not full or spent', () => {
    const now = Date.UTC(2026, 0, 5, 12);
    const unread = (name: string): PoolProfile => ({
      name,
      status: 'unknown',
      unavailableUntil: null,
      quota: null,
      history: [],
    });
    // An answer that reported no window at all is no better than none.
    const empty: PoolProfile = { ...unread('empty'), quota: snapshot(now, null, null) };
    const summary = summarizePool({ profiles: [unread('a'), empty], active: 'auto', now });
    expect(summary.headroomPercent).toBeNull();
    expect(summary.forecast.outlook).toBe('unknown');
    expect(summary.next.detail).toBe('Best: quota not known yet.');
    // A spent week beside an unread one: not "used up" while the unread one may have its week.
    const spent: PoolProfile = {
      ...unread('spent'),
      status: 'ok',
      quota: snapshot(now, window(100, now + day, 10080), window(10, now + hour, 300)),
    };
    expect(
      summarizePool({ profiles: [spent, unread('b')], active: 'auto', now }).forecast.outlook,
    ).toBe('unknown');
    expect(summarizePool({ profiles: [spent], active: 'auto', now }).forecast.outlook).toBe(
      'exhausted',
    );
    // A spent week beside accounts read once: no pace is known, so no "lasts past the reset".
    const readOnce: PoolProfile = {
      ...unread('fresh'),
      status: 'ok',
      quota: snapshot(now, window(10, now + 6 * day, 10080), window(5, now + hour, 300)),
    };
    expect(
      summarizePool({ profiles: [spent, readOnce], active: 'auto', now }).forecast.outlook,
    ).toBe('unknown');
    // A limited account beside a ready one not read yet: not "0% left" while one is ready.
    const limited: PoolProfile = {
      ...unread('limited'),
      status: 'limited',
      unavailableUntil: now + hour,
    };
    expect(
      summarizePool({ profiles: [limited, unread('c')], active: 'auto', now }).headroomPercent,
    ).toBeNull();
  });

  it('does not call an account ready before its quota is known, on any surface', () => {
    const clock = new FakeClock();
    const now = clock.now();
    const unread = (name: string, quota: QuotaSnapshot | null = null): PoolProfile => ({
      name,
      status: 'unknown',
      unavailableUntil: null,
      quota,
      history: [],
    });
    // Right after start: both can take sessions, nobody has read their quota.
    const fresh = toPoolSummaryView(
      summarizePool({ profiles: [unread('a'), unread('b')], active: 'auto', now }),
    );
    expect(fresh.eligible).toEqual(['a', 'b']);
    expect(fresh.unread).toEqual(['a', 'b']);
    expect(poolReadiness(fresh, 2, 'accounts')).toBe(
      '2 of 2 accounts can take sessions, quota not known yet',
    );
    expect(describePool(fresh, { now, timeZone: 'UTC' }).headline).toBe(
      'Pool · 2 of 2 can take sessions, quota not known yet',
    );
    // One read, one whose read reported no window: one is ready, the other only eligible.
    const read = burning(clock, 'read', { from: 10, to: 20, hours: 2, weeklyResetsIn: 6 * day });
    const mixed = toPoolSummaryView(
      summarizePool({
        profiles: [read, unread('empty', snapshot(now, null, null))],
        active: 'auto',
        now,
      }),
    );
    expect(mixed.unread).toEqual(['empty']);
    expect(describePool(mixed, { now, timeZone: 'UTC' }).headline).toBe(
      'Pool 80% left · 1 of 2 ready, 1 more can take sessions (quota not known yet)',
    );
  });

  it('keeps the router’s moments ISO in the summary; the CLI and the tray word them in their zone', () => {
    const clock = new FakeClock();
    const now = clock.now();
    const a = burning(clock, 'a', {
      from: 100,
      to: 100,
      hours: 1,
      weeklyResetsIn: 3 * hour,
      status: 'limited',
      unavailableUntil: now + 3 * hour,
    });
    const summary = toPoolSummaryView(summarizePool({ profiles: [a], active: 'auto', now }));
    const reset = new Date(now + 3 * hour).toISOString();
    summary.next = {
      profile: 'a',
      route: 'best',
      detail: `best: limited until ${reset}`,
      sameRepo: null,
    };
    const utc = describePool(summary, { now, timeZone: 'UTC' }).lines[0];
    const tokyo = describePool(summary, { now, timeZone: 'Asia/Tokyo' }).lines[0];
    expect(utc).toMatch(/^New sessions → a: best: limited until \d\d:\d\d \(in 3h\)$/);
    expect(tokyo).not.toBe(utc);
  });

  it('a profile needing sign-in is left out of every number', () => {
    const clock = new FakeClock();
    const now = clock.now();
    const ok = burning(clock, 'ok', { from: 10, to: 20, hours: 10, weeklyResetsIn: 6 * day });
    const broken = burning(clock, 'broken', {
      from: 0,
      to: 0,
      hours: 1,
      weeklyResetsIn: 6 * day,
      status: 'auth_error',
    });
    const summary = summarizePool({ profiles: [ok, broken], active: 'auto', now });
    expect(summary.counted).toBe(1);
    expect(summary.needsSignIn).toEqual(['broken']);
    expect(summary.headroomPercent).toBe(80);
    expect(summary.eligible).toEqual(['ok']);
    // 80 % left at 1 %/h = 80 h, past the reset in 6 days? No: 80 h < 144 h.
    expect(summary.forecast.outlook).toBe('runs_out');
    const text = describePool(toPoolSummaryView(summary), { now, timeZone: 'UTC' });
    expect(text.headline).toBe('Pool 80% left · 1 of 2 ready');
    expect(text.lines).toContain('Needs sign-in: broken');
    // The command line says the command that mends it; the tray and the page have their own.
    const cli = describePool(toPoolSummaryView(summary), { now, commands: true });
    expect(cli.lines).toContain('Needs sign-in: broken (codex-lab login broken)');
    const two = toPoolSummaryView({ ...summary, needsSignIn: ['broken', 'lost'] });
    expect(describePool(two, { now, commands: true }).lines).toContain(
      'Needs sign-in: broken, lost (codex-lab login NAME)',
    );
  });

  it('a profile whose auth file cannot be read is named apart from those needing a sign-in', () => {
    const clock = new FakeClock();
    const now = clock.now();
    const solo = {
      ...burning(clock, 'solo', { from: 0, to: 0, hours: 1, weeklyResetsIn: 6 * day }),
      status: 'auth_error' as const,
      statusCode: 'corrupt_file',
    };
    const summary = summarizePool({ profiles: [solo], active: 'auto', now });
    expect(summary.counted).toBe(0);
    expect(summary.needsSignIn).toEqual([]);
    expect(summary.unreadable).toEqual(['solo']);
    expect(summary.next.detail).toBe(
      'No eligible profile: solo has an auth file that cannot be read.',
    );
    const text = describePool(toPoolSummaryView(summary), { now, timeZone: 'UTC' });
    expect(text.headline).toBe('No account can be used: their auth files cannot be read');
    expect(text.lines).toContain('Auth file unreadable: solo');
    expect(text.lines.join('\n')).not.toContain('sign-in');
  });

  it('the pool lasts past the next reset when the pace would run out after it', () => {
    const clock = new FakeClock();
    const now = clock.now();
    const a = burning(clock, 'a', { from: 10, to: 12, hours: 10, weeklyResetsIn: day });
    const b = burning(clock, 'b', { from: 10, to: 11, hours: 10, weeklyResetsIn: 3 * day });
    const summary = summarizePool({ profiles: [a, b], active: 'auto', now });
    expect(summary.forecast.outlook).toBe('lasts');
    expect(summary.forecast.nextResetAt).toBe(now + day);
    const text = describePool(toPoolSummaryView(summary), { now, timeZone: 'UTC' });
    expect(text.lines).toContain(
      "This week: at this week's pace the pool lasts past the next reset (Tue 12:00)",
    );
  });

  it('an active profile is who new sessions get, as the router would route them', () => {
    const clock = new FakeClock();
    const now = clock.now();
    const a = burning(clock, 'a', { from: 10, to: 12, hours: 1, weeklyResetsIn: day });
    const b = burning(clock, 'b', { from: 50, to: 60, hours: 1, weeklyResetsIn: day });
    const summary = summarizePool({ profiles: [a, b], active: 'b', now });
    expect(summary.next).toMatchObject({ profile: 'b', route: 'active' });
  });
});

describe('forecastWeekly', () => {
  it('per-profile forecast: runs out before the reset, fine until reset, used up', () => {
    const clock = new FakeClock();
    const now = clock.now();
    const fast = burning(clock, 'fast', { from: 20, to: 40, hours: 10, weeklyResetsIn: 5 * day });
    const slow = burning(clock, 'slow', { from: 20, to: 21, hours: 10, weeklyResetsIn: day });
    const options = { now, timeZone: 'UTC' };
    const fastView = toForecastView(forecastWeekly(fast.quota, fast.history, now));
    expect(fastView).toMatchObject({ outlook: 'runs_out', percentPerHour: 2 });
    // 60 % left at 2 %/h = 30 h → Tue 18:00 UTC.
    expect(forecastText(fastView, options)).toBe(
      'weekly pace 2.0%/h: runs out Tue 18:00, before the weekly reset',
    );
    const slowView = toForecastView(forecastWeekly(slow.quota, slow.history, now));
    expect(forecastText(slowView, options)).toBe('weekly pace 0.1%/h: fine until the weekly reset');
    const spent = snapshot(now, window(100, now + 2 * day, 10080));
    expect(forecastText(toForecastView(forecastWeekly(spent, [], now)), options)).toBe(
      'weekly quota used up until Wed 12:00',
    );
  });
});
