import { describe, expect, it } from 'vitest';
import {
  BucketMap,
  SessionTable,
  sessionsFromRequests,
  type SessionRequest,
} from '../../../core/router/sessions.ts';
import { whyOfRoute } from '../../../core/view-types.ts';
import { FakeClock } from './fake-clock.ts';

const hour = 3_600_000;
const request = (
  profile: string,
  repo: string | null = '/repo',
  model: string | null = 'gpt-5',
) => ({
  profile,
  route: 'best' as const,
  repo,
  model,
  pinned: null,
});

describe('SessionTable', () => {
  it('records, counts and reports sessions with ISO times', () => {
    const clock = new FakeClock();
    const table = new SessionTable({ clock });
    const started = clock.now();
    table.record('s1', request('a'));
    clock.advance(1000);
    const entry = table.record('s1', { ...request('a', null, null), route: 'sticky' });
    expect(entry).toMatchObject({
      requests: 2,
      profile: 'a',
      route: 'sticky',
      repo: '/repo',
      model: 'gpt-5',
    });
    expect(table.size).toBe(1);
    expect(table.list(10)).toEqual([
      {
        id: 's1',
        profile: 'a',
        route: 'sticky',
        why: { rule: 'session', pin: null, left: [] },
        repo: '/repo',
        model: 'gpt-5',
        pinned: null,
        requests: 2,
        startedAt: new Date(started).toISOString(),
        lastSeenAt: new Date(started + 1000).toISOString(),
      },
    ]);
  });

  it('lists newest first, up to the limit', () => {
    const clock = new FakeClock();
    const table = new SessionTable({ clock });
    for (const id of ['s1', 's2', 's3']) {
      table.record(id, request('a'));
      clock.advance(10);
    }
    table.record('s1', request('a'));
    expect(table.list(2).map((view) => view.id)).toEqual(['s1', 's3']);
    expect(table.list(0)).toEqual([]);
  });

  it('evicts the least recently seen session when full', () => {
    const clock = new FakeClock();
    const table = new SessionTable({ clock, maxEntries: 3 });
    table.record('s1', request('a'));
    table.record('s2', request('a'));
    table.record('s3', request('a'));
    table.record('s1', request('a')); // s1 is now the most recent
    table.record('s4', request('a'));
    expect(table.size).toBe(3);
    expect(table.get('s2')).toBeUndefined();
    expect(table.get('s1')?.requests).toBe(2);
  });

  it('forgets idle sessions after the TTL, lazily', () => {
    const clock = new FakeClock();
    const table = new SessionTable({ clock, idleTtlMs: 24 * hour });
    table.record('old', request('a'));
    clock.advance(23 * hour);
    table.record('young', request('b'));
    expect(table.profileOf('old')).toBe('a');
    clock.advance(2 * hour);
    expect(table.profileOf('old')).toBeNull();
    expect(table.profileOf('young')).toBe('b');
    expect(table.list().map((view) => view.id)).toEqual(['young']);
  });

  it('prunes expired sessions on writes so memory stays flat over days', () => {
    const clock = new FakeClock();
    const table = new SessionTable({ clock, idleTtlMs: hour, maxEntries: 1_000_000 });
    // A week of traffic: 50 new sessions every 10 minutes, each idle after one request.
    let peak = 0;
    for (let tick = 0; tick < 7 * 24 * 6; tick++) {
      for (let index = 0; index < 50; index++) table.record(`s${tick}-${index}`, request('a'));
      peak = Math.max(peak, table.size);
      clock.advance(10 * 60_000);
    }
    // At most ~1 h of sessions (7 ticks × 50) plus one prune batch of stragglers.
    expect(peak).toBeLessThanOrEqual(7 * 50 + 64);
  });

  it('a session expired in place starts over when it comes back', () => {
    const clock = new FakeClock();
    const table = new SessionTable({ clock, idleTtlMs: hour });
    table.record('s1', request('a'));
    clock.advance(2 * hour);
    const entry = table.record('s1', request('b'));
    expect(entry).toMatchObject({ requests: 1, profile: 'b', startedAt: clock.now() });
  });

  it('moves a session and reassigns on rename or removal', () => {
    const clock = new FakeClock();
    const table = new SessionTable({ clock });
    table.record('s1', request('a'));
    table.record('s2', request('a'));
    table.record('s3', request('b'));
    expect(table.move('s1', 'c')).toBe(true);
    expect(table.move('nope', 'c')).toBe(false);
    expect(table.profileOf('s1')).toBe('c');
    table.reassign('a', 'renamed');
    expect(table.profileOf('s2')).toBe('renamed');
    table.reassign('b', null);
    // A removed profile's session still shows, under the name its requests have
    // (`removedProfileName`), but no profile serves it: its next turn is routed afresh.
    expect(table.get('s3')?.profile).toBe('b (removed)');
    expect(table.profileOf('s3')).toBeNull();
    expect(table.profileOf(null)).toBeNull();
    table.record('s3', request('c'));
    expect(table.profileOf('s3')).toBe('c');
    expect(table.get('s3')?.requests).toBe(2);
  });

  it('a pinned session names its pin by the new name after a rename', () => {
    const table = new SessionTable({ clock: new FakeClock() });
    table.record('s1', { ...request('alice'), route: 'pinned', pinned: 'alice' });
    table.reassign('alice', 'al');
    expect(table.list().map((view) => [view.profile, view.pinned])).toEqual([['al', 'al']]);
  });

  it('keeps nothing of the input it records from: one object may be refilled per request', () => {
    const clock = new FakeClock();
    const table = new SessionTable({ clock });
    const input = { ...request('a'), why: whyOfRoute('best') };
    table.record('s1', input);
    Object.assign(input, { profile: 'b', route: 'sticky', repo: '/other', model: 'gpt-6' });
    table.record('s2', input);
    Object.assign(input, { profile: 'c', why: whyOfRoute('fallback'), pinned: 'c' });
    expect(table.get('s1')).toMatchObject({ profile: 'a', route: 'best', repo: '/repo' });
    expect(table.get('s1')?.why).toEqual(whyOfRoute('best'));
    expect(table.get('s2')).toMatchObject({ profile: 'b', route: 'sticky', model: 'gpt-6' });
    expect(table.get('s2')).toMatchObject({ pinned: null });
  });

  it('shares repeated repo and model strings between sessions', () => {
    const clock = new FakeClock();
    const table = new SessionTable({ clock });
    const first = table.record('s1', request('a', ['/re', 'po'].join(''), 'gpt-5'));
    const second = table.record('s2', request('a', ['/r', 'epo'].join(''), 'gpt-5'));
    expect(second.repo).toBe(first.repo);
  });
});

