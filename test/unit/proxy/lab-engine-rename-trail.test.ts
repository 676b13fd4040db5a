/**
 * A request names its profile as the router's renames leave it: a ticket follows the renames made
 * after its last pick, never those made before it, whose names the pick already has.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ProfilePick, ProxyRequestInfo } from '../../../core/proxy/engine.ts';
import { inMemoryEngine } from '../../helpers/in-memory-engine.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';

const time = Date.UTC(2026, 11, 3, 12);
const clock = { now: () => time, setTimeout, clearTimeout } as never;

function turn(session: string, pin: string): ProxyRequestInfo {
  return {
    kind: 'responses',
    method: 'POST',
    path: '/codex/responses',
    headers: {
      'session-id': session,
      'x-codex-lab-profile': pin,
      'x-codex-turn-metadata': `{"session_id":"${session}","model":"gpt-6.2-sol"}`,
    },
    body: null,
  };
}

async function engineOfTwo() {
  const { engine } = await inMemoryEngine({
    home: tempFolder('codex-lab-rename-trail-'),
    profileCount: 2,
    clock,
  });
  onTestFinished(() => engine.settled());
  return engine;
}

/** Swaps the names of `profile-0` and `profile-1`, as three renames do. */
function swap(engine: Awaited<ReturnType<typeof engineOfTwo>>): void {
  engine.renameLive('profile-0', 'swap');
  engine.renameLive('profile-1', 'profile-0');
  engine.renameLive('swap', 'profile-1');
}

describe('the names a request is booked under', () => {
  it('are the pick’s own when the renames came between the request and its pick', async () => {
    const engine = await engineOfTwo();
    const ticket = engine.prepare(turn('s1', 'profile-0'));
    swap(engine);
    const pick = ticket.choose(new Map()) as ProfilePick;
    expect(pick).toMatchObject({ ok: true, profile: 'profile-0' });
    // Picked after the swap: "profile-0" is already the name its profile has now.
    expect(ticket.nameNow?.('profile-0')).toBe('profile-0');
    ticket.commit(pick, new Map());
    ticket.finish?.({ status: 200, ending: null, ttfbMs: 1, durationMs: 2, usage: null });
    expect(engine.requests.list().map((request) => request.profile)).toEqual(['profile-0']);
  });

  it('follow the renames made after the pick, to the name its profile has now', async () => {
    const engine = await engineOfTwo();
    const ticket = engine.prepare(turn('s1', 'profile-0'));
    const pick = ticket.choose(new Map()) as ProfilePick;
    ticket.commit(pick, new Map());
    swap(engine);
    expect(ticket.nameNow?.('profile-0')).toBe('profile-1');
    ticket.finish?.({ status: 200, ending: null, ttfbMs: 1, durationMs: 2, usage: null });
    expect(engine.requests.list().map((request) => request.profile)).toEqual(['profile-1']);
  });

  it('start again at each pick: a retry on another profile after a swap is not moved twice', async () => {
    const engine = await engineOfTwo();
    const ticket = engine.prepare(turn('s1', 'profile-0'));
    const first = ticket.choose(new Map()) as ProfilePick;
    expect(first.profile).toBe('profile-0');
    swap(engine);
    // The first profile failed; the retry's pick already names profiles as they are now.
    const excluded = new Map([['profile-1', 'upstream_error']]);
    const retry = ticket.choose(excluded) as ProfilePick;
    expect(retry.profile).toBe('profile-0');
    expect(ticket.nameNow?.('profile-0')).toBe('profile-0');
  });
});
