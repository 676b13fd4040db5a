/**
 * The live sessions say why each session is on its account: the rule the routing decision used
 * for its last turn (kept there, a recent session's prompt cache, a pin, the best by quota, a
 * fallback after another was limited), recorded by the engine and worded by `routeWhyText`.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ProfilePick, ProxyRequestInfo } from '../../../core/proxy/engine.ts';
import type { LabEngine } from '../../../core/proxy/lab-engine.ts';
import { routeWhyText } from '../../../core/format.ts';
import { sessionsFromRequests } from '../../../core/router/sessions.ts';
import { inMemoryEngine } from '../../helpers/in-memory-engine.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';

const time = Date.UTC(2026, 11, 2, 12);
const clock = { now: () => time, setTimeout, clearTimeout } as never;

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

function route(engine: LabEngine, info: ProxyRequestInfo): ProfilePick {
  const ticket = engine.prepare(info);
  const excluded = new Map<string, string>();
  const pick = ticket.choose(excluded);
  if (pick instanceof Promise || !pick.ok) throw new Error('not routed synchronously');
  ticket.commit(pick, excluded);
  ticket.finish?.({ status: 200, ttfbMs: 1, durationMs: 2, usage: null } as never);
  return pick;
}

function used(engine: LabEngine, profile: string, percent: number): void {
  engine.observe(profile, 200, {
    'x-request-id': `${profile}-${percent}`,
    'x-codex-primary-used-percent': String(percent),
    'x-codex-primary-window-minutes': '300',
  });
}

function why(engine: LabEngine, session: string): string {
  const view = engine.sessions().find((each) => each.id === session);
  if (!view) throw new Error(`no session ${session}`);
  return routeWhyText(view.why);
}

describe('why a live session is on its account', () => {
  it('says the rule the router used for its last turn, not "best" for every new session', async () => {
    const { engine } = await inMemoryEngine({
      home: tempFolder('codex-lab-why-'),
      profileCount: 2,
      clock,
    });
    onTestFinished(() => engine.settled());
    used(engine, 'profile-0', 50);
    used(engine, 'profile-1', 10);

    expect(route(engine, turn('s1')).profile).toBe('profile-1');
    expect(why(engine, 's1')).toBe('best by quota');

    // profile-0 is now the best by quota, yet a new session of the same repo and model goes where
    // the recent one is (its prompt cache): the label must say so, not "best".
    used(engine, 'profile-1', 60);
    expect(route(engine, turn('s2')).profile).toBe('profile-1');
    expect(why(engine, 's2')).toBe(
      'with a recent session of its repo and model, for the prompt cache',
    );

    // The next turn of s1 stays on its account.
    route(engine, turn('s1'));
    expect(why(engine, 's1')).toBe('kept on its account for the prompt cache');

    // A header pin is a pin.
    route(engine, turn('s3', { 'x-codex-lab-profile': 'profile-0' }));
    expect(why(engine, 's3')).toBe('pinned by the request');

    // Its account limited, s1 moves: a fallback that names what it left, and where it went (s3
    // made profile-0 the repo's recent account).
    engine.markLimited('profile-1', { resetsAt: time + 3_600_000, message: 'limit' });
    expect(route(engine, turn('s1')).profile).toBe('profile-0');
    expect(why(engine, 's1')).toBe(
      'fallback after profile-1 was limited: with a recent session of its repo and model, for the prompt cache',
    );
    // Another repo has no recent session: the best by quota.
    route(
      engine,
      turn('s4', { 'x-codex-turn-metadata': '{"session_id":"s4","workspaces":{"/other":{}}}' }),
    );
    expect(why(engine, 's4')).toBe('best by quota');
  });

  it('places a session in no repository by quota, never "with a recent session of its repo"', async () => {
    const { engine } = await inMemoryEngine({
      home: tempFolder('codex-lab-why-'),
      profileCount: 2,
      clock,
    });
    onTestFinished(() => engine.settled());
    // Codex outside a git repository: its turn metadata has no `workspaces`.
    const outside = (session: string) =>
      turn(session, {
        'x-codex-turn-metadata': `{"session_id":"${session}","model":"gpt-6.2-sol"}`,
      });
    used(engine, 'profile-0', 50);
    used(engine, 'profile-1', 10);
    expect(route(engine, outside('n1')).profile).toBe('profile-1');
    used(engine, 'profile-1', 60);
    const placed = route(engine, outside('n2'));
    expect(placed.profile).toBe('profile-0');
    expect(why(engine, 'n2')).toBe('best by quota');
    const record = engine.requests.records().find((each) => each.sessionId === 'n2');
    expect(record?.why?.rule).toBe('best');
    expect(record?.reason).not.toMatch(/repo|recent session/);
    // The pool summary has no "new sessions in …" line to give for them.
    expect(engine.recentBucket()).toBeNull();
    // A session in a repository still goes with its repository's recent session.
    const home = route(engine, turn('r1')).profile;
    used(engine, home, 70);
    expect(route(engine, turn('r2')).profile).toBe(home);
    expect(why(engine, 'r2')).toBe(
      'with a recent session of its repo and model, for the prompt cache',
    );
  });

  it('keeps the reason when a restarted router rebuilds its sessions from the request log', async () => {
    const { engine } = await inMemoryEngine({
      home: tempFolder('codex-lab-why-'),
      profileCount: 2,
      clock,
    });
    onTestFinished(() => engine.settled());
    used(engine, 'profile-0', 50);
    used(engine, 'profile-1', 10);
    route(engine, turn('s1'));
    used(engine, 'profile-1', 60);
    route(engine, turn('s2'));
    const restored = sessionsFromRequests(engine.requests.records(), {
      now: time,
      idleTtlMs: 3_600_000,
      maxSessions: 10,
    });
    expect(restored.map((session) => [session.id, routeWhyText(session.why)])).toEqual([
      ['s1', 'best by quota'],
      ['s2', 'with a recent session of its repo and model, for the prompt cache'],
    ]);
  });
});