describe('BucketMap', () => {
  it('remembers the recent profile per (repo, model)', () => {
    const clock = new FakeClock();
    const buckets = new BucketMap({ clock });
    buckets.set('/repo', 'gpt-5', 'a');
    buckets.set('/repo', 'gpt-4', 'b');
    expect(buckets.get('/repo', 'gpt-5')).toBe('a');
    expect(buckets.get('/repo', 'gpt-4')).toBe('b');
    expect(buckets.get('/other', 'gpt-5')).toBeNull();
  });

  it('groups no session without a repository or a model: nothing else is shared for its prompt cache', () => {
    const buckets = new BucketMap({ clock: new FakeClock() });
    // Codex outside a git repository names none: those sessions are not one "repository".
    buckets.set(null, 'gpt-5', 'a');
    buckets.set('/repo', null, 'b');
    buckets.set(null, null, 'c');
    expect(buckets.size).toBe(0);
    expect(buckets.get(null, 'gpt-5')).toBeNull();
    expect(buckets.get('/repo', null)).toBeNull();
    expect(buckets.get(null, null)).toBeNull();
    expect(buckets.mostRecent()).toBeNull();
    // A repository's bucket is not found under "no repository" either.
    buckets.set('/repo', 'gpt-5', 'd');
    expect(buckets.get(null, 'gpt-5')).toBeNull();
    expect(buckets.mostRecent()).toEqual({ repo: '/repo', model: 'gpt-5', profile: 'd' });
  });

  it('is bounded and expires', () => {
    const clock = new FakeClock();
    const buckets = new BucketMap({ clock, maxEntries: 2, ttlMs: hour });
    buckets.set('/1', 'm', 'a');
    buckets.set('/2', 'm', 'a');
    buckets.set('/3', 'm', 'a');
    expect(buckets.size).toBe(2);
    expect(buckets.get('/1', 'm')).toBeNull();
    clock.advance(hour + 1);
    expect(buckets.get('/3', 'm')).toBeNull();
  });

  it('when full, forgets the bucket used least recently, not the one made first', () => {
    const clock = new FakeClock();
    const buckets = new BucketMap({ clock, maxEntries: 2 });
    buckets.set('/1', 'm', 'a');
    clock.advance(1000);
    buckets.set('/2', 'm', 'b');
    clock.advance(1000);
    buckets.set('/1', 'm', 'c');
    clock.advance(1000);
    buckets.set('/3', 'm', 'd');
    expect(buckets.size).toBe(2);
    expect(buckets.get('/1', 'm')).toBe('c');
    expect(buckets.get('/2', 'm')).toBeNull();
    expect(buckets.get('/3', 'm')).toBe('d');
  });

  it('reassigns on rename and removal', () => {
    const buckets = new BucketMap({ clock: new FakeClock() });
    buckets.set('/1', 'm', 'a');
    buckets.set('/2', 'm', 'b');
    buckets.reassign('a', 'z');
    buckets.reassign('b', null);
    expect(buckets.get('/1', 'm')).toBe('z');
    expect(buckets.get('/2', 'm')).toBeNull();
  });
});

