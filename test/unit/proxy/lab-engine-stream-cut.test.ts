/**
 * Streams the upstream cuts after their answer began count against the account (`ending:
 * upstream_cut` reaching the engine as the request finishes), as a run of 5xx does: Codex retries
 * the turn itself and the session's affinity would send every retry to the same account. A shared
 * outage (every account cutting) moves nothing, and a client that goes away counts against nobody.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ProxyRequestInfo } from '../../../core/proxy/engine.ts';
import type { RequestEnding } from '../../../core/view-types.ts';
import { inMemoryEngine } from '../../helpers/in-memory-engine.ts';
import { tempFolder } from '../../helpers/temp-folder.ts';
import type { LabEngine } from '../../../core/proxy/lab-engine.ts';

let time = Date.UTC(2026, 10, 30, 12);
const clock = { now: () => time, setTimeout, clearTimeout } as never;

async function engineWith(profileCount: number) {
  const { engine } = await inMemoryEngine({
    home: tempFolder('codex-lab-stream-cut-'),
    profileCount,
    clock,
  });
  onTestFinished(() => engine.settled());
  return engine;
}

function turn(session: string): ProxyRequestInfo {
  return {
    kind: 'responses',
    method: 'POST',
    path: '/codex/responses',
    headers: {
      'session-id': session,
      'x-codex-turn-metadata': `{"workspaces":{"/repo-${session}":{}},"model":"gpt-6.2-sol"}`,
    },
    body: null,
  };
}

/**
 * One turn of `session`: routed, its 200 head observed, then ended as `ending` says (given the
 * profile that served it, when a function).
 */
function streamedTurn(
  engine: LabEngine,
  session: string,
  ending: RequestEnding | null | ((profile: string) => RequestEnding | null),
  avoid?: string,
): string {
  const ticket = engine.prepare(turn(session));
  // `avoid` starts a new session elsewhere (as if that profile had failed it): the pool's
  // profiles all look alike here, so every new session would start on the first.
  const excluded = new Map<string, string>(avoid === undefined ? [] : [[avoid, 'test']]);
  const pick = ticket.choose(excluded);
  if (pick instanceof Promise || !pick.ok) throw new Error('not routed synchronously');
  ticket.commit(pick, excluded);
  engine.observe(pick.profile, 200, {});
  ticket.finish?.({
    status: 200,
    ending: typeof ending === 'function' ? ending(pick.profile) : ending,
    ttfbMs: 5,
    durationMs: 50,
    usage: null,
  });
  return pick.profile;
}

/** Ends a turn cut when `profile` served it, whole otherwise. */
const cutOn =
  (profile: string) =>
  (served: string): RequestEnding | null =>
    served === profile ? 'upstream_cut' : null;

/** Codex 0.171's pauses before its stream retries (`stream_max_retries` = 5, 200 ms doubling). */
const codexStreamRetryPausesMs = [200, 400, 800, 1_600, 3_200];

