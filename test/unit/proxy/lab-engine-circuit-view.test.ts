/**
 * The engine's open circuit is what the live view shows: `skippedUntil` is the breaker's own
 * time, and the pool summary built from views carrying it names the profile the engine routes a
 * new session to (the circuit open on one account, and on every account: a trial).
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ProfilePick, ProxyRequestInfo } from '../../../core/proxy/engine.ts';
import type { LabEngine } from '../../../core/proxy/lab-engine.ts';
import { poolSummaryOf } from '../../../core/service/pool-view.ts';
import { inMemoryEngine } from '../../helpers/in-memory-engine.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';
import { uiProfile } from '../../helpers/ui-lab-state.ts';

let time = Date.UTC(2026, 10, 30, 12);
const clock = { now: () => time, setTimeout, clearTimeout } as never;

function turn(session: string): ProxyRequestInfo {
  return {
    kind: 'responses',
    method: 'POST',
    path: '/codex/responses',
    headers: { 'session-id': session },
    body: null,
  };
}

function route(engine: LabEngine, session: string): ProfilePick {
  const ticket = engine.prepare(turn(session));
  const pick = ticket.choose(new Map());
  if (pick instanceof Promise || !pick.ok) throw new Error('not routed synchronously');
  ticket.commit(pick, new Map());
  return pick as ProfilePick;
}

/** The views as the service builds them: the engine's skip time, and nothing else known. */
function views(engine: LabEngine, names: string[]) {
  return names.map((name) => {
    const skipped = engine.skippedUntil(name);
    return uiProfile(name, {
      quota: { primary: null, secondary: null, updatedAt: null },
      ...(skipped === null ? {} : { skippedUntil: new Date(skipped).toISOString() }),
    });
  });
}

/** A run of 5xx on `profile` lasting the shared window (no other account tried): its circuit opens. */
function failFor10s(engine: LabEngine, profile: string): void {
  engine.noteFailure(profile, 500);
  time += 10_000;
  engine.noteFailure(profile, 500);
}

describe('the live view of an open circuit', () => {
  it('carries the breaker’s time, and the pool summary skips the profile as routing does', async () => {
    const home = tempFolder('codex-lab-circuit-view-');
    const { engine, names } = await inMemoryEngine({ home, profileCount: 2, clock });
    onTestFinished(() => engine.settled());
    expect(route(engine, 'first').profile).toBe('profile-0');
    expect(poolSummaryOf(views(engine, names), 'auto', time).next.profile).toBe('profile-0');

    failFor10s(engine, 'profile-0');
    const until = engine.skippedUntil('profile-0');
    expect(until).toBe(time + 30_000);
    expect(engine.skippedUntil('profile-1')).toBeNull();
    expect(route(engine, 'second').profile).toBe('profile-1');
    const pool = poolSummaryOf(views(engine, names), 'auto', time);
    expect(pool.next.profile).toBe('profile-1');
    expect(pool.eligible).toEqual(['profile-1']);

    // Every account failing: the router lets a new session through as a trial, and the summary
    // names that same account.
    time += 11_000;
    failFor10s(engine, 'profile-1');
    expect(engine.skippedUntil('profile-0')).not.toBeNull();
    expect(engine.skippedUntil('profile-1')).not.toBeNull();
    const trial = route(engine, 'third').profile;
    expect(poolSummaryOf(views(engine, names), 'auto', time).next.profile).toBe(trial);

    // Past its time the profile is no longer skipped: the view says so at once.
    time = until! + 1;
    expect(engine.skippedUntil('profile-0')).toBeNull();
  });

  it('dates the run of failures, one date through a failed trial, gone once it answers well', async () => {
    const home = tempFolder('codex-lab-circuit-run-');
    const { engine } = await inMemoryEngine({ home, profileCount: 2, clock });
    onTestFinished(() => engine.settled());
    expect(engine.failingSince('profile-0')).toBeNull();
    failFor10s(engine, 'profile-0');
    const opened = time;
    expect(engine.failingSince('profile-0')).toBe(opened);
    // Its time up, the router tries it again (the other account working meanwhile) and the trial
    // fails: open again, the same run.
    time = engine.skippedUntil('profile-0')! + 1;
    engine.observe('profile-1', 200, {});
    expect(engine.failingSince('profile-0')).toBe(opened);
    engine.noteFailure('profile-0', 502);
    expect(engine.skippedUntil('profile-0')).not.toBeNull();
    expect(engine.failingSince('profile-0')).toBe(opened);
    // A good answer ends the run.
    time = engine.skippedUntil('profile-0')! + 1;
    engine.observe('profile-0', 200, {});
    expect(engine.failingSince('profile-0')).toBeNull();
    expect(engine.failingSince('profile-1')).toBeNull();
  });
});