describe('SessionTable entries', () => {
  it('are plain objects that serialise', () => {
    const table = new SessionTable({ clock: new FakeClock() });
    table.record('s1', request('a'));
    table.record('s2', request('b'));
    expect(() => JSON.stringify(table.get('s1'))).not.toThrow();
    expect(Object.keys(table.get('s2') ?? {})).toEqual([
      'id',
      'profile',
      'route',
      'why',
      'repo',
      'model',
      'pinned',
      'requests',
      'startedAt',
      'lastSeenAt',
    ]);
  });
});

describe('SessionTable against a plain model', () => {
  /** The rules the table keeps, written the obvious way: a `Map` in recency order. */
  class ModelTable {
    readonly entries = new Map<string, { profile: string; requests: number; lastSeenAt: number }>();
    readonly clock: FakeClock;
    readonly maxEntries: number;
    readonly ttl: number;
    constructor(clock: FakeClock, maxEntries: number, ttl: number) {
      this.clock = clock;
      this.maxEntries = maxEntries;
      this.ttl = ttl;
    }
    expired(entry: { lastSeenAt: number }): boolean {
      return this.clock.now() - entry.lastSeenAt > this.ttl;
    }
    get(id: string) {
      const entry = this.entries.get(id);
      if (entry && this.expired(entry)) {
        this.entries.delete(id);
        return undefined;
      }
      return entry;
    }
    record(id: string, profile: string): void {
      let pruned = 0;
      for (const [key, entry] of this.entries) {
        if (pruned >= 64 || !this.expired(entry)) break;
        this.entries.delete(key);
        pruned += 1;
      }
      let entry = this.entries.get(id);
      if (entry && this.expired(entry)) entry = undefined;
      this.entries.delete(id);
      if (!entry) {
        while (this.entries.size >= this.maxEntries) {
          this.entries.delete(this.entries.keys().next().value!);
        }
      }
      this.entries.set(id, {
        profile,
        requests: (entry?.requests ?? 0) + 1,
        lastSeenAt: this.clock.now(),
      });
    }
    list(limit: number): string[] {
      const ids: string[] = [];
      for (const [id, entry] of [...this.entries].reverse()) {
        if (ids.length >= limit || this.expired(entry)) break;
        ids.push(id);
      }
      return ids;
    }
  }

  it('agrees over 40 000 random operations: records, lookups, deletes, eviction and expiry', () => {
    let state = 7;
    const next = (): number => {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      return state / 2 ** 31;
    };
    const hex = (digits: number): string =>
      Array.from({ length: digits }, () => '0123456789abcdef'[Math.floor(next() * 16)]).join('');
    // Codex's lower-case UUIDs, and ids of other shapes.
    const ids = Array.from({ length: 3000 }, (_, index) => {
      const uuid = `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`;
      if (index % 10 === 0) return uuid.toUpperCase();
      if (index % 10 === 1) return `${uuid.slice(0, 35)}g`;
      if (index % 10 === 2) return `session-${index}`;
      return uuid;
    });
    const clock = new FakeClock();
    const table = new SessionTable({ clock, maxEntries: 500, idleTtlMs: 6 * hour });
    const model = new ModelTable(clock, 500, 6 * hour);
    // Often the same session again (a lookup, then its record, as the router does), else any.
    let id = ids[0]!;
    for (let step = 0; step < 40_000; step += 1) {
      if (next() > 0.3) id = ids[Math.floor(next() ** 2 * ids.length)]!;
      const roll = next();
      if (roll < 0.6) {
        const profile = `p${Math.floor(next() * 5)}`;
        table.record(id, request(profile));
        model.record(id, profile);
      } else if (roll < 0.8) {
        expect(table.profileOf(id), id).toBe(model.get(id)?.profile ?? null);
      } else if (roll < 0.9) {
        expect(table.delete(id)).toBe(model.entries.delete(id));
      } else {
        // Now and then a long pause: many sessions expire at once.
        clock.advance(next() < 0.005 ? Math.floor(next() * 7 * hour) : Math.floor(next() * 60_000));
      }
      expect(table.size).toBe(model.entries.size);
      if (step % 100 === 99) {
        expect(table.list(50).map((view) => view.id)).toEqual(model.list(50));
      }
      if (step % 1000 === 999) {
        for (const known of ids) {
          const entry = table.get(known);
          const expected = model.get(known);
          expect(entry && { profile: entry.profile, requests: entry.requests }, known).toEqual(
            expected && { profile: expected.profile, requests: expected.requests },
          );
          if (entry) expect(entry.id).toBe(known);
        }
      }
    }
    // 40 000 operations take about a second alone, several on 2 shared cores under a full run.
  }, 30_000);
});

