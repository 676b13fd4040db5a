/**
 * The engine routes an existing session from its own profile: no walk over the pool (counted
 * through the engine's `onPoolWalk` hook), and the same answer the full walk gives.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ProfilePick, ProxyRequestInfo } from '../../../core/proxy/engine.ts';
import { inMemoryEngine } from '../../helpers/in-memory-engine.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';
import { LabEngine } from '../../../core/proxy/lab-engine.ts';

let time = Date.UTC(2026, 10, 30, 12);
const clock = { now: () => time, setTimeout, clearTimeout } as never;

async function engineWith(profileCount: number) {
  const home = tempFolder('codex-lab-sticky-');
  let walks = 0;
  const { engine, registry } = await inMemoryEngine({
    home,
    profileCount,
    clock,
    onPoolWalk: () => (walks += 1),
  });
  // The engine saves health marks off the hot path (state/health.json, under state/locks): let
  // them land before the home is removed, or a late write makes the folder again.
  onTestFinished(() => engine.settled());
  return { engine, registry, walks: () => walks };
}

function turn(session: string, extra: Record<string, string> = {}): ProxyRequestInfo {
  return {
    kind: 'responses',
    method: 'POST',
    path: '/codex/responses',
    headers: {
      'session-id': session,
      'x-codex-turn-metadata': `{"session_id":"${session}","workspaces":{"/repo":{}},"model":"gpt-6.2-sol"}`,
      ...extra,
    },
    body: null,
  };
}

function route(engine: LabEngine, info: ProxyRequestInfo, excluded = new Map<string, string>()) {
  const ticket = engine.prepare(info);
  const pick = ticket.choose(excluded);
  if (pick instanceof Promise || !pick.ok) throw new Error('not routed synchronously');
  ticket.commit(pick, excluded);
  // Answered well: a session moves to another profile only then.
  ticket.finish?.({ status: 200, ttfbMs: 5, durationMs: 50, usage: null });
  return pick as ProfilePick;
}

describe('routing an existing session', () => {
  it('does not walk the pool, at 200 profiles', async () => {
    const { engine, walks } = await engineWith(200);
    const first = route(engine, turn('s1'));
    expect(walks()).toBe(1);
    for (let request = 0; request < 100; request += 1) {
      const pick = route(engine, turn('s1'));
      expect(pick).toMatchObject({ profile: first.profile, route: 'sticky', allowFallback: false });
    }
    expect(walks()).toBe(1);
    expect(engine.sessions()[0]).toMatchObject({ id: 's1', requests: 101, route: 'sticky' });
    // A new session, a failure on this request and a header pin each take the full walk.
    route(engine, turn('s2'));
    expect(walks()).toBe(2);
    const moved = route(engine, turn('s1'), new Map([[first.profile, 'upstream_error']]));
    expect(moved.route).toBe('fallback');
    expect(walks()).toBe(3);
    route(engine, turn('s1', { 'x-codex-lab-profile': 'profile-7' }));
    expect(walks()).toBe(4);
  });

  it('builds no function per request: every ticket shares its methods', async () => {
    const { engine } = await engineWith(5);
    route(engine, turn('s1'));
    const first = engine.prepare(turn('s1'));
    const second = engine.prepare(turn('s2'));
    // Closures made per request (one per method, one per choice) were most of the bytes an
    // existing session's request allocated; methods on a shared prototype cost none.
    for (const ticket of [first, second]) {
      const own = Object.entries(Object.getOwnPropertyDescriptors(ticket));
      expect(
        own.filter(([, slot]) => typeof slot.value === 'function').map(([key]) => key),
      ).toEqual([]);
    }
    expect(second.choose).toBe(first.choose);
    expect(second.commit).toBe(first.commit);
    expect(second.finish).toBe(first.finish);
    expect(first.sessionId).toBe('s1');
    expect(second.sessionId).toBe('s2');
  });

  it('walks the pool again when the session profile can no longer serve', async () => {
    const { engine, walks } = await engineWith(5);
    const first = route(engine, turn('s1'));
    engine.markLimited(first.profile, { resetsAt: time + 3_600_000, message: 'limit' });
    const next = route(engine, turn('s1'));
    expect(walks()).toBe(2);
    expect(next.profile).not.toBe(first.profile);
    // Once the limit lifts, the session stays where it now is, without a walk.
    time += 2 * 3_600_000;
    expect(route(engine, turn('s1')).profile).toBe(next.profile);
    expect(walks()).toBe(2);
  });

  it('applies quota headers that changed and refreshes the time of repeated ones', async () => {
    const { engine } = await engineWith(2);
    const headers = (used: string) => ({
      'x-request-id': String(Math.random()),
      'x-codex-primary-used-percent': used,
      'x-codex-primary-window-minutes': '300',
    });
    engine.observe('profile-0', 200, headers('10'));
    time += 1000;
    engine.observe('profile-0', 200, headers('10'));
    expect(engine.quota('profile-0')).toMatchObject({
      observedAt: time,
      primary: { usedPercent: 10 },
    });
    engine.observe('profile-0', 200, headers('11'));
    expect(engine.quota('profile-0')?.primary?.usedPercent).toBe(11);
  });
});