describe('streams cut mid-turn', () => {
  it('move a session off the one account that keeps cutting, within Codex’s stream retries', async () => {
    const engine = await engineWith(2);
    const home = streamedTurn(engine, 's1', null);
    const served = [streamedTurn(engine, 's1', 'upstream_cut')];
    for (const pause of codexStreamRetryPausesMs) {
      time += pause;
      const profile = streamedTurn(engine, 's1', cutOn(home));
      served.push(profile);
      if (profile !== home) break;
    }
    expect(served[0]).toBe(home);
    expect(served.at(-1)).not.toBe(home);
    // A new session does not start on it either.
    expect(streamedTurn(engine, 's2', null)).not.toBe(home);
  });

  it('count on one account while another serves (the circuit’s threshold), within Codex’s stream retries', async () => {
    const engine = await engineWith(2);
    const home = streamedTurn(engine, 's1', null);
    const other = streamedTurn(engine, 's2', null, home);
    expect(other).not.toBe(home);
    const served = [streamedTurn(engine, 's1', 'upstream_cut')];
    for (const pause of codexStreamRetryPausesMs) {
      time += pause;
      // The other account keeps serving its own session meanwhile.
      expect(streamedTurn(engine, 's2', null)).toBe(other);
      served.push(streamedTurn(engine, 's1', cutOn(home)));
    }
    expect(served[0]).toBe(home);
    // Counted cuts at 0, 1.4 s and 3 s open the circuit: the last retry goes to the other.
    expect(served).toEqual([home, home, home, home, home, other]);
  });

  it('on several sessions of one account at the same moment count once: a blip moves nobody', async () => {
    const engine = await engineWith(2);
    const sessions = ['s1', 's2', 's3'];
    const home = streamedTurn(engine, 's1', null);
    for (const session of sessions.slice(1)) expect(streamedTurn(engine, session, null)).toBe(home);
    const other = streamedTurn(engine, 'b1', null, home);
    expect(other).not.toBe(home);
    // The user's network blips: every stream open on the account is cut within a few ms (the
    // other account has none open).
    time += 100;
    for (const session of sessions) {
      time += 2;
      expect(streamedTurn(engine, session, 'upstream_cut')).toBe(home);
    }
    // Codex retries each turn; they succeed, on the account they were on.
    time += 200;
    for (const session of sessions) expect(streamedTurn(engine, session, null)).toBe(home);
    expect(engine.skippedUntil(home)).toBeNull();
  });

  it('on one account that keeps cutting after a shared outage move its session', async () => {
    const engine = await engineWith(2);
    const home = streamedTurn(engine, 's1', null);
    const other = streamedTurn(engine, 's2', null, home);
    expect(other).not.toBe(home);
    // Both accounts cut for a while: a shared outage, nothing moves.
    for (let round = 0; round < 5; round += 1) {
      time += 1_000;
      expect(streamedTurn(engine, 's1', 'upstream_cut')).toBe(home);
      expect(streamedTurn(engine, 's2', 'upstream_cut')).toBe(other);
    }
    // The other account's session goes quiet; this one's cuts go on, a second apart, until the
    // other's failures are long past and its run is the account's own.
    const served: string[] = [];
    for (let round = 0; round < 20; round += 1) {
      time += 1_000;
      served.push(streamedTurn(engine, 's1', cutOn(home)));
    }
    expect(served).toContain(other);
  });

  it('a turn that ends whole clears the account’s run of cuts', async () => {
    const engine = await engineWith(2);
    const home = streamedTurn(engine, 's1', null);
    for (let round = 0; round < 4; round += 1) {
      for (let cut = 0; cut < 3; cut += 1) {
        time += 200;
        expect(streamedTurn(engine, 's1', 'upstream_cut')).toBe(home);
      }
      time += 200;
      expect(streamedTurn(engine, 's1', null)).toBe(home);
    }
  });

  it('on every account at once are a shared outage: nothing moves', async () => {
    const engine = await engineWith(2);
    const sessions = ['s1', 's2', 's3', 's4'];
    const homes = new Map(
      sessions.map((session, index) => [
        session,
        streamedTurn(engine, session, null, index % 2 === 0 ? 'profile-1' : 'profile-0'),
      ]),
    );
    expect(new Set(homes.values()).size).toBe(2);
    for (let round = 0; round < 10; round += 1) {
      time += 300;
      for (const session of sessions) {
        expect(streamedTurn(engine, session, 'upstream_cut')).toBe(homes.get(session));
      }
    }
    time += 300;
    for (const session of sessions) {
      expect(streamedTurn(engine, session, null)).toBe(homes.get(session));
    }
  });

  it('on every account for longer than the run: the retry sent elsewhere, cut too, moves nothing', async () => {
    const engine = await engineWith(2);
    const home = streamedTurn(engine, 's1', null);
    // Every account cuts every turn; Codex keeps retrying s1 (its stream retries, then the turn).
    const served = [streamedTurn(engine, 's1', 'upstream_cut')];
    for (const pause of [...codexStreamRetryPausesMs, 3_200, 3_200]) {
      time += pause;
      served.push(streamedTurn(engine, 's1', 'upstream_cut'));
    }
    // The run rule sent one retry to the other account, whose cut says the outage is shared;
    // the session's next retries go to its own account again, and so does its turn once the
    // upstream is back.
    const other = served.find((profile) => profile !== home);
    expect(other).toBeDefined();
    expect(served.at(-1)).toBe(home);
    time += 3_200;
    expect(streamedTurn(engine, 's1', null)).toBe(home);
    expect(engine.sessions().find((session) => session.id === 's1')?.profile).toBe(home);
  });

  it('by the client going away never count against the account', async () => {
    const engine = await engineWith(2);
    const home = streamedTurn(engine, 's1', null);
    for (let attempt = 0; attempt < 20; attempt += 1) {
      time += 200;
      expect(streamedTurn(engine, 's1', 'client_gone')).toBe(home);
    }
  });
});