describe('sessions from the request log (a restart)', () => {
  const turn = (at: number, sessionId: string, profile: string | null, patch = {}) =>
    ({
      at,
      sessionId,
      profile,
      route: profile === null ? null : ('sticky' as const),
      model: 'gpt-5',
      kind: 'responses',
      status: profile === null ? 429 : 200,
      ...patch,
    }) as SessionRequest;

  it('rebuilds each session on the profile of its last routed turn, within the TTL', () => {
    const now = 100 * hour;
    const restored = sessionsFromRequests(
      [
        turn(now - 9 * hour, 'old', 'a'),
        turn(now - 3 * hour, 's', 'a', { route: 'best' }),
        turn(now - 2 * hour, 's', 'a'),
        turn(now - 2 * hour, 'moved', 'a'),
        turn(now - hour, 'moved', 'b', { route: 'fallback' }),
        // A refusal reached no profile: it changes nothing.
        turn(now - hour + 1, 'moved', null),
        // Usage reads and requests without a session are no sessions.
        turn(now - hour, 'usage', 'c', { kind: 'usage' }),
        // A line not shaped as the router writes it is passed over.
        { ...turn(now - hour, 'broken', 'c'), at: 'yesterday' } as unknown as SessionRequest,
      ],
      { now, idleTtlMs: 6 * hour, maxSessions: 10 },
    );
    expect(
      restored.map(({ id, profile, route, requests, startedAt, lastSeenAt, soleServer }) => ({
        id,
        profile,
        route,
        requests,
        startedAt: (now - startedAt) / hour,
        lastSeenAt: (now - lastSeenAt) / hour,
        soleServer,
      })),
    ).toEqual([
      {
        id: 's',
        profile: 'a',
        route: 'sticky',
        requests: 2,
        startedAt: 3,
        lastSeenAt: 2,
        soleServer: 'a',
      },
      {
        id: 'moved',
        profile: 'b',
        route: 'fallback',
        requests: 2,
        startedAt: 2,
        lastSeenAt: 1,
        soleServer: null,
      },
    ]);
  });

  it('keeps a session on its account when a turn sent elsewhere was not answered well', () => {
    const restored = sessionsFromRequests(
      [
        turn(1, 'outage', 'a'),
        // A shared outage: the retry sent to b met a 503 there too, then a stream b cut.
        turn(2, 'outage', 'b', { route: 'fallback', status: 503 }),
        turn(3, 'outage', 'b', { route: 'fallback', ending: 'upstream_cut' }),
        turn(4, 'moved', 'a'),
        turn(5, 'moved', 'b', { route: 'fallback' }),
        // A new session's first turn is its own, whatever its answer.
        turn(6, 'new', 'b', { status: 503 }),
      ],
      { now: 10, idleTtlMs: hour, maxSessions: 10 },
    );
    expect(restored.map((session) => [session.id, session.profile, session.requests])).toEqual([
      ['outage', 'a', 3],
      ['moved', 'b', 2],
      ['new', 'b', 1],
    ]);
  });

  it('keeps only the most recent sessions, and a failed turn names no owner', () => {
    const restored = sessionsFromRequests(
      [turn(1, 'x', 'a'), turn(2, 'y', 'a', { status: 429, route: 'pinned' }), turn(3, 'z', 'a')],
      { now: 10, idleTtlMs: hour, maxSessions: 2 },
    );
    expect(restored.map((session) => [session.id, session.soleServer, session.pinned])).toEqual([
      ['y', null, 'a'],
      ['z', 'a', null],
    ]);
  });

  it('names sessions last on an account that is gone as removed, and presumes no owner over one', () => {
    // `a` was removed (or is another account now): its turns belong to nobody.
    const belongs = (record: SessionRequest) => record.profile !== 'a';
    const restored = sessionsFromRequests(
      [
        turn(1, 'only-a', 'a'),
        turn(2, 'a-then-b', 'a'),
        turn(3, 'a-then-b', 'b', { route: 'fallback' }),
        turn(4, 'b-then-a', 'b'),
        turn(5, 'b-then-a', 'a', { route: 'fallback' }),
        turn(6, 'only-b', 'b'),
      ],
      { now: 10, idleTtlMs: hour, maxSessions: 10, belongs },
    );
    expect(restored.map((session) => [session.id, session.profile, session.soleServer])).toEqual([
      ['only-a', 'a (removed)', null],
      ['a-then-b', 'b', null],
      ['b-then-a', 'a (removed)', null],
      ['only-b', 'b', 'b'],
    ]);
  });

  it('puts restored sessions behind the live ones, skipping known and expired ids', () => {
    const clock = new FakeClock();
    const table = new SessionTable({ clock, idleTtlMs: hour, maxEntries: 3 });
    table.record('live', request('c'));
    const at = clock.now();
    const entry = (id: string, profile: string, lastSeenAt: number) => ({
      id,
      profile,
      route: 'sticky' as const,
      why: whyOfRoute('sticky'),
      repo: null,
      model: 'gpt-5',
      pinned: null,
      requests: 4,
      startedAt: lastSeenAt - 1000,
      lastSeenAt,
    });
    table.restore([
      entry('expired', 'a', at - 2 * hour),
      entry('older', 'a', at - 20 * 60_000),
      entry('live', 'a', at - 15 * 60_000),
      entry('newer', 'b', at - 10 * 60_000),
    ]);
    expect(table.profileOf('live')).toBe('c');
    expect(table.profileOf('newer')).toBe('b');
    expect(table.get('older')?.requests).toBe(4);
    expect(table.profileOf('expired')).toBeNull();
    expect(table.list().map((session) => session.id)).toEqual(['live', 'newer', 'older']);
    // Full: the oldest restored session is the first to go.
    table.record('another', request('a'));
    expect(table.list().map((session) => session.id)).toEqual(['another', 'live', 'newer']);
  });
});
